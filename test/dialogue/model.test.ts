/**
 * Model-based test (xstate/graph): an abstract model of the dialogue WITHOUT invoke/after (which
 * xstate/graph refuses) generates every simple path; each path drives the REAL machine, with the
 * model's time and verify steps turned into SimulatedClock increments and verify answers, and the
 * real state is checked after every step.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assign, setup } from 'xstate';
import { createTestModel } from 'xstate/graph';
import { machineHarness, settle } from './harness.js';

const MAX_ATTEMPTS = 2;

/** The call can end under every non-final state. */
const GONE = { CARRIER_LOST: 'disconnected', END: 'ended' } as const;

const model = setup({
  types: {
    context: {} as { attempts: number },
    events: {} as
      | { type: 'TYPE_USER' }
      | { type: 'TYPE_USER_WITH_DOMAIN' }
      | { type: 'TYPE_DOMAIN' }
      | { type: 'PASSWORD_RIGHT' }
      | { type: 'PASSWORD_WRONG' }
      | { type: 'AUTHORITY_DOWN' }
      | { type: 'ACCOUNT_DISABLED' }
      | { type: 'DELAY_PASSES' }
      | { type: 'FIELD_TIMES_OUT' }
      | { type: 'ABORT' }
      | { type: 'PPP' }
      | { type: 'CARRIER_LOST' }
      | { type: 'END' },
  },
}).createMachine({
  id: 'model',
  context: { attempts: 0 },
  initial: 'username',
  states: {
    username: {
      on: { ...GONE, TYPE_USER: 'domain', TYPE_USER_WITH_DOMAIN: 'password', PPP: 'ppp', FIELD_TIMES_OUT: 'timedOut' },
    },
    domain: { on: { ...GONE, TYPE_DOMAIN: 'password', ABORT: 'username', FIELD_TIMES_OUT: 'timedOut' } },
    password: {
      on: {
        ...GONE,
        PASSWORD_RIGHT: 'success',
        PASSWORD_WRONG: { target: 'rejected', actions: assign({ attempts: ({ context }) => context.attempts + 1 }) },
        AUTHORITY_DOWN: 'error',
        ACCOUNT_DISABLED: 'denied',
        ABORT: 'username',
        FIELD_TIMES_OUT: 'timedOut',
      },
    },
    rejected: {
      // A caller who hangs up during the failure delay is refused all the same.
      on: { ...GONE, CARRIER_LOST: 'failed', DELAY_PASSES: [{ guard: ({ context }) => context.attempts < MAX_ATTEMPTS, target: 'username' }, { target: 'failed' }] },
    },
    success: { type: 'final' },
    failed: { type: 'final' },
    error: { type: 'final' },
    denied: { type: 'final' },
    timedOut: { type: 'final' },
    disconnected: { type: 'final' },
    ended: { type: 'final' },
    ppp: { type: 'final' },
  },
});

/** Model state -> the real machine's state value. */
const REAL: Record<string, string> = {
  username: 'session.username',
  domain: 'session.domain',
  password: 'session.password',
  rejected: 'session.rejected',
  success: 'success',
  failed: 'failed',
  error: 'error',
  denied: 'denied',
  timedOut: 'timedOut',
  disconnected: 'disconnected',
  ended: 'ended',
  ppp: 'ppp',
};

type H = ReturnType<typeof machineHarness>;
const EXEC: Record<string, (h: H) => Promise<void> | void> = {
  TYPE_USER: (h) => h.actor.send({ type: 'USER', user: 'bob', valid: true }),
  TYPE_USER_WITH_DOMAIN: (h) => h.actor.send({ type: 'USER', user: 'bob', domain: 'DOM', valid: true }),
  TYPE_DOMAIN: (h) => h.actor.send({ type: 'DOMAIN', domain: 'DOM' }),
  PASSWORD_RIGHT: async (h) => {
    h.answers.push({ kind: 'accepted', user: 'bob', domain: 'DOM' });
    h.actor.send({ type: 'PASSWORD', password: 'pw' });
    await settle();
  },
  PASSWORD_WRONG: async (h) => {
    h.answers.push({ kind: 'bad-credentials' });
    h.actor.send({ type: 'PASSWORD', password: 'nope' });
    await settle();
  },
  AUTHORITY_DOWN: async (h) => {
    h.answers.push({ kind: 'outage', rasError: 691, reason: 'down' });
    h.actor.send({ type: 'PASSWORD', password: 'pw' });
    await settle();
  },
  ACCOUNT_DISABLED: async (h) => {
    h.answers.push({ kind: 'policy', rasError: 647, reason: 'account-disabled' });
    h.actor.send({ type: 'PASSWORD', password: 'pw' });
    await settle();
  },
  DELAY_PASSES: (h) => h.clock.increment(4_000),
  FIELD_TIMES_OUT: (h) => h.clock.increment(60_000),
  ABORT: (h) => h.actor.send({ type: 'ABORT' }),
  PPP: (h) => h.actor.send({ type: 'PPP', frame: Uint8Array.of(0x7e, 0xff, 0x7d, 0x23, 0xc0, 0x21) }),
  CARRIER_LOST: (h) => h.actor.send({ type: 'CARRIER_LOST', reason: 'carrier-lost' }),
  END: (h) => h.actor.send({ type: 'END' }),
};

describe('dialogue machine against its abstract model (xstate/graph)', () => {
  const paths = createTestModel(model).getSimplePaths();

  test('the model\'s paths visit every state', () => {
    const reached = new Set(paths.flatMap((p) => p.steps.map((s) => String(s.state.value))));
    assert.deepEqual([...reached].sort(), Object.keys(REAL).sort());
    assert.ok(paths.length > 20, `${paths.length} paths`);
  });

  for (const path of paths) {
    test(path.description, async () => {
      // No login time limit here: paths are long; the login timer has its own tests.
      const h = machineHarness({ askDomain: 'when-missing', maxAttempts: MAX_ATTEMPTS, loginTimeoutSeconds: 0, failureDelaysSeconds: [1, 4] });
      assert.equal(h.state, REAL.username);
      for (const step of path.steps) {
        if ((step.event.type as string) === 'xstate.init') continue;
        await EXEC[step.event.type](h);
        assert.equal(h.state, REAL[String(step.state.value)], `after ${step.event.type}`);
      }
      if (h.actor.getSnapshot().status === 'done') assert.equal(h.pendingTimers, 0);
      assert.deepEqual(h.errors, []);
    });
  }
});
