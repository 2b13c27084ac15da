/**
 * machines/ntlmAccept.ts on its own: every path through the legs with stub work supplied by
 * .provide() and time from SimulatedClock (no sleeps). Every case runs twice: in an xstate actor
 * (how an observed context runs) and on the machine's transition function through MachineRun
 * (src/ntlm/runner.ts, how every other context runs); both must behave alike.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createActor, fromPromise, setup, SimulatedClock, type AnyActorRef, type Observer, type SnapshotFrom } from 'xstate';
import { ntlmAcceptMachine, type AcceptOutcome, type IssuedChallenge, type NtlmAcceptEvent, type NtlmAcceptMachine } from '../../machines/ntlmAccept.js';
import { AcceptError } from '../../src/ntlm/context.js';
import { MachineHost } from '../../src/ntlm/runner.js';
import { SEC_E_CONTEXT_EXPIRED, SEC_E_INTERNAL_ERROR, SEC_E_INVALID_HANDLE, SEC_E_INVALID_TOKEN, SEC_E_LOGON_DENIED, SEC_E_NO_AUTHENTICATING_AUTHORITY, SEC_E_OK } from '../../src/ntlm/constants.js';

const LIFETIME = 30 * 60_000;
const AUTH_TIMEOUT = 15_000;
const params = { contextReq: 0 };
const NEG = Buffer.from('negotiate');
const AUTH = Buffer.from('authenticate');
const input = { challengeLifetimeMs: LIFETIME, authorityTimeoutMs: AUTH_TIMEOUT };

const issued: IssuedChallenge = { challengeToken: Buffer.from('challenge'), negotiateToken: NEG, serverChallenge: Buffer.alloc(8, 1), flags: 0, sentAvPairs: new Map() };
const ok: AcceptOutcome = { status: SEC_E_OK, reason: 'ok', user: 'alice', domain: 'RASGATE', session: { user: 'alice', domain: 'RASGATE', workstation: 'WS', flags: 0 } };

type Executor = 'actor' | 'run';
const EXECUTORS: Executor[] = ['actor', 'run'];

interface Stubs {
  issue?: (signal: AbortSignal) => Promise<IssuedChallenge>;
  verify?: (signal: AbortSignal) => Promise<AcceptOutcome>;
  /** The `step` a NEGOTIATE / AUTHENTICATE carries when a test sends none (default: ASK_AUTHORITY). */
  prepare?: () => object;
  check?: () => object;
}

/** An event as tests write it: NEGOTIATE / AUTHENTICATE may leave out their step. */
type TestEvent = NtlmAcceptEvent | { type: 'NEGOTIATE' | 'AUTHENTICATE'; token: Buffer; params: typeof params };
const ASK = { type: 'ASK_AUTHORITY' };

interface Started {
  send(event: TestEvent): void;
  snap(): SnapshotFrom<NtlmAcceptMachine>;
  clock: SimulatedClock;
  errors: unknown[];
  invoked: string[];
  /** Resolves when a snapshot satisfies `pred` (now or later). */
  until(pred: (snap: SnapshotFrom<NtlmAcceptMachine>) => boolean): Promise<void>;
}

/** The machine with stub work: asking actions run the stubs and send their answer back to `self`. */
function provided(stubs: Stubs, invoked: string[]) {
  const asking = new WeakMap<object, AbortController>();
  const ask = (self: Pick<AnyActorRef, 'send'>, name: string, work: (signal: AbortSignal) => Promise<object>) => {
    invoked.push(name);
    const controller = new AbortController();
    asking.set(self, controller);
    work(controller.signal).then(
      (event) => !controller.signal.aborted && self.send(event as NtlmAcceptEvent),
      (error: unknown) => !controller.signal.aborted && self.send({ type: 'LEG_FAILED', error }),
    );
  };
  return ntlmAcceptMachine.provide({
    actions: {
      issueChallenge: ({ self }) => ask(self, 'issueChallenge', async (signal) => ({ type: 'ISSUED', issued: await (stubs.issue ?? (async () => issued))(signal) })),
      verifyAuthenticate: ({ self }) => ask(self, 'verifyAuthenticate', async (signal) => ({ type: 'VERDICT', outcome: await (stubs.verify ?? (async () => ok))(signal) })),
      stopAsking: ({ self }) => asking.get(self)?.abort(),
    },
  });
}

function startOn(executor: Executor, machine: NtlmAcceptMachine, stubs: Stubs = {}): Started {
  const clock = new SimulatedClock();
  const errors: unknown[] = [];
  const waiters = new Set<{ pred: (s: SnapshotFrom<NtlmAcceptMachine>) => boolean; resolve: () => void }>();
  const observer: Observer<SnapshotFrom<NtlmAcceptMachine>> = {
    next: (snap) => {
      for (const w of waiters) {
        if (!w.pred(snap)) continue;
        waiters.delete(w);
        w.resolve();
      }
    },
    error: (e) => errors.push(e),
  };
  let target: { send(e: NtlmAcceptEvent): void; getSnapshot(): SnapshotFrom<NtlmAcceptMachine> };
  if (executor === 'actor') {
    const actor = createActor(machine, { clock, input });
    actor.subscribe(observer);
    actor.start();
    target = actor;
  } else {
    target = new MachineHost(machine, input, clock).run(observer);
  }
  const withStep = (e: TestEvent): NtlmAcceptEvent => {
    if ((e.type !== 'NEGOTIATE' && e.type !== 'AUTHENTICATE') || 'step' in e) return e as NtlmAcceptEvent;
    const step = (e.type === 'NEGOTIATE' ? stubs.prepare : stubs.check)?.() ?? ASK;
    return { ...e, step } as NtlmAcceptEvent;
  };
  return {
    send: (e) => target.send(withStep(e)),
    snap: () => target.getSnapshot(),
    clock,
    errors,
    invoked: [],
    until: (pred) => (pred(target.getSnapshot()) ? Promise.resolve() : new Promise<void>((resolve) => waiters.add({ pred, resolve }))),
  };
}

function start(executor: Executor, stubs: Stubs = {}): Started {
  const invoked: string[] = [];
  const s = startOn(executor, provided(stubs, invoked), stubs);
  s.invoked = invoked;
  return s;
}

const rest = (s: Started) => s.until((snap) => snap.status !== 'active' || snap.hasTag('continueNeeded'));
const done = (s: Started) => s.until((snap) => snap.status === 'done');
const never = <T>() => new Promise<T>(() => {});

async function toChallengeSent(s: Started) {
  s.send({ type: 'NEGOTIATE', token: NEG, params });
  await rest(s);
  assert.equal(s.snap().value, 'challengeSent');
  assert.ok(s.snap().hasTag('continueNeeded'), 'the acceptor finds the CHALLENGE by this tag');
}

function assertFinishedClean(s: Started) {
  const snap = s.snap();
  assert.equal(snap.status, 'done');
  assert.deepEqual(Object.keys(snap.children), [], 'finished context leaves no children');
  assert.equal((snap.context as { negotiate?: unknown }).negotiate, undefined, 'tokens dropped');
  assert.equal((snap.context as { authenticate?: unknown }).authenticate, undefined, 'tokens dropped');
  assert.deepEqual(s.errors, []);
}

/** A test per executor. */
function both(name: string, fn: (executor: Executor) => void | Promise<void>) {
  for (const executor of EXECUTORS) test(`${name} [${executor}]`, () => fn(executor));
}

both('negotiate -> challengeSent -> authenticate -> established (SEC_E_OK)', async (x) => {
  const s = start(x);
  assert.equal(s.snap().value, 'awaitingNegotiate');
  await toChallengeSent(s);
  assert.equal(s.snap().context.issued, issued);
  s.send({ type: 'AUTHENTICATE', token: AUTH, params });
  await done(s);
  assert.equal(s.snap().value, 'established');
  assert.deepEqual(s.snap().output, ok);
  assertFinishedClean(s);
});

both('verify denies -> failed with SEC_E_LOGON_DENIED and the DenyReason', async (x) => {
  const s = start(x, { verify: async () => ({ status: SEC_E_LOGON_DENIED, reason: 'account-disabled', denyReason: 'account-disabled' }) });
  await toChallengeSent(s);
  s.send({ type: 'AUTHENTICATE', token: AUTH, params });
  await done(s);
  assert.equal(s.snap().value, 'failed');
  assert.equal(s.snap().output!.status, SEC_E_LOGON_DENIED);
  assert.equal(s.snap().output!.denyReason, 'account-disabled');
  assertFinishedClean(s);
});

both('issueChallenge throws an AcceptError -> failed with its status (invalid NEGOTIATE)', async (x) => {
  const s = start(x, { issue: async () => { throw new AcceptError(SEC_E_INVALID_TOKEN, 'NTLM_BAD_SIGNATURE'); } });
  s.send({ type: 'NEGOTIATE', token: NEG, params });
  await done(s);
  assert.deepEqual(s.snap().output, { status: SEC_E_INVALID_TOKEN, reason: 'NTLM_BAD_SIGNATURE' });
  assertFinishedClean(s);
});

both('an actor throwing anything else -> SEC_E_INTERNAL_ERROR, never an actor crash', async (x) => {
  const s = start(x, { verify: async () => { throw new TypeError('bug'); } });
  await toChallengeSent(s);
  s.send({ type: 'AUTHENTICATE', token: AUTH, params });
  await done(s);
  assert.equal(s.snap().output!.status, SEC_E_INTERNAL_ERROR);
  assertFinishedClean(s);
});

both('relay authority throws while issuing -> its status (no authenticating authority)', async (x) => {
  const s = start(x, { issue: async () => { throw new AcceptError(SEC_E_NO_AUTHENTICATING_AUTHORITY, 'authority-error'); } });
  s.send({ type: 'NEGOTIATE', token: NEG, params });
  await done(s);
  assert.equal(s.snap().output!.status, SEC_E_NO_AUTHENTICATING_AUTHORITY);
  assertFinishedClean(s);
});

both('challenge expires after challengeLifetimeMs (SimulatedClock) -> SEC_E_CONTEXT_EXPIRED', async (x) => {
  const s = start(x);
  await toChallengeSent(s);
  s.clock.increment(LIFETIME - 1);
  assert.equal(s.snap().value, 'challengeSent');
  s.clock.increment(1);
  assert.equal(s.snap().value, 'failed');
  assert.deepEqual(s.snap().output, { status: SEC_E_CONTEXT_EXPIRED, reason: 'challenge-expired' });
  s.send({ type: 'AUTHENTICATE', token: AUTH, params }); // too late: ignored by a finished actor
  assert.equal(s.snap().output!.status, SEC_E_CONTEXT_EXPIRED);
  assertFinishedClean(s);
});

both('authority silent past authorityTimeoutMs while verifying -> SEC_E_NO_AUTHENTICATING_AUTHORITY, its signal aborted', async (x) => {
  let seen: AbortSignal | undefined;
  const s = start(x, { verify: (signal) => { seen = signal; return never(); } });
  await toChallengeSent(s);
  s.send({ type: 'AUTHENTICATE', token: AUTH, params });
  assert.equal(s.snap().value, 'verifying');
  assert.ok(s.snap().hasTag('askingAuthority'));
  s.clock.increment(AUTH_TIMEOUT);
  assert.deepEqual(s.snap().output, { status: SEC_E_NO_AUTHENTICATING_AUTHORITY, reason: 'authority-timeout' });
  assert.equal(seen?.aborted, true);
  assertFinishedClean(s);
});

both('relay silent past authorityTimeoutMs while issuing -> SEC_E_NO_AUTHENTICATING_AUTHORITY', async (x) => {
  const s = start(x, { issue: () => never() });
  s.send({ type: 'NEGOTIATE', token: NEG, params });
  assert.equal(s.snap().value, 'issuingChallenge');
  s.clock.increment(AUTH_TIMEOUT);
  assert.equal(s.snap().output!.status, SEC_E_NO_AUTHENTICATING_AUTHORITY);
  assertFinishedClean(s);
});

both('AUTHENTICATE before NEGOTIATE -> SEC_E_INVALID_TOKEN', (x) => {
  const s = start(x);
  s.send({ type: 'AUTHENTICATE', token: AUTH, params });
  assert.deepEqual(s.snap().output, { status: SEC_E_INVALID_TOKEN, reason: 'authenticate-before-negotiate' });
  assertFinishedClean(s);
});

both('a second NEGOTIATE after the CHALLENGE -> SEC_E_INVALID_TOKEN (out of sequence)', async (x) => {
  const s = start(x);
  await toChallengeSent(s);
  s.send({ type: 'NEGOTIATE', token: NEG, params });
  assert.deepEqual(s.snap().output, { status: SEC_E_INVALID_TOKEN, reason: 'out-of-sequence' });
  assertFinishedClean(s);
});

both('tokens arriving while an actor runs -> out of sequence, the running actor is aborted', async (x) => {
  let seen: AbortSignal | undefined;
  const s = start(x, { issue: (signal) => { seen = signal; return never(); } });
  s.send({ type: 'NEGOTIATE', token: NEG, params });
  s.send({ type: 'AUTHENTICATE', token: AUTH, params });
  assert.equal(s.snap().output!.reason, 'out-of-sequence');
  assert.equal(seen?.aborted, true);
  assertFinishedClean(s);
});

for (const where of ['awaitingNegotiate', 'challengeSent', 'verifying'] as const) {
  both(`ABORT in ${where} -> aborted (SEC_E_INVALID_HANDLE), running work aborted`, async (x) => {
    let seen: AbortSignal | undefined;
    const s = start(x, { verify: (signal) => { seen = signal; return never(); } });
    if (where !== 'awaitingNegotiate') await toChallengeSent(s);
    if (where === 'verifying') s.send({ type: 'AUTHENTICATE', token: AUTH, params });
    assert.equal(s.snap().value, where);
    s.send({ type: 'ABORT' });
    assert.equal(s.snap().value, 'aborted');
    assert.equal(s.snap().output!.status, SEC_E_INVALID_HANDLE);
    if (where === 'verifying') assert.equal(seen?.aborted, true);
    assertFinishedClean(s);
  });
}

both('finished timers are cancelled: no expiry fires after establishment', async (x) => {
  const s = start(x);
  await toChallengeSent(s);
  s.send({ type: 'AUTHENTICATE', token: AUTH, params });
  await done(s);
  s.clock.increment(LIFETIME * 2);
  assert.equal(s.snap().value, 'established');
  assert.equal(s.snap().output!.status, SEC_E_OK);
});

both('defaults without .provide() fail closed (SEC_E_INTERNAL_ERROR), never established', async (x) => {
  const s = startOn(x, ntlmAcceptMachine);
  s.send({ type: 'NEGOTIATE', token: NEG, params });
  await done(s);
  assert.equal(s.snap().output!.status, SEC_E_INTERNAL_ERROR);
});

both('a failed leg never ends as a success: LEG_FAILED with status 0, a VERDICT of SEC_E_OK without a session', async (x) => {
  const zero = start(x, { prepare: () => ({ type: 'LEG_FAILED', error: { status: 0, reason: 'ok' } }) });
  zero.send({ type: 'NEGOTIATE', token: NEG, params });
  assert.deepEqual(zero.snap().output, { status: SEC_E_INTERNAL_ERROR, reason: 'internal-error' });
  const continued = start(x, { prepare: () => ({ type: 'LEG_FAILED', error: { status: 0x00090312, reason: 'continue' } }) });
  continued.send({ type: 'NEGOTIATE', token: NEG, params });
  assert.equal(continued.snap().output!.status, SEC_E_INTERNAL_ERROR, 'SEC_I_* is no failure code either');
  const hollow = start(x, { prepare: () => ({ type: 'ISSUED', issued }), check: () => ({ type: 'VERDICT', outcome: { status: SEC_E_OK, reason: 'ok' } }) });
  hollow.send({ type: 'NEGOTIATE', token: NEG, params });
  hollow.send({ type: 'AUTHENTICATE', token: AUTH, params });
  assert.equal(hollow.snap().value, 'failed');
  assert.equal(hollow.snap().output!.status, SEC_E_INTERNAL_ERROR);
  const asked = start(x, { verify: async () => { throw { status: 0 }; } });
  await toChallengeSent(asked);
  asked.send({ type: 'AUTHENTICATE', token: AUTH, params });
  await done(asked);
  assert.equal(asked.snap().output!.status, SEC_E_INTERNAL_ERROR);
});

/** The synchronous path (verifier authorities): the legs carry their results, nothing is asked. */
function startSync(x: Executor, results: { issue?: () => object; check?: () => object }) {
  return start(x, { prepare: results.issue ?? (() => ({ type: 'ISSUED', issued })), check: results.check ?? (() => ({ type: 'VERDICT', outcome: ok })) });
}

both('synchronous legs: NEGOTIATE(ISSUED) then AUTHENTICATE(VERDICT) settle within each send, nothing asked', (x) => {
  const s = startSync(x, {});
  s.send({ type: 'NEGOTIATE', token: NEG, params });
  assert.equal(s.snap().value, 'challengeSent', 'rests in the same macrostep');
  assert.equal(s.snap().context.issued, issued);
  s.send({ type: 'AUTHENTICATE', token: AUTH, params });
  assert.equal(s.snap().value, 'established');
  assert.deepEqual(s.snap().output, ok);
  assert.deepEqual(s.invoked, []);
  assertFinishedClean(s);
});

both('synchronous legs: a denied VERDICT fails with it; LEG_FAILED keeps an AcceptError status', (x) => {
  const denied = startSync(x, { check: () => ({ type: 'VERDICT', outcome: { status: SEC_E_LOGON_DENIED, reason: 'bad-credentials', denyReason: 'bad-credentials' } }) });
  denied.send({ type: 'NEGOTIATE', token: NEG, params });
  denied.send({ type: 'AUTHENTICATE', token: AUTH, params });
  assert.equal(denied.snap().value, 'failed');
  assert.equal(denied.snap().output!.denyReason, 'bad-credentials');
  assertFinishedClean(denied);

  const bad = startSync(x, { issue: () => ({ type: 'LEG_FAILED', error: new AcceptError(SEC_E_INVALID_TOKEN, 'NTLM_BAD_SIGNATURE') }) });
  bad.send({ type: 'NEGOTIATE', token: NEG, params });
  assert.deepEqual(bad.snap().output, { status: SEC_E_INVALID_TOKEN, reason: 'NTLM_BAD_SIGNATURE' });
  assertFinishedClean(bad);

  const bug = startSync(x, { check: () => ({ type: 'LEG_FAILED', error: new TypeError('bug') }) });
  bug.send({ type: 'NEGOTIATE', token: NEG, params });
  bug.send({ type: 'AUTHENTICATE', token: AUTH, params });
  assert.equal(bug.snap().output!.status, SEC_E_INTERNAL_ERROR);
  assertFinishedClean(bug);
});

both('a leg whose step is ASK_AUTHORITY: the authority is asked, with its timeout', async (x) => {
  const s = startSync(x, { check: () => ({ type: 'ASK_AUTHORITY' }) });
  s.send({ type: 'NEGOTIATE', token: NEG, params });
  s.send({ type: 'AUTHENTICATE', token: AUTH, params });
  assert.equal(s.snap().value, 'verifying');
  await done(s);
  assert.deepEqual(s.invoked, ['verifyAuthenticate']);
  assert.equal(s.snap().value, 'established');
  assertFinishedClean(s);

  const relay = startSync(x, { issue: () => ({ type: 'ASK_AUTHORITY' }) });
  relay.send({ type: 'NEGOTIATE', token: NEG, params });
  assert.equal(relay.snap().value, 'issuingChallenge');
  await rest(relay);
  assert.deepEqual(relay.invoked, ['issueChallenge']);
  assert.equal(relay.snap().value, 'challengeSent');
});

both('synchronous challenge still expires (SimulatedClock) -> SEC_E_CONTEXT_EXPIRED', (x) => {
  const s = startSync(x, {});
  s.send({ type: 'NEGOTIATE', token: NEG, params });
  s.clock.increment(LIFETIME - 1);
  assert.equal(s.snap().value, 'challengeSent');
  s.clock.increment(1);
  assert.deepEqual(s.snap().output, { status: SEC_E_CONTEXT_EXPIRED, reason: 'challenge-expired' });
  assertFinishedClean(s);
});

test('MachineRun refuses what needs an actor (an invoke) through its error observer, never silently', () => {
  const withInvoke = setup({ actors: { work: fromPromise(async () => 1) } }).createMachine({
    id: 'needsActor',
    initial: 'idle',
    states: { idle: { on: { GO: 'busy' } }, busy: { invoke: { src: 'work' } } },
  });
  const errors: unknown[] = [];
  const run = new MachineHost(withInvoke, undefined, new SimulatedClock()).run({ error: (e) => errors.push(e) });
  run.send({ type: 'GO' });
  assert.equal(errors.length, 1, 'the run fails loudly (an invoke has no actor system here)');
  run.send({ type: 'GO' }); // a failed run takes nothing more
  assert.equal(errors.length, 1);
});
