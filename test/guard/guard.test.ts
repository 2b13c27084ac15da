/**
 * The guessing defence on its own: lockout, penalties and line pauses with their time from
 * xstate's SimulatedClock, the verifier wrapper, the audit events, and the state file.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedClock } from 'xstate';
import { Guard, type GuardSettings } from '../../src/guard/guard.js';
import { accountKey } from '../../src/guard/lockout.js';
import { maskAddress, sourceOf } from '../../src/guard/source.js';
import { clearInFile, readState, statePath } from '../../src/guard/state.js';
import { lockoutOptionsField, penaltyOptionsField } from '../../src/guard/options.js';
import { resolveOptions, type Input } from '../../src/options/fields.js';
import type { AuditEvent } from '../../src/audit/events.js';
import type { VerifyInput, VerifyOutcome } from '../../src/ras/verify.js';
import { needs } from '../helpers/tools.js';

const dir = mkdtempSync(join(tmpdir(), 'rasgate-guard-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function settings(lockout: Input<GuardSettings['lockout']> = {}, penalties: Input<GuardSettings['penalties']> = {}): GuardSettings {
  return { lockout: resolveOptions(lockoutOptionsField, lockout, 'lockout'), penalties: resolveOptions(penaltyOptionsField, penalties, 'penalties') };
}

/** A Guard on a SimulatedClock that starts at a real-looking epoch, its audit events collected. */
function rig(s: GuardSettings = settings(), o: { stateFile?: string; start?: number } = {}) {
  const clock = new SimulatedClock();
  clock.set(o.start ?? Date.UTC(2026, 0, 1));
  const events: AuditEvent[] = [];
  const paused: string[] = [];
  const resumed: string[] = [];
  const guard = new Guard({
    settings: s,
    audit: { record: (e) => void events.push(e) },
    clock,
    ...(o.stateFile ? { stateFile: o.stateFile } : {}),
    onLinePause: (p) => void paused.push(p.line),
    onLineResume: (l) => void resumed.push(l),
  });
  guard.start();
  let calls = 0;
  const inner: { answer: VerifyOutcome; asked: number } = { answer: { kind: 'bad-credentials' }, asked: 0 };
  const verify = guard.wrapVerifier(async () => {
    inner.asked++;
    return inner.answer;
  });
  const signal = new AbortController().signal;
  /** One verified attempt on a call from `address` (TCP) on line tcp0. */
  const attempt = async (user: string, password = 'wrong', address = '192.0.2.7'): Promise<VerifyOutcome> => {
    const call = `tcp0-${++calls}`;
    guard.callStarted({ line: 'tcp0', call, caller: { kind: 'tcp', address } });
    const input: VerifyInput = { user, domain: '', password, lineId: 'tcp0', callId: call };
    const r = await verify(input, signal);
    guard.callEnded({ line: 'tcp0', call, outcome: r.kind === 'accepted' ? 'accepted' : r.kind === 'refused-locked' ? 'refused-locked' : 'bad-credentials' });
    return r;
  };
  const minutes = (m: number) => clock.increment(m * 60_000);
  return { guard, clock, events, paused, resumed, inner, attempt, minutes };
}

const noPenalties = settings({}, { enabled: false });

describe('account lockout', () => {
  test('10 bad passwords lock the name for 30 minutes, on every line; the authority is not asked meanwhile', async () => {
    const r = rig(noPenalties);
    for (let i = 0; i < 9; i++) assert.equal((await r.attempt('kim')).kind, 'bad-credentials');
    assert.equal(r.inner.asked, 9);
    assert.equal((await r.attempt('kim')).kind, 'bad-credentials', 'the 10th is still asked, and locks');
    const locked = await r.attempt('KIM', 'right');
    assert.deepEqual(locked, { kind: 'refused-locked', reason: 'account-locked', rasError: 647 });
    assert.equal(r.inner.asked, 10, 'refused before the authority');
    const start = r.events.find((e) => e.event === 'lockout-start');
    assert.deepEqual(start, { event: 'lockout-start', user: 'kim', denials: 10, until: new Date(r.clock.now() + 30 * 60_000).toISOString(), source: '192.0.2.7' });
    r.minutes(29);
    assert.equal((await r.attempt('kim')).kind, 'refused-locked');
    r.minutes(1);
    r.inner.answer = { kind: 'accepted', user: 'kim', domain: 'D' };
    assert.equal((await r.attempt('kim', 'right')).kind, 'accepted', 'the lock ended by itself');
    assert.ok(r.events.some((e) => e.event === 'lockout-end' && e.why === 'expired'));
  });

  test('unknown names are counted and locked the same way; a lock says nothing about an account', async () => {
    const r = rig(noPenalties);
    for (let i = 0; i < 10; i++) await r.attempt('no-such-user');
    assert.equal((await r.attempt('no-such-user')).kind, 'refused-locked');
  });

  test('the count is forgotten 30 minutes after its last refusal; a login starts it again', async () => {
    const r = rig(noPenalties);
    for (let i = 0; i < 9; i++) await r.attempt('ann');
    r.minutes(31);
    for (let i = 0; i < 9; i++) await r.attempt('ann');
    assert.equal((await r.attempt('ann')).kind, 'bad-credentials');
    r.inner.answer = { kind: 'accepted', user: 'bo', domain: 'D' };
    for (let i = 0; i < 9; i++) {
      r.inner.answer = { kind: 'bad-credentials' };
      await r.attempt('bo');
    }
    r.inner.answer = { kind: 'accepted', user: 'bo', domain: 'D' };
    await r.attempt('bo', 'right');
    r.inner.answer = { kind: 'bad-credentials' };
    for (let i = 0; i < 9; i++) await r.attempt('bo');
    assert.equal((await r.attempt('bo')).kind, 'bad-credentials', 'counting restarted after the login');
  });

  test('one count per name: case, a domain, a UPN; but not a KELVIN SIGN for K', async () => {
    assert.equal(accountKey('Kim'), accountKey('KIM'));
    assert.equal(accountKey('kim@example.test'), accountKey('kim'));
    assert.notEqual(accountKey('\u212Aim'), accountKey('kim'));
    const r = rig(settings({ maxDenials: 3 }, { enabled: false }));
    await r.attempt('kim');
    await r.attempt('KIM');
    await r.attempt('Kim@example.test');
    assert.equal((await r.attempt('kIm')).kind, 'refused-locked');
  });

  test('lockMinutes 0: only an operator ends the lock; maxDenials 0: no lockout at all', async () => {
    const r = rig(settings({ maxDenials: 2, lockMinutes: 0 }, { enabled: false }));
    await r.attempt('lee');
    await r.attempt('lee');
    r.minutes(60 * 24 * 365);
    assert.equal((await r.attempt('lee')).kind, 'refused-locked');
    assert.equal(r.guard.unlock('LEE', { by: 'alice', via: 'console' }), true);
    assert.ok(r.events.some((e) => e.event === 'lockout-end' && e.why === 'cleared' && e.by === 'alice'));
    assert.ok(r.events.some((e) => e.event === 'operator' && e.action === 'lockout-clear' && e.target === 'LEE' && e.by === 'alice'));
    assert.equal((await r.attempt('lee')).kind, 'bad-credentials');
    const off = rig(settings({ maxDenials: 0 }, { enabled: false }));
    for (let i = 0; i < 50; i++) assert.equal((await off.attempt('x')).kind, 'bad-credentials');
  });

  test('bounded: a flood of new names forgets the oldest counts, never a lock', async () => {
    const r = rig(settings({ maxDenials: 2, maxAccounts: 100 }, { enabled: false }));
    await r.attempt('victim');
    await r.attempt('victim');
    for (let i = 0; i < 5000; i++) await r.attempt(`spray${i}`);
    assert.deepEqual(r.guard.sizes().accounts, { locked: 1, counting: 100 });
    assert.equal((await r.attempt('victim')).kind, 'refused-locked');
  });

  test('the login audit event has the names as typed, the verdict, the source, and never the password', async () => {
    const r = rig(noPenalties);
    await r.attempt('Pa55word!', 'Secret-123');
    const login = r.events.find((e) => e.event === 'login');
    assert.deepEqual(login, { event: 'login', line: 'tcp0', call: 'tcp0-1', source: '192.0.2.7', user: 'Pa55word!', domain: '', result: 'bad-credentials' });
    assert.ok(!JSON.stringify(r.events).includes('Secret-123'));
  });
});

describe('per-source penalties', () => {
  test('OpenSSH accrual: 5 s per refused login, active past 15 s, refused until it expires, then free', async () => {
    const r = rig(settings({ maxDenials: 0 }));
    const caller = { kind: 'tcp' as const, address: '198.51.100.9' };
    for (let i = 0; i < 3; i++) await r.attempt('kim', 'x', caller.address);
    assert.deepEqual(r.guard.screen('tcp0', caller), { answer: true }, '15 s is not over the threshold');
    await r.attempt('kim', 'x', caller.address);
    const verdict = r.guard.screen('tcp0', caller);
    assert.deepEqual(verdict, { answer: false, refusal: 'Too many failed logins: try again later' });
    assert.ok(r.events.some((e) => e.event === 'penalty-start' && e.source === '198.51.100.9' && e.seconds === 20 && e.reason === 'authfail'));
    r.clock.increment(19_999);
    assert.equal(r.guard.screen('tcp0', caller).answer, false);
    r.clock.increment(1);
    assert.equal(r.guard.screen('tcp0', caller).answer, true);
    assert.deepEqual(r.guard.screen('tcp0', { kind: 'tcp', address: '198.51.100.10' }), { answer: true }, 'another address is not affected');
  });

  test('refusals before a call are recorded once a minute per source, with their count', async () => {
    const r = rig(settings({ maxDenials: 0 }));
    for (let i = 0; i < 20; i++) await r.attempt('kim', 'x', '203.0.113.5');
    for (let i = 0; i < 5; i++) r.guard.screen('tcp0', { kind: 'tcp', address: '203.0.113.5' });
    r.clock.increment(60_000);
    r.guard.screen('tcp0', { kind: 'tcp', address: '203.0.113.5' });
    assert.deepEqual(r.events.filter((e) => e.event === 'refused').map((e) => (e as { count: number }).count), [1, 5]);
  });

  test('capped at maxSeconds; calls in progress when it became active still add to it', async () => {
    const r = rig(settings({ maxDenials: 0 }, { maxSeconds: 30 }));
    for (let i = 0; i < 20; i++) await r.attempt('kim', 'x', '192.0.2.1');
    assert.equal(r.guard.activePenalties()[0]!.expiresAt - r.clock.now(), 30_000);
  });

  test('IPv6 counts by /64 (configurable), IPv4 by /32; IPv4-mapped IPv6 is IPv4', () => {
    assert.equal(maskAddress('2001:db8:1:2:aaaa:bbbb:cccc:dddd', 32, 64), '2001:db8:1:2::/64');
    assert.equal(maskAddress('2001:db8::1', 32, 48), '2001:db8::/48');
    assert.equal(maskAddress('::1', 32, 128), '::1');
    assert.equal(maskAddress('192.0.2.77', 24, 64), '192.0.2.0/24');
    assert.equal(maskAddress('192.0.2.77', 32, 64), '192.0.2.77');
    assert.equal(sourceOf({ kind: 'modem', number: '+49 (30) 1234-5' }, 32, 64).key, 'tel:+493012345');
    assert.equal(sourceOf({ kind: 'modem' }, 32, 64).key, 'tel:unknown');
    assert.equal(sourceOf({ kind: 'modem', number: 'P' }, 32, 64).key, 'tel:unknown');
  });

  test('one IPv6 host with many addresses in its /64 is one source', async () => {
    const r = rig(settings({ maxDenials: 0 }));
    for (let i = 0; i < 4; i++) await r.attempt('kim', 'x', `2001:db8:0:7::${i + 1}`);
    assert.equal(r.guard.screen('tcp0', { kind: 'tcp', address: '2001:db8:0:7:ffff::9' }).answer, false);
    assert.equal(r.guard.screen('tcp0', { kind: 'tcp', address: '2001:db8:0:8::1' }).answer, true);
  });

  test('the allow-list is never penalised (addresses, prefixes, caller numbers)', async () => {
    const r = rig(settings({ maxDenials: 0 }, { allow: ['10.0.0.0/8', '::1', '+4930*'] }));
    for (let i = 0; i < 10; i++) await r.attempt('kim', 'x', '10.1.2.3');
    assert.equal(r.guard.screen('tcp0', { kind: 'tcp', address: '10.1.2.3' }).answer, true);
    assert.equal(r.guard.activePenalties().length, 0);
  });

  test('modem lines: a penalised number rings unanswered (ignore) or is answered and refused (answer); no caller ID shares one larger-threshold bucket', async () => {
    for (const mode of ['ignore', 'answer'] as const) {
      const r = rig(settings({ maxDenials: 0 }, { modemRefusal: mode }));
      const caller = { kind: 'modem' as const, number: '5550100' };
      for (let i = 0; i < 4; i++) {
        r.guard.callStarted({ line: 'sim0', call: `sim0-${i}`, caller });
        await r.guard.wrapVerifier(async () => ({ kind: 'bad-credentials' }))({ user: 'kim', domain: '', password: 'x', lineId: 'sim0', callId: `sim0-${i}` }, new AbortController().signal);
        r.guard.callEnded({ line: 'sim0', call: `sim0-${i}`, outcome: 'bad-credentials' });
      }
      assert.deepEqual(r.guard.screen('sim0', caller), mode === 'ignore' ? { answer: false, refusal: 'Too many failed logins: try again later' } : { answer: true });
      assert.equal(r.guard.refusalFor('sim0', caller), 'Too many failed logins: try again later');
    }
    const r = rig(settings({ maxDenials: 0 }));
    const anonymous = { kind: 'modem' as const };
    for (let i = 0; i < 4; i++) {
      r.guard.callStarted({ line: 'sim0', call: `a${i}`, caller: anonymous });
      await r.guard.wrapVerifier(async () => ({ kind: 'bad-credentials' }))({ user: 'kim', domain: '', password: 'x', lineId: 'sim0', callId: `a${i}` }, new AbortController().signal);
    }
    assert.equal(r.guard.screen('sim0', anonymous).answer, true, '20 s is under the unknown bucket threshold (60 s)');
  });

  test('calls without an attempt (1 s) and protocol abuse (10 s) add to the penalty', () => {
    const r = rig(settings({ maxDenials: 0 }));
    const caller = { kind: 'tcp' as const, address: '192.0.2.50' };
    for (let i = 0; i < 2; i++) {
      r.guard.callStarted({ line: 'tcp0', call: `p${i}`, caller });
      r.guard.callEnded({ line: 'tcp0', call: `p${i}`, outcome: 'protocol' });
    }
    assert.equal(r.guard.screen('tcp0', caller).answer, false, '20 s of abuse');
    const q = rig(settings({ maxDenials: 0 }));
    for (let i = 0; i < 16; i++) {
      q.guard.callStarted({ line: 'tcp0', call: `q${i}`, caller });
      q.guard.callEnded({ line: 'tcp0', call: `q${i}`, outcome: 'caller-hangup' });
    }
    assert.equal(q.guard.screen('tcp0', caller).answer, false, '16 calls without a word in under a second');
  });

  test('bounded: 100,000 distinct sources keep at most maxSources entries', async () => {
    const r = rig(settings({ maxDenials: 0 }, { maxSources: 1000 }));
    for (let i = 0; i < 100_000; i++) {
      const caller = { kind: 'tcp' as const, address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` };
      r.guard.callStarted({ line: 'tcp0', call: `c${i}`, caller });
      r.guard.callEnded({ line: 'tcp0', call: `c${i}`, outcome: 'caller-timeout' });
    }
    const s = r.guard.sizes();
    assert.ok(s.sources.pending <= 1000 && s.sources.active <= 1000, JSON.stringify(s));
    assert.equal(s.calls, 0);
  });
});

describe('per-line pause', () => {
  test('more than 10 failed calls in 10 minutes on a modem line pause it for 5 minutes; it resumes by itself', async () => {
    const r = rig(settings({ maxDenials: 0 }, { enabled: false }));
    for (let i = 0; i < 10; i++) r.guard.callEnded({ line: 'sim0', call: `w${i}`, outcome: 'caller-hangup' });
    assert.deepEqual(r.paused, []);
    r.guard.callEnded({ line: 'sim0', call: 'w10', outcome: 'caller-hangup' });
    assert.deepEqual(r.paused, ['sim0']);
    assert.equal(r.guard.pausedLines()[0]!.failedCalls, 11);
    r.minutes(5);
    r.clock.increment(1000); // the guard's tick
    assert.deepEqual(r.resumed, ['sim0']);
    assert.ok(r.events.some((e) => e.event === 'line-paused') && r.events.some((e) => e.event === 'line-resumed' && e.why === 'expired'));
  });

  test('TCP lines are not paused unless penalties.line.tcp; accepted calls never count', () => {
    const r = rig(settings({ maxDenials: 0 }, { enabled: false }));
    for (let i = 0; i < 30; i++) {
      r.guard.callStarted({ line: 'tcp0', call: `t${i}`, caller: { kind: 'tcp', address: '192.0.2.1' } });
      r.guard.callEnded({ line: 'tcp0', call: `t${i}`, outcome: 'caller-hangup' });
      r.guard.callEnded({ line: 'sim0', call: `s${i}`, outcome: 'accepted' });
    }
    assert.deepEqual(r.paused, []);
    const t = rig(settings({ maxDenials: 0 }, { enabled: false, line: { tcp: true } }));
    for (let i = 0; i < 11; i++) {
      t.guard.callStarted({ line: 'tcp0', call: `t${i}`, caller: { kind: 'tcp', address: '192.0.2.1' } });
      t.guard.callEnded({ line: 'tcp0', call: `t${i}`, outcome: 'caller-hangup' });
    }
    assert.deepEqual(t.paused, ['tcp0']);
  });
});

describe('the state file', () => {
  test('locks, penalties and pauses survive a restart; written 0600', async () => {
    const file = statePath(join(dir, `s${++n}`));
    rmSync(join(dir, `s${n}`), { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, `s${n}`), { mode: 0o700 });
    const a = rig(settings({ maxDenials: 3 }), { stateFile: file });
    for (let i = 0; i < 4; i++) await a.attempt('kim', 'x', '192.0.2.99');
    for (let i = 0; i < 11; i++) a.guard.callEnded({ line: 'sim0', call: `w${i}`, outcome: 'caller-hangup' });
    await a.guard.stop();
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const saved = readState(file);
    assert.equal(saved.accounts[0]!.name, 'kim');
    assert.equal(saved.penalties[0]!.source, '192.0.2.99');
    assert.equal(saved.lines[0]!.line, 'sim0');
    assert.ok(!readFileSync(file, 'utf8').includes('"x"'));
    const b = rig(settings({ maxDenials: 3 }), { stateFile: file, start: a.clock.now() + 10_000 });
    assert.equal((await b.attempt('KIM', 'right', '192.0.2.1')).kind, 'refused-locked');
    assert.equal(b.guard.screen('tcp0', { kind: 'tcp', address: '192.0.2.99' }).answer, false);
    assert.deepEqual(b.paused, ['sim0'], 'the pause is carried out again');
    await b.guard.stop();
  });

  test('the CLI clears through the file; the running guard applies it within a second', async () => {
    const sd = join(dir, `s${++n}`);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(sd, { mode: 0o700 });
    const file = statePath(sd);
    const r = rig(settings({ maxDenials: 2, lockMinutes: 0 }), { stateFile: file });
    await r.attempt('kim', 'x', '192.0.2.5');
    await r.attempt('kim', 'x', '192.0.2.5');
    // A lock is written at once: the clear finds it in the file.
    await r.guard.flush();
    const hit = await clearInFile(file, { what: 'account', key: accountKey('Kim') }, { by: 'root', via: 'cli' });
    assert.deepEqual(hit.accounts.map((a) => a.name), ['kim']);
    r.clock.increment(1000);
    await r.guard.flush();
    assert.equal((await r.attempt('kim', 'x', '192.0.2.6')).kind, 'bad-credentials', 'cleared');
    assert.ok(r.events.some((e) => e.event === 'lockout-end' && e.why === 'cleared' && e.by === 'root' && e.via === 'cli'));
    await r.guard.stop();
    assert.equal(readState(file).accounts.filter((a) => a.until !== undefined).length, 0);
  });

  test('a damaged file is set aside and the daemon starts empty; an unwritable folder keeps it in memory', { skip: needs('root') }, async () => {
    const sd = join(dir, `s${++n}`);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(sd, { mode: 0o700 });
    const file = statePath(sd);
    writeFileSync(file, '{"version":1,"accounts":[{"key":');
    const r = rig(settings({ maxDenials: 1 }), { stateFile: file });
    assert.ok(readdirSync(sd).some((f) => f.startsWith('lockout.json.damaged-')));
    assert.ok(!existsSync(file));
    // Read-only for everyone but root: the write fails as EROFS would; use a file in the way instead.
    rmSync(sd, { recursive: true });
    writeFileSync(sd, 'not a folder');
    await r.attempt('kim');
    r.clock.increment(1000);
    await r.guard.flush();
    assert.equal((await r.attempt('kim')).kind, 'refused-locked', 'still locked in memory');
    rmSync(sd);
    mkdirSync(sd, { mode: 0o700 });
    chmodSync(sd, 0o700);
    await r.guard.stop();
    assert.equal(readState(file).accounts[0]!.name, 'kim', 'written once it could be');
  });
});
