/** The dialogue machine through every path, time from SimulatedClock. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CallEndReason } from '../../src/serial/types.js';
import { machineHarness, settle } from './harness.js';

const SECRET = 'S3cr3t-pass!';
const ok = { kind: 'accepted' as const, user: 'Bob', domain: 'EXAMPLE' };

describe('dialogue machine', () => {
  test('success: banner, prompts, verify input, output; the password never enters context', async () => {
    const h = machineHarness();
    assert.equal(h.state, 'session.username');
    assert.deepEqual(h.log, ['tell:banner', 'prompt:user']);
    h.actor.send({ type: 'USER', user: 'bob', valid: true });
    assert.equal(h.state, 'session.password');
    h.answers.push(ok);
    h.actor.send({ type: 'PASSWORD', password: SECRET });
    assert.equal(h.state, 'session.verifying');
    assert.doesNotMatch(JSON.stringify(h.actor.getSnapshot().context), new RegExp(SECRET));
    await settle();
    assert.equal(h.state, 'success');
    assert.deepEqual(h.calls[0].input, { user: 'bob', domain: '', password: SECRET, lineId: 'tty0', callId: 'tty0-1' });
    assert.deepEqual(h.output, { kind: 'accepted', user: 'Bob', domain: 'EXAMPLE', attempts: 0, tried: [{ user: 'bob', domain: '' }] });
    assert.doesNotMatch(JSON.stringify(h.actor.getPersistedSnapshot()), new RegExp(SECRET));
    assert.equal(h.pendingTimers, 0);
    assert.deepEqual(h.errors, []);
  });

  test('wrong password, then success after the 1 s delay', async () => {
    const h = machineHarness();
    h.actor.send({ type: 'USER', user: 'bob', valid: true });
    h.actor.send({ type: 'PASSWORD', password: 'wrong' });
    await settle();
    assert.equal(h.state, 'session.rejected');
    // The delay runs before the refusal text: a caller cannot learn the result and redial at once.
    assert.ok(!h.log.includes('tell:failure'));
    h.clock.increment(999);
    assert.equal(h.state, 'session.rejected');
    assert.ok(!h.log.includes('tell:failure'));
    h.clock.increment(1);
    assert.equal(h.state, 'session.username');
    assert.deepEqual(h.log.slice(-2), ['tell:failure', 'prompt:user']);
    h.actor.send({ type: 'USER', user: 'bob', valid: true });
    h.answers.push(ok);
    h.actor.send({ type: 'PASSWORD', password: SECRET });
    await settle();
    assert.deepEqual(h.output, { kind: 'accepted', user: 'Bob', domain: 'EXAMPLE', attempts: 1, tried: [{ user: 'bob', domain: '' }, { user: 'bob', domain: '' }] });
  });

  test('all attempts fail, with growing delays (1 s, 2 s, 4 s), then FAILURE', async () => {
    const h = machineHarness();
    for (const delay of [1000, 2000, 4000]) {
      h.actor.send({ type: 'USER', user: 'bob', valid: true });
      h.actor.send({ type: 'PASSWORD', password: 'wrong' });
      await settle();
      assert.equal(h.state, 'session.rejected');
      h.clock.increment(delay - 1);
      assert.equal(h.state, 'session.rejected', `still waiting before ${delay} ms`);
      h.clock.increment(1);
    }
    assert.equal(h.state, 'failed');
    assert.deepEqual(h.output, { kind: 'bad-credentials', user: 'bob', domain: '', attempts: 3, tried: [{ user: 'bob', domain: '' }, { user: 'bob', domain: '' }, { user: 'bob', domain: '' }] });
    assert.equal(h.calls.length, 3);
    assert.equal(h.pendingTimers, 0);
  });

  test('failure delays: the last value repeats; maxAttempts is configurable', async () => {
    const h = machineHarness({ maxAttempts: 3, failureDelaysSeconds: [5] });
    for (let i = 0; i < 3; i++) {
      h.actor.send({ type: 'USER', user: 'bob', valid: true });
      h.actor.send({ type: 'PASSWORD', password: 'x' });
      await settle();
      h.clock.increment(4999);
      assert.equal(h.state, 'session.rejected');
      h.clock.increment(1);
    }
    assert.equal(h.state, 'failed');
  });

  test('field timeout: warning 10 s before, then ERROR timeout', () => {
    const h = machineHarness({ idleTimeoutSeconds: 0 });
    h.clock.increment(49_999);
    assert.ok(!h.log.some((l) => l.startsWith('tell:fieldWarning')));
    h.clock.increment(1);
    assert.ok(h.log.includes('tell:fieldWarning:10'));
    h.clock.increment(9_999);
    assert.equal(h.state, 'session.username');
    h.clock.increment(1);
    assert.equal(h.state, 'timedOut');
    assert.deepEqual(h.output, { kind: 'caller-timeout', reason: 'field:user', user: '', domain: '', attempts: 0, tried: [] });
    assert.equal(h.log.at(-1), 'tell:timeout');
    assert.equal(h.pendingTimers, 0);
  });

  test('field timeout restarts with each field', () => {
    const h = machineHarness({ idleTimeoutSeconds: 0 });
    h.clock.increment(59_000);
    h.actor.send({ type: 'USER', user: 'bob', valid: true });
    h.clock.increment(59_000);
    assert.equal(h.state, 'session.password');
    h.clock.increment(1_000);
    assert.deepEqual(h.output, { kind: 'caller-timeout', reason: 'field:password', user: 'bob', domain: '', attempts: 0, tried: [] });
  });

  test('idle timeout: a caller who sends nothing at all is let go after 30 s, before any field timeout', () => {
    const h = machineHarness();
    h.clock.increment(29_999);
    assert.equal(h.state, 'session.username');
    h.clock.increment(1);
    assert.equal(h.state, 'timedOut');
    assert.deepEqual(h.output, { kind: 'caller-timeout', reason: 'idle', user: '', domain: '', attempts: 0, tried: [] });
    assert.equal(h.log.at(-1), 'tell:timeout');
    assert.equal(h.pendingTimers, 0);
  });

  test('idle timeout: once the caller has sent anything, only the field and login timeouts apply', () => {
    const h = machineHarness();
    h.clock.increment(10_000);
    h.actor.send({ type: 'FIRST_INPUT' });
    h.clock.increment(49_999);
    assert.equal(h.state, 'session.username');
    h.clock.increment(1);
    assert.deepEqual(h.output, { kind: 'caller-timeout', reason: 'field:user', user: '', domain: '', attempts: 0, tried: [] });
  });

  test('total login time: one-minute warning, then timeout (240 s)', () => {
    const h = machineHarness({ fieldTimeoutSeconds: 0, idleTimeoutSeconds: 0 });
    h.clock.increment(179_999);
    assert.ok(!h.log.some((l) => l.startsWith('tell:loginWarning')));
    h.clock.increment(1);
    assert.ok(h.log.includes('tell:loginWarning:60'));
    h.actor.send({ type: 'USER', user: 'bob', valid: true });
    h.clock.increment(59_999);
    assert.equal(h.state, 'session.password');
    h.clock.increment(1);
    assert.deepEqual(h.output, { kind: 'caller-timeout', reason: 'login', user: 'bob', domain: '', attempts: 0, tried: [] });
    assert.equal(h.pendingTimers, 0);
  });

  describe('carrier loss in each state', () => {
    const reach: Record<string, (h: ReturnType<typeof machineHarness>) => Promise<void>> = {
      username: async () => {},
      domain: async (h) => h.actor.send({ type: 'USER', user: 'bob', valid: true }),
      password: async (h) => h.actor.send({ type: 'USER', user: 'bob', domain: 'DOM', valid: true }),
      verifying: async (h) => {
        h.answers.push('hang');
        h.actor.send({ type: 'USER', user: 'bob', domain: 'DOM', valid: true });
        h.actor.send({ type: 'PASSWORD', password: SECRET });
      },
      rejected: async (h) => {
        h.actor.send({ type: 'USER', user: 'bob', domain: 'DOM', valid: true });
        h.actor.send({ type: 'PASSWORD', password: 'wrong' });
        await settle();
      },
    };
    for (const [state, go] of Object.entries(reach)) {
      for (const reason of ['carrier-lost', 'device-lost'] as CallEndReason[]) {
        // A caller who hangs up during the failure delay is refused all the same (below).
        if (state === 'rejected') continue;
        test(`${state}: ${reason}`, async () => {
          const h = machineHarness({ askDomain: 'when-missing' });
          await go(h);
          assert.equal(h.state, `session.${state}`);
          h.actor.send({ type: 'CARRIER_LOST', reason });
          assert.equal(h.state, 'disconnected');
          assert.equal(h.output?.kind, reason === 'carrier-lost' ? 'caller-hangup' : 'device-lost');
          if (state === 'verifying') assert.equal(h.calls[0].signal.aborted, true);
          assert.equal(h.pendingTimers, 0);
          assert.equal(h.actor.getSnapshot().children.verify, undefined);
        });
      }
      test(`${state}: END`, async () => {
        const h = machineHarness({ askDomain: 'when-missing' });
        await go(h);
        h.actor.send({ type: 'END' });
        assert.equal(h.state, 'ended');
        if (state === 'verifying') assert.equal(h.calls[0].signal.aborted, true);
        assert.equal(h.pendingTimers, 0);
      });
    }
  });

  for (const reason of ['carrier-lost', 'device-lost'] as CallEndReason[]) {
    test(`${reason} during the failure delay: the attempt counts, the call ends refused (bad-credentials), nothing said`, async () => {
      const h = machineHarness();
      h.actor.send({ type: 'USER', user: 'bob', valid: true });
      h.actor.send({ type: 'PASSWORD', password: 'wrong' });
      await settle();
      h.clock.increment(500);
      h.actor.send({ type: 'CARRIER_LOST', reason });
      assert.equal(h.state, 'failed');
      assert.deepEqual(h.output, { kind: 'bad-credentials', reason: 'ended-in-delay', user: 'bob', domain: '', attempts: 1, tried: [{ user: 'bob', domain: '' }] });
      assert.ok(!h.log.includes('tell:failure'));
      assert.equal(h.pendingTimers, 0);
    });
  }

  describe('a locked account (refused before the authority was asked)', () => {
    const locked = { kind: 'refused-locked' as const, reason: 'account-locked', rasError: 647 };

    test('is heard as a wrong password: the same delay, the same text, the same next prompt', async () => {
      const h = machineHarness();
      h.answers.push(locked);
      h.actor.send({ type: 'USER', user: 'bob', valid: true });
      h.actor.send({ type: 'PASSWORD', password: 'x' });
      await settle();
      assert.equal(h.state, 'session.rejected');
      h.clock.increment(999);
      assert.ok(!h.log.some((l) => l.startsWith('tell:failure')));
      h.clock.increment(1);
      assert.deepEqual(h.log.slice(-2), ['tell:failure:account-locked', 'prompt:user']);
      assert.equal(h.state, 'session.username');
    });

    test('every attempt refused: the call ends refused-locked with raserror 647', async () => {
      const h = machineHarness();
      for (const delay of [1000, 2000, 4000]) {
        h.answers.push(locked);
        h.actor.send({ type: 'USER', user: 'bob', valid: true });
        h.actor.send({ type: 'PASSWORD', password: 'x' });
        await settle();
        h.clock.increment(delay);
      }
      assert.equal(h.state, 'failed');
      assert.deepEqual(h.output, { kind: 'refused-locked', reason: 'account-locked', rasError: 647, user: 'bob', domain: '', attempts: 3, tried: [{ user: 'bob', domain: '' }, { user: 'bob', domain: '' }, { user: 'bob', domain: '' }] });
      assert.equal(h.pendingTimers, 0);
    });

    test('the last refusal decides: a wrong password after a locked one ends bad-credentials', async () => {
      const h = machineHarness({ maxAttempts: 2 });
      h.answers.push(locked, { kind: 'bad-credentials' });
      for (let i = 0; i < 2; i++) {
        h.actor.send({ type: 'USER', user: 'bob', valid: true });
        h.actor.send({ type: 'PASSWORD', password: 'x' });
        await settle();
        h.clock.increment(4000);
      }
      assert.equal(h.output?.kind, 'bad-credentials');
      assert.equal(h.output?.rasError, undefined);
    });

    test('hanging up during the delay after a locked refusal ends refused-locked', async () => {
      const h = machineHarness();
      h.answers.push(locked);
      h.actor.send({ type: 'USER', user: 'bob', valid: true });
      h.actor.send({ type: 'PASSWORD', password: 'x' });
      await settle();
      h.actor.send({ type: 'CARRIER_LOST', reason: 'carrier-lost' });
      assert.equal(h.output?.kind, 'refused-locked');
      assert.equal(h.output?.rasError, 647);
    });
  });

  test('end during verify: the AbortSignal fires, a late answer is ignored', async () => {
    const h = machineHarness();
    h.answers.push('hang');
    h.actor.send({ type: 'USER', user: 'bob', valid: true });
    h.actor.send({ type: 'PASSWORD', password: SECRET });
    const { signal } = h.calls[0];
    assert.equal(signal.aborted, false);
    h.actor.send({ type: 'END' });
    assert.equal(signal.aborted, true);
    assert.deepEqual(h.output, { kind: 'caller-hangup', ended: true, user: 'bob', domain: '', attempts: 0, tried: [{ user: 'bob', domain: '' }] });
    await settle();
    assert.deepEqual(h.errors, []);
  });

  test('PPP frame start at the user-name prompt', () => {
    const h = machineHarness();
    const frame = Uint8Array.of(0x7e, 0xff, 0x7d, 0x23, 0xc0, 0x21);
    h.actor.send({ type: 'PPP', frame });
    assert.equal(h.state, 'ppp');
    assert.deepEqual(h.output, { kind: 'ppp', frame, user: '', domain: '', attempts: 0, tried: [] });
    assert.equal(h.pendingTimers, 0);
  });

  test('PPP is ignored outside the user-name prompt', () => {
    const h = machineHarness();
    h.actor.send({ type: 'USER', user: 'bob', valid: true });
    h.actor.send({ type: 'PPP', frame: new Uint8Array(6) });
    assert.equal(h.state, 'session.password');
  });

  describe('domain', () => {
    test('typed with the user name: no prompt', async () => {
      const h = machineHarness({ askDomain: 'when-missing', defaultDomain: 'DEF' });
      h.actor.send({ type: 'USER', user: 'bob', domain: 'DOM', valid: true });
      assert.equal(h.state, 'session.password');
      h.actor.send({ type: 'PASSWORD', password: 'x' });
      assert.equal(h.calls[0].input.domain, 'DOM');
    });
    test('when-missing: prompted; an empty answer takes the default', () => {
      const h = machineHarness({ askDomain: 'when-missing', defaultDomain: 'DEF' });
      h.actor.send({ type: 'USER', user: 'bob', valid: true });
      assert.equal(h.state, 'session.domain');
      assert.equal(h.log.at(-1), 'prompt:domain');
      h.actor.send({ type: 'DOMAIN', domain: '' });
      h.actor.send({ type: 'PASSWORD', password: 'x' });
      assert.equal(h.calls[0].input.domain, 'DEF');
    });
    test('when-missing: the answer wins', () => {
      const h = machineHarness({ askDomain: 'when-missing', defaultDomain: 'DEF' });
      h.actor.send({ type: 'USER', user: 'bob', valid: true });
      h.actor.send({ type: 'DOMAIN', domain: 'OTHER' });
      h.actor.send({ type: 'PASSWORD', password: 'x' });
      assert.equal(h.calls[0].input.domain, 'OTHER');
    });
    test('always: prompted even when typed; empty keeps the typed one', () => {
      const h = machineHarness({ askDomain: 'always', defaultDomain: 'DEF' });
      h.actor.send({ type: 'USER', user: 'bob', domain: 'TYPED', valid: true });
      assert.equal(h.state, 'session.domain');
      h.actor.send({ type: 'DOMAIN', domain: '' });
      h.actor.send({ type: 'PASSWORD', password: 'x' });
      assert.equal(h.calls[0].input.domain, 'TYPED');
    });
    test('never: the default domain, no prompt', () => {
      const h = machineHarness({ askDomain: 'never', defaultDomain: 'DEF' });
      h.actor.send({ type: 'USER', user: 'bob', valid: true });
      assert.equal(h.state, 'session.password');
      h.actor.send({ type: 'PASSWORD', password: 'x' });
      assert.equal(h.calls[0].input.domain, 'DEF');
    });
    test('an invalid login (domain too long) is asked for a password, then rejected without verify', async () => {
      const h = machineHarness();
      h.actor.send({ type: 'USER', user: 'bob', domain: 'X'.repeat(16), valid: false });
      assert.equal(h.state, 'session.password');
      h.actor.send({ type: 'PASSWORD', password: 'x' });
      assert.equal(h.state, 'session.rejected');
      assert.equal(h.calls.length, 0);
    });
  });

  test('authority error: ERROR outcome with the verifier code, the error message said', async () => {
    const h = machineHarness();
    h.answers.push({ kind: 'outage', rasError: 691, reason: 'ldap down' });
    h.actor.send({ type: 'USER', user: 'bob', valid: true });
    h.actor.send({ type: 'PASSWORD', password: 'x' });
    await settle();
    assert.equal(h.state, 'error');
    assert.deepEqual(h.output, { kind: 'outage', user: 'bob', domain: '', rasError: 691, reason: 'ldap down', attempts: 0, tried: [{ user: 'bob', domain: '' }] });
    assert.equal(h.log.at(-1), 'tell:error');
  });

  test('verifier throws: ERROR outcome without a code (src maps it), no crash', async () => {
    const h = machineHarness();
    h.answers.push('throw');
    h.actor.send({ type: 'USER', user: 'bob', valid: true });
    h.actor.send({ type: 'PASSWORD', password: 'x' });
    await settle();
    assert.equal(h.state, 'error');
    assert.equal(h.output?.kind, 'internal-error');
    assert.equal(h.output?.rasError, undefined);
    assert.deepEqual(h.errors, []);
  });

  for (const [reason, rasError] of [['account-disabled', 647], ['password-expired', 648], ['no-dialin-permission', 649], ['logon-hours', 646], ['account-expired', 708]] as const) {
    test(`denied (${reason}): ERROR ${rasError}, reason message said, no retry`, async () => {
      const h = machineHarness();
      h.answers.push({ kind: 'policy', rasError, reason });
      h.actor.send({ type: 'USER', user: 'bob', valid: true });
      h.actor.send({ type: 'PASSWORD', password: 'x' });
      await settle();
      assert.equal(h.state, 'denied');
      assert.deepEqual(h.output, { kind: 'policy', user: 'bob', domain: '', rasError, reason, attempts: 0, tried: [{ user: 'bob', domain: '' }] });
      assert.equal(h.log.at(-1), `tell:denied:${reason}`);
    });
  }

  test('^C goes back to the user-name prompt without counting an attempt', () => {
    const h = machineHarness();
    h.actor.send({ type: 'USER', user: 'bob', valid: true });
    h.actor.send({ type: 'ABORT' });
    assert.equal(h.state, 'session.username');
    assert.equal(h.actor.getSnapshot().context.attempts, 0);
  });

  test('an empty user name asks again', () => {
    const h = machineHarness();
    h.actor.send({ type: 'USER', user: '', valid: true });
    assert.equal(h.state, 'session.username');
    assert.deepEqual(h.log, ['tell:banner', 'prompt:user', 'prompt:user']);
  });
});
