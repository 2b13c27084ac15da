/**
 * machines/ntlmAccept.ts on its own: every path through the legs with stub actors supplied by
 * .provide() and time from SimulatedClock (no sleeps).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createActor, fromPromise, raise, SimulatedClock, waitFor } from 'xstate';
import { ntlmAcceptMachine, type AcceptOutcome, type IssuedChallenge } from '../../machines/ntlmAccept.js';
import { AcceptError } from '../../src/ntlm/context.js';
import { SEC_E_CONTEXT_EXPIRED, SEC_E_INTERNAL_ERROR, SEC_E_INVALID_HANDLE, SEC_E_INVALID_TOKEN, SEC_E_LOGON_DENIED, SEC_E_NO_AUTHENTICATING_AUTHORITY, SEC_E_OK } from '../../src/ntlm/constants.js';

const LIFETIME = 30 * 60_000;
const AUTH_TIMEOUT = 15_000;
const params = { contextReq: 0 };
const NEG = Buffer.from('negotiate');
const AUTH = Buffer.from('authenticate');

const issued: IssuedChallenge = { challengeToken: Buffer.from('challenge'), negotiateToken: NEG, serverChallenge: Buffer.alloc(8, 1), flags: 0, sentAvPairs: new Map() };
const ok: AcceptOutcome = { status: SEC_E_OK, reason: 'ok', user: 'alice', domain: 'RASGATE', session: { user: 'alice', domain: 'RASGATE', workstation: 'WS', flags: 0 } };

interface Stubs {
  issue?: (signal: AbortSignal) => Promise<IssuedChallenge>;
  verify?: (signal: AbortSignal) => Promise<AcceptOutcome>;
}

function start(stubs: Stubs = {}) {
  const clock = new SimulatedClock();
  const machine = ntlmAcceptMachine.provide({
    actors: {
      issueChallenge: fromPromise(({ signal }) => (stubs.issue ?? (async () => issued))(signal)),
      verifyAuthenticate: fromPromise(({ signal }) => (stubs.verify ?? (async () => ok))(signal)),
    },
  });
  const errors: unknown[] = [];
  const actor = createActor(machine, { clock, input: { challengeLifetimeMs: LIFETIME, authorityTimeoutMs: AUTH_TIMEOUT } });
  actor.subscribe({ error: (e) => errors.push(e) });
  actor.start();
  return { actor, clock, errors };
}

type Started = Pick<ReturnType<typeof start>, 'actor' | 'errors'>;
const rest = (s: Started) => waitFor(s.actor, (snap) => snap.status !== 'active' || snap.value === 'challengeSent');
const done = (s: Started) => waitFor(s.actor, (snap) => snap.status === 'done');
const never = <T>() => new Promise<T>(() => {});

async function toChallengeSent(s: Started) {
  s.actor.send({ type: 'NEGOTIATE', token: NEG, params });
  await rest(s);
  assert.equal(s.actor.getSnapshot().value, 'challengeSent');
  assert.ok(s.actor.getSnapshot().hasTag('continueNeeded'), 'the acceptor finds the CHALLENGE by this tag');
}

function assertFinishedClean(s: Started) {
  const snap = s.actor.getSnapshot();
  assert.equal(snap.status, 'done');
  assert.deepEqual(Object.keys(snap.children), [], 'finished context leaves no children');
  assert.equal((snap.context as { negotiate?: unknown }).negotiate, undefined, 'tokens dropped');
  assert.equal((snap.context as { authenticate?: unknown }).authenticate, undefined, 'tokens dropped');
  assert.deepEqual(s.errors, []);
}

test('negotiate -> challengeSent -> authenticate -> established (SEC_E_OK)', async () => {
  const s = start();
  assert.equal(s.actor.getSnapshot().value, 'awaitingNegotiate');
  await toChallengeSent(s);
  assert.equal(s.actor.getSnapshot().context.issued, issued);
  s.actor.send({ type: 'AUTHENTICATE', token: AUTH, params });
  await done(s);
  assert.equal(s.actor.getSnapshot().value, 'established');
  assert.deepEqual(s.actor.getSnapshot().output, ok);
  assertFinishedClean(s);
});

test('verify denies -> failed with SEC_E_LOGON_DENIED and the DenyReason', async () => {
  const s = start({ verify: async () => ({ status: SEC_E_LOGON_DENIED, reason: 'account-disabled', denyReason: 'account-disabled' }) });
  await toChallengeSent(s);
  s.actor.send({ type: 'AUTHENTICATE', token: AUTH, params });
  await done(s);
  assert.equal(s.actor.getSnapshot().value, 'failed');
  assert.equal(s.actor.getSnapshot().output!.status, SEC_E_LOGON_DENIED);
  assert.equal(s.actor.getSnapshot().output!.denyReason, 'account-disabled');
  assertFinishedClean(s);
});

test('issueChallenge throws an AcceptError -> failed with its status (invalid NEGOTIATE)', async () => {
  const s = start({ issue: async () => { throw new AcceptError(SEC_E_INVALID_TOKEN, 'NTLM_BAD_SIGNATURE'); } });
  s.actor.send({ type: 'NEGOTIATE', token: NEG, params });
  await done(s);
  assert.deepEqual(s.actor.getSnapshot().output, { status: SEC_E_INVALID_TOKEN, reason: 'NTLM_BAD_SIGNATURE' });
  assertFinishedClean(s);
});

test('an actor throwing anything else -> SEC_E_INTERNAL_ERROR, never an actor crash', async () => {
  const s = start({ verify: async () => { throw new TypeError('bug'); } });
  await toChallengeSent(s);
  s.actor.send({ type: 'AUTHENTICATE', token: AUTH, params });
  await done(s);
  assert.equal(s.actor.getSnapshot().output!.status, SEC_E_INTERNAL_ERROR);
  assertFinishedClean(s);
});

test('relay authority throws while issuing -> its status (no authenticating authority)', async () => {
  const s = start({ issue: async () => { throw new AcceptError(SEC_E_NO_AUTHENTICATING_AUTHORITY, 'authority-error'); } });
  s.actor.send({ type: 'NEGOTIATE', token: NEG, params });
  await done(s);
  assert.equal(s.actor.getSnapshot().output!.status, SEC_E_NO_AUTHENTICATING_AUTHORITY);
  assertFinishedClean(s);
});

test('challenge expires after challengeLifetimeMs (SimulatedClock) -> SEC_E_CONTEXT_EXPIRED', async () => {
  const s = start();
  await toChallengeSent(s);
  s.clock.increment(LIFETIME - 1);
  assert.equal(s.actor.getSnapshot().value, 'challengeSent');
  s.clock.increment(1);
  assert.equal(s.actor.getSnapshot().value, 'failed');
  assert.deepEqual(s.actor.getSnapshot().output, { status: SEC_E_CONTEXT_EXPIRED, reason: 'challenge-expired' });
  s.actor.send({ type: 'AUTHENTICATE', token: AUTH, params }); // too late: ignored by a finished actor
  assert.equal(s.actor.getSnapshot().output!.status, SEC_E_CONTEXT_EXPIRED);
  assertFinishedClean(s);
});

test('authority silent past authorityTimeoutMs while verifying -> SEC_E_NO_AUTHENTICATING_AUTHORITY, its signal aborted', async () => {
  let seen: AbortSignal | undefined;
  const s = start({ verify: (signal) => { seen = signal; return never(); } });
  await toChallengeSent(s);
  s.actor.send({ type: 'AUTHENTICATE', token: AUTH, params });
  assert.equal(s.actor.getSnapshot().value, 'verifying');
  assert.ok(s.actor.getSnapshot().hasTag('askingAuthority'));
  s.clock.increment(AUTH_TIMEOUT);
  assert.deepEqual(s.actor.getSnapshot().output, { status: SEC_E_NO_AUTHENTICATING_AUTHORITY, reason: 'authority-timeout' });
  assert.equal(seen?.aborted, true);
  assertFinishedClean(s);
});

test('relay silent past authorityTimeoutMs while issuing -> SEC_E_NO_AUTHENTICATING_AUTHORITY', async () => {
  const s = start({ issue: () => never() });
  s.actor.send({ type: 'NEGOTIATE', token: NEG, params });
  assert.equal(s.actor.getSnapshot().value, 'issuingChallenge');
  s.clock.increment(AUTH_TIMEOUT);
  assert.equal(s.actor.getSnapshot().output!.status, SEC_E_NO_AUTHENTICATING_AUTHORITY);
  assertFinishedClean(s);
});

test('AUTHENTICATE before NEGOTIATE -> SEC_E_INVALID_TOKEN', () => {
  const s = start();
  s.actor.send({ type: 'AUTHENTICATE', token: AUTH, params });
  assert.deepEqual(s.actor.getSnapshot().output, { status: SEC_E_INVALID_TOKEN, reason: 'authenticate-before-negotiate' });
  assertFinishedClean(s);
});

test('a second NEGOTIATE after the CHALLENGE -> SEC_E_INVALID_TOKEN (out of sequence)', async () => {
  const s = start();
  await toChallengeSent(s);
  s.actor.send({ type: 'NEGOTIATE', token: NEG, params });
  assert.deepEqual(s.actor.getSnapshot().output, { status: SEC_E_INVALID_TOKEN, reason: 'out-of-sequence' });
  assertFinishedClean(s);
});

test('tokens arriving while an actor runs -> out of sequence, the running actor is aborted', async () => {
  let seen: AbortSignal | undefined;
  const s = start({ issue: (signal) => { seen = signal; return never(); } });
  s.actor.send({ type: 'NEGOTIATE', token: NEG, params });
  s.actor.send({ type: 'AUTHENTICATE', token: AUTH, params });
  assert.equal(s.actor.getSnapshot().output!.reason, 'out-of-sequence');
  assert.equal(seen?.aborted, true);
  assertFinishedClean(s);
});

for (const where of ['awaitingNegotiate', 'challengeSent', 'verifying'] as const) {
  test(`ABORT in ${where} -> aborted (SEC_E_INVALID_HANDLE), running work aborted`, async () => {
    let seen: AbortSignal | undefined;
    const s = start({ verify: (signal) => { seen = signal; return never(); } });
    if (where !== 'awaitingNegotiate') await toChallengeSent(s);
    if (where === 'verifying') s.actor.send({ type: 'AUTHENTICATE', token: AUTH, params });
    assert.equal(s.actor.getSnapshot().value, where);
    s.actor.send({ type: 'ABORT' });
    assert.equal(s.actor.getSnapshot().value, 'aborted');
    assert.equal(s.actor.getSnapshot().output!.status, SEC_E_INVALID_HANDLE);
    if (where === 'verifying') assert.equal(seen?.aborted, true);
    assertFinishedClean(s);
  });
}

test('finished timers are cancelled: no expiry fires after establishment', async () => {
  const s = start();
  await toChallengeSent(s);
  s.actor.send({ type: 'AUTHENTICATE', token: AUTH, params });
  await done(s);
  s.clock.increment(LIFETIME * 2);
  assert.equal(s.actor.getSnapshot().value, 'established');
  assert.equal(s.actor.getSnapshot().output!.status, SEC_E_OK);
});

test('defaults without .provide() fail closed (SEC_E_INTERNAL_ERROR), never established', async () => {
  const actor = createActor(ntlmAcceptMachine, { input: { challengeLifetimeMs: LIFETIME, authorityTimeoutMs: AUTH_TIMEOUT }, clock: new SimulatedClock() });
  actor.start();
  actor.send({ type: 'NEGOTIATE', token: NEG, params });
  await waitFor(actor, (snap) => snap.status === 'done');
  assert.equal(actor.getSnapshot().output!.status, SEC_E_INTERNAL_ERROR);
});

/** The synchronous path (verifier authorities): provided actions raise the leg's result, no actor runs. */
function startSync(results: { issue?: () => object; check?: () => object }) {
  const invoked: string[] = [];
  const clock = new SimulatedClock();
  const machine = ntlmAcceptMachine.provide({
    actions: {
      prepareChallenge: raise(() => (results.issue ?? (() => ({ type: 'ISSUED', issued })))() as never),
      checkNow: raise(() => (results.check ?? (() => ({ type: 'VERDICT', outcome: ok })))() as never),
    },
    actors: {
      issueChallenge: fromPromise(async () => { invoked.push('issueChallenge'); return issued; }),
      verifyAuthenticate: fromPromise(async () => { invoked.push('verifyAuthenticate'); return ok; }),
    },
  });
  const errors: unknown[] = [];
  const actor = createActor(machine, { clock, input: { challengeLifetimeMs: LIFETIME, authorityTimeoutMs: AUTH_TIMEOUT } });
  actor.subscribe({ error: (e) => errors.push(e) });
  actor.start();
  return { actor, clock, errors, invoked };
}

test('synchronous legs: ISSUED then VERDICT settle within each send, no actor invoked', () => {
  const s = startSync({});
  s.actor.send({ type: 'NEGOTIATE', token: NEG, params });
  assert.equal(s.actor.getSnapshot().value, 'challengeSent', 'rests in the same macrostep');
  assert.equal(s.actor.getSnapshot().context.issued, issued);
  s.actor.send({ type: 'AUTHENTICATE', token: AUTH, params });
  assert.equal(s.actor.getSnapshot().value, 'established');
  assert.deepEqual(s.actor.getSnapshot().output, ok);
  assert.deepEqual(s.invoked, []);
  assertFinishedClean(s);
});

test('synchronous legs: a denied VERDICT fails with it; LEG_FAILED keeps an AcceptError status', () => {
  const denied = startSync({ check: () => ({ type: 'VERDICT', outcome: { status: SEC_E_LOGON_DENIED, reason: 'bad-credentials', denyReason: 'bad-credentials' } }) });
  denied.actor.send({ type: 'NEGOTIATE', token: NEG, params });
  denied.actor.send({ type: 'AUTHENTICATE', token: AUTH, params });
  assert.equal(denied.actor.getSnapshot().value, 'failed');
  assert.equal(denied.actor.getSnapshot().output!.denyReason, 'bad-credentials');
  assertFinishedClean(denied);

  const bad = startSync({ issue: () => ({ type: 'LEG_FAILED', error: new AcceptError(SEC_E_INVALID_TOKEN, 'NTLM_BAD_SIGNATURE') }) });
  bad.actor.send({ type: 'NEGOTIATE', token: NEG, params });
  assert.deepEqual(bad.actor.getSnapshot().output, { status: SEC_E_INVALID_TOKEN, reason: 'NTLM_BAD_SIGNATURE' });
  assertFinishedClean(bad);

  const bug = startSync({ check: () => ({ type: 'LEG_FAILED', error: new TypeError('bug') }) });
  bug.actor.send({ type: 'NEGOTIATE', token: NEG, params });
  bug.actor.send({ type: 'AUTHENTICATE', token: AUTH, params });
  assert.equal(bug.actor.getSnapshot().output!.status, SEC_E_INTERNAL_ERROR);
  assertFinishedClean(bug);
});

test('ASK_AUTHORITY from the synchronous step: the authority actor is invoked, with its timeout', async () => {
  const s = startSync({ check: () => ({ type: 'ASK_AUTHORITY' }) });
  s.actor.send({ type: 'NEGOTIATE', token: NEG, params });
  s.actor.send({ type: 'AUTHENTICATE', token: AUTH, params });
  assert.equal(s.actor.getSnapshot().value, 'verifying');
  await done(s);
  assert.deepEqual(s.invoked, ['verifyAuthenticate']);
  assert.equal(s.actor.getSnapshot().value, 'established');
  assertFinishedClean(s);

  const relay = startSync({ issue: () => ({ type: 'ASK_AUTHORITY' }) });
  relay.actor.send({ type: 'NEGOTIATE', token: NEG, params });
  assert.equal(relay.actor.getSnapshot().value, 'issuingChallenge');
  await rest(relay);
  assert.deepEqual(relay.invoked, ['issueChallenge']);
  assert.equal(relay.actor.getSnapshot().value, 'challengeSent');
});

test('synchronous challenge still expires (SimulatedClock) -> SEC_E_CONTEXT_EXPIRED', () => {
  const s = startSync({});
  s.actor.send({ type: 'NEGOTIATE', token: NEG, params });
  s.clock.increment(LIFETIME - 1);
  assert.equal(s.actor.getSnapshot().value, 'challengeSent');
  s.clock.increment(1);
  assert.deepEqual(s.actor.getSnapshot().output, { status: SEC_E_CONTEXT_EXPIRED, reason: 'challenge-expired' });
  assertFinishedClean(s);
});
