import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createActor, fromCallback, fromPromise, toPromise, SimulatedClock, type AnyActorRef } from 'xstate';
import { callMachine, type ActionInput, type CallAction, type CallCallbackInput, type CallEvent, type CallOutput, type SayInput } from '../../machines/call.js';
import type { CallbackResult } from '../../machines/line.js';
import type { CallbackPolicy } from '../../src/callback/policy.js';
import type { NumberAnswer } from '../../src/callback/ask.js';

interface Harness {
  actor: AnyActorRef;
  log: string[];
  send(e: CallEvent): void;
  done: Promise<CallOutput>;
  /** Resolve the running bridge/exec. */
  finishAction(err?: Error): void;
}

interface HarnessOptions {
  pppToExec?: boolean;
  dialogueThrows?: boolean;
  /** The user's callback policy (default none). */
  policy?: CallbackPolicy | Error;
  offer?: Partial<CallCallbackInput>;
  /** Set By Caller: what the caller answers (undefined: never answers). */
  answer?: NumberAnswer;
  /** What the line's callback comes to. */
  callback?: CallbackResult;
  clock?: SimulatedClock;
}

function harness(action: CallAction, o: HarnessOptions = {}): Harness {
  const log: string[] = [];
  let dialogueSend: ((e: CallEvent) => void) | undefined;
  let finish: ((err?: Error) => void) | undefined;
  const session = (name: string) =>
    fromPromise<void, ActionInput>(({ input, signal }) => {
      log.push(`${name}:start${input.preface ? `:${input.preface.length}` : ''}${input.callbackNumber ? `:callback=${input.callbackNumber}` : ''}`);
      return new Promise<void>((resolve, reject) => {
        finish = (err) => (err ? reject(err) : resolve());
        signal.addEventListener('abort', () => log.push(`${name}:stopped`));
      });
    });
  const machine = callMachine.provide({
    actors: {
      securityDialogue: fromCallback<CallEvent, { lineId: string; callId: string }>(({ sendBack }) => {
        if (o.dialogueThrows) throw Object.assign(new Error('boom'), { code: 'BOOM' });
        log.push('begin');
        dialogueSend = sendBack;
        return () => log.push('end');
      }),
      carrier: fromCallback<CallEvent, { lineId: string; callId: string }>(() => () => log.push('carrier:unwatch')),
      say: fromPromise<void, SayInput>(async ({ input }) => {
        log.push(`say:${input.what}${input.what === 'callbackAnnounce' ? `:${input.number}` : ''}`);
      }),
      bridge: session('bridge'),
      exec: session('exec'),
      hangup: fromPromise(async () => {
        log.push('hangup');
      }),
      callbackPolicy: fromPromise<CallbackPolicy, { userName: string; domain: string; directory: CallbackPolicy | undefined }>(async ({ input }) => {
        log.push(`policy:${input.userName}${input.directory ? `:directory-${input.directory.mode}` : ''}`);
        if (o.policy instanceof Error) throw o.policy;
        return input.directory ?? o.policy ?? { mode: 'none' };
      }),
      askNumber: fromPromise<NumberAnswer, { defaultNumber: string | undefined }>(({ input, signal }) => {
        log.push(`ask${input.defaultNumber ? `:${input.defaultNumber}` : ''}`);
        signal.addEventListener('abort', () => log.push('ask:stopped'));
        return o.answer ? Promise.resolve(o.answer) : new Promise(() => undefined);
      }),
      callBack: fromPromise<CallbackResult, { lineId: string; callId: string; number: string }>(({ input, signal }) => {
        log.push(`callBack:${input.number}`);
        signal.addEventListener('abort', () => log.push('callBack:abandoned'));
        return o.callback ? Promise.resolve(o.callback) : new Promise(() => undefined);
      }),
    },
  });
  const offer: CallCallbackInput = { offered: false, reauthenticate: true, askTimeoutMs: 60_000, ...o.offer };
  const actor = createActor(machine, { input: { lineId: 'tcp0', callId: 'tcp0-1', action, pppToExec: o.pppToExec ?? false, offer }, ...(o.clock ? { clock: o.clock } : {}) });
  const done = toPromise(actor) as Promise<CallOutput>;
  actor.start();
  return {
    actor,
    log,
    send: (e) => (dialogueSend ? dialogueSend(e) : actor.send(e)),
    done,
    finishAction: (err) => finish!(err),
  };
}

const ok = { type: 'SECURITY_MESSAGE' as const, message: { msgId: 1, error: 0, userName: 'Alice', domain: 'HOST' } };
const flush = () => new Promise((r) => setImmediate(r));

test('success with hangup: dialogue ends, line hung up, outcome accepted with the identity', async () => {
  const h = harness('hangup');
  h.send(ok);
  const out = await h.done;
  assert.equal(out.outcome.kind, 'accepted');
  assert.equal(out.message?.userName, 'Alice');
  assert.deepEqual(h.log, ['begin', 'end', 'policy:Alice', 'say:loginAccepted', 'hangup', 'carrier:unwatch']);
});

test('failure and error results hang up', async () => {
  // A plain security host sends no outcome: the message alone says FAILURE (bad credentials) or an ERROR it does not explain.
  for (const [msgId, kind] of [[2, 'bad-credentials'], [3, 'internal-error']] as const) {
    const h = harness('bridge');
    h.send({ type: 'SECURITY_MESSAGE', message: { msgId, error: msgId === 3 ? 1311 : 0, userName: 'bob', domain: '' } });
    const out = await h.done;
    assert.equal(out.outcome.kind, kind);
    assert.ok(!h.log.includes('bridge:start'));
    assert.ok(h.log.includes('hangup'));
  }
});

test('bridge runs until it ends, then hangs up', async () => {
  const h = harness('bridge');
  h.send(ok);
  await flush();
  assert.ok(h.log.includes('bridge:start'));
  h.finishAction();
  assert.equal((await h.done).outcome.kind, 'accepted');
});

test('bridge connect failure tells the caller and hangs up', async () => {
  const h = harness('bridge');
  h.send(ok);
  await flush();
  h.finishAction(Object.assign(new Error('refused'), { code: 'BRIDGE_CONNECT_FAILED' }));
  const out = await h.done;
  assert.deepEqual(out.outcome, { kind: 'action-failed', reason: 'BRIDGE_CONNECT_FAILED' });
  assert.deepEqual(h.log.slice(-3), ['say:bridgeFailed', 'hangup', 'carrier:unwatch']);
});

test('carrier loss during exec stops the program and ends the call as a finished session', async () => {
  const h = harness('exec');
  h.send(ok);
  await flush();
  h.actor.send({ type: 'CARRIER_LOST', reason: 'carrier-lost' });
  const out = await h.done;
  assert.equal(out.outcome.kind, 'accepted');
  assert.ok(h.log.includes('exec:stopped'));
  assert.ok(!h.log.includes('hangup'));
});

test('carrier loss during the dialogue ends it (rasEnd) with carrier-lost', async () => {
  const h = harness('hangup');
  h.actor.send({ type: 'CARRIER_LOST', reason: 'carrier-lost' });
  const out = await h.done;
  assert.equal(out.outcome.kind, 'caller-hangup');
  assert.deepEqual(h.log, ['begin', 'end', 'carrier:unwatch']);
});

test('PPP start is refused with a message unless the line hands it to exec', async () => {
  const refused = harness('exec');
  refused.send({ type: 'PPP_START', bytes: new Uint8Array([0x7e, 0xff, 0x7d, 0x23, 0xc0, 0x21]) });
  assert.deepEqual((await refused.done).outcome, { kind: 'protocol', reason: 'ppp-refused' });
  assert.ok(refused.log.includes('say:pppRefused'));

  const handed = harness('exec', { pppToExec: true });
  handed.send({ type: 'PPP_START', bytes: new Uint8Array([0x7e, 0xff, 0x7d, 0x23, 0xc0, 0x21]) });
  await flush();
  assert.ok(handed.log.includes('exec:start:6'), handed.log.join());
  handed.finishAction();
  const out = await handed.done;
  assert.equal(out.outcome.kind, 'ppp');
});

test('HANGUP (an operator) during the dialogue hangs up', async () => {
  const h = harness('hangup');
  h.actor.send({ type: 'HANGUP', reason: 'shutdown' });
  const out = await h.done;
  assert.equal(out.outcome.kind, 'operator-hangup');
  assert.equal(out.detail, 'shutdown');
});

test('a dialogue actor that throws is contained: the call ends as crashed and hangs up', async () => {
  const h = harness('hangup', { dialogueThrows: true });
  const out = await h.done;
  assert.equal(out.outcome.kind, 'internal-error');
  assert.equal(out.detail, 'BOOM');
  assert.ok(h.log.includes('hangup'));
});

test('SHUTDOWN ends a session at once with the shutdown line (its login stays accepted)', async () => {
  const h = harness('bridge');
  h.send(ok);
  await flush();
  h.actor.send({ type: 'SHUTDOWN' });
  const out = await h.done;
  assert.equal(out.outcome.kind, 'accepted');
  assert.equal(out.detail, 'shutdown');
  assert.deepEqual(h.log.slice(-4), ['bridge:stopped', 'say:shutdown', 'hangup', 'carrier:unwatch']);
});

test('SHUTDOWN lets a dialogue finish, but a login that succeeds then is refused with the shutdown line', async () => {
  const h = harness('bridge');
  h.actor.send({ type: 'SHUTDOWN' });
  await flush();
  assert.ok(!h.log.includes('say:shutdown'), 'the dialogue goes on');
  h.send(ok);
  const out = await h.done;
  assert.equal(out.outcome.kind, 'shutdown');
  assert.equal(out.message?.userName, 'Alice', 'the identity is kept for the log');
  assert.ok(!h.log.includes('bridge:start'));
  assert.ok(h.log.includes('say:shutdown'));
});

test('SHUTDOWN then HANGUP (the grace is over) during the dialogue: the caller hears the shutdown line', async () => {
  const h = harness('hangup');
  h.actor.send({ type: 'SHUTDOWN' });
  h.actor.send({ type: 'HANGUP', reason: 'shutdown-grace-over' });
  const out = await h.done;
  assert.equal(out.outcome.kind, 'shutdown');
  assert.deepEqual(h.log, ['begin', 'end', 'say:shutdown', 'hangup', 'carrier:unwatch']);
});

test('FAULT (a provided actor failed inside) ends the call as crashed, telling the caller the service is unavailable', async () => {
  const h = harness('bridge');
  h.send({ type: 'FAULT', detail: 'dialogue-crashed' });
  const out = await h.done;
  assert.equal(out.outcome.kind, 'internal-error');
  assert.equal(out.detail, 'dialogue-crashed');
  assert.deepEqual(h.log, ['begin', 'end', 'say:unavailable', 'hangup', 'carrier:unwatch']);
});

// ---- callback (machines/call.ts `callback`) ----------------------------------------------------

const offered = { offered: true };
const connected: CallbackResult = { result: 'connected', attempts: 2 };
const again = (userName = 'alice', domain = 'host') => ({ type: 'SECURITY_MESSAGE' as const, message: { msgId: 1, error: 0, userName, domain } });

test('callback Preset: announced, called back, the same account logs in again (names case-insensitive), then the session with the number', async () => {
  const h = harness('exec', { policy: { mode: 'preset', number: '555-1234' }, offer: offered, callback: connected });
  h.send(ok);
  await flush();
  assert.deepEqual(h.log, ['begin', 'end', 'policy:Alice', 'say:callbackAnnounce:555-1234', 'callBack:555-1234', 'begin']);
  h.send(again());
  await flush();
  assert.ok(h.log.includes('exec:start:callback=555-1234'), h.log.join());
  h.finishAction();
  const out = await h.done;
  assert.equal(out.outcome.kind, 'accepted');
  assert.deepEqual(out.callback, { number: '555-1234', source: 'preset', attempts: 2 });
});

test('callback Preset where the line does not offer it: no session (callback-failed not-offered), told why', async () => {
  const h = harness('exec', { policy: { mode: 'preset', number: '5551234' } });
  h.send(ok);
  const out = await h.done;
  assert.deepEqual(out.outcome, { kind: 'callback-failed', reason: 'not-offered' });
  assert.deepEqual(h.log.slice(2), ['policy:Alice', 'say:callbackNotOffered', 'hangup', 'carrier:unwatch']);
});

test('callback: the directory policy that came with the login is the one used', async () => {
  const h = harness('hangup', { offer: offered, callback: connected });
  h.send({ ...ok, outcome: { kind: 'accepted', callback: { mode: 'preset', number: '5559999' } } });
  await flush();
  assert.deepEqual(h.log.slice(2, 5), ['policy:Alice:directory-preset', 'say:callbackAnnounce:5559999', 'callBack:5559999']);
});

test('callback Set By Caller: a number given is called back; an empty answer starts the session at once; not offered: not asked', async () => {
  const given = harness('exec', { policy: { mode: 'caller', defaultNumber: '5550000' }, offer: offered, answer: { kind: 'number', number: '5557777', source: 'caller' }, callback: connected });
  given.send(ok);
  await flush();
  assert.deepEqual(given.log.slice(2), ['policy:Alice', 'ask:5550000', 'say:callbackAnnounce:5557777', 'callBack:5557777', 'begin']);

  const none = harness('exec', { policy: { mode: 'caller' }, offer: offered, answer: { kind: 'none' } });
  none.send(ok);
  await flush();
  assert.deepEqual(none.log.slice(2), ['policy:Alice', 'ask', 'exec:start']);
  none.finishAction();
  assert.equal((await none.done).callback, undefined);

  const notOffered = harness('exec', { policy: { mode: 'caller' } });
  notOffered.send(ok);
  await flush();
  assert.deepEqual(notOffered.log.slice(2), ['policy:Alice', 'exec:start']);
});

test('callback Set By Caller: a number the line may not call ends the call (callback-refused-number), logged with what was typed', async () => {
  const h = harness('exec', { policy: { mode: 'caller' }, offer: offered, answer: { kind: 'refused', text: '0900666' } });
  h.send(ok);
  const out = await h.done;
  assert.deepEqual(out.outcome, { kind: 'callback-refused-number', rasError: 704 });
  assert.equal(out.detail, 'refused number "0900666"');
  assert.deepEqual(h.log.slice(2), ['policy:Alice', 'ask', 'say:callbackRefused', 'hangup', 'carrier:unwatch']);
});

test('callback Set By Caller: no answer within the time (SimulatedClock) is a caller timeout', async () => {
  const clock = new SimulatedClock();
  const h = harness('exec', { policy: { mode: 'caller' }, offer: { offered: true, askTimeoutMs: 30_000 }, clock });
  h.send(ok);
  await flush();
  clock.increment(29_999);
  await flush();
  assert.ok(!h.log.includes('hangup'));
  clock.increment(1);
  const out = await h.done;
  assert.deepEqual(out.outcome, { kind: 'caller-timeout', reason: 'callback-number' });
  assert.deepEqual(h.log.slice(-3), ['ask:stopped', 'hangup', 'carrier:unwatch']);
});

test('callback given up: each failure is its own outcome; the caller is gone, nothing is said', async () => {
  const cases: Array<[CallbackResult['result'], Record<string, unknown>]> = [
    ['busy', { kind: 'callback-busy' }],
    ['no-answer', { kind: 'callback-no-answer' }],
    ['no-carrier', { kind: 'callback-no-carrier' }],
    ['no-dialtone', { kind: 'callback-no-dialtone' }],
    ['timeout', { kind: 'callback-timeout' }],
    ['modem-error', { kind: 'callback-failed', reason: 'modem-error', rasError: 681 }],
  ];
  for (const [result, outcome] of cases) {
    const h = harness('exec', { policy: { mode: 'preset', number: '5551234' }, offer: offered, callback: { result, attempts: 3 } });
    h.send(ok);
    const out = await h.done;
    assert.deepEqual(out.outcome, outcome, result);
    assert.deepEqual(out.callback, { number: '5551234', source: 'preset', attempts: 3 });
    assert.deepEqual(h.log.slice(-3), ['callBack:5551234', 'hangup', 'carrier:unwatch'], result);
  }
});

test('callback: another account at the second login is refused (callback-wrong-account); a failed second login is that failure', async () => {
  const wrong = harness('exec', { policy: { mode: 'preset', number: '5551234' }, offer: offered, callback: connected });
  wrong.send(ok);
  await flush();
  wrong.send(again('mallory'));
  const out = await wrong.done;
  assert.equal(out.outcome.kind, 'callback-wrong-account');
  assert.equal(out.message?.userName, 'Alice', 'the account called back stays the call identity');
  assert.ok(!wrong.log.some((l) => l.startsWith('exec:start')));
  assert.deepEqual(wrong.log.slice(-3), ['say:callbackWrongAccount', 'hangup', 'carrier:unwatch']);

  const failed = harness('exec', { policy: { mode: 'preset', number: '5551234' }, offer: offered, callback: connected });
  failed.send(ok);
  await flush();
  failed.send({ type: 'SECURITY_MESSAGE', message: { msgId: 2, error: 0, userName: 'alice', domain: '' } });
  assert.equal((await failed.done).outcome.kind, 'bad-credentials');
});

test('callback without reauthentication: the session starts as the callback connects', async () => {
  const h = harness('exec', { policy: { mode: 'preset', number: '5551234' }, offer: { offered: true, reauthenticate: false }, callback: connected });
  h.send(ok);
  await flush();
  assert.deepEqual(h.log.slice(2), ['policy:Alice', 'say:callbackAnnounce:5551234', 'callBack:5551234', 'exec:start:callback=5551234']);
});

test('callback: SHUTDOWN while the line calls back abandons it (no one to tell); a policy that cannot be read refuses the login', async () => {
  const h = harness('exec', { policy: { mode: 'preset', number: '5551234' }, offer: offered });
  h.send(ok);
  await flush();
  h.actor.send({ type: 'SHUTDOWN' });
  const out = await h.done;
  assert.equal(out.outcome.kind, 'shutdown');
  assert.deepEqual(h.log.slice(-4), ['callBack:5551234', 'callBack:abandoned', 'hangup', 'carrier:unwatch']);

  const unreadable = harness('exec', { policy: Object.assign(new Error('no'), { code: 'FILE_IO' }), offer: offered });
  unreadable.send(ok);
  const refused = await unreadable.done;
  assert.deepEqual(refused.outcome, { kind: 'callback-failed', reason: 'FILE_IO' });
  assert.deepEqual(unreadable.log.slice(-3), ['say:unavailable', 'hangup', 'carrier:unwatch']);
});

test('callback: the line going before the session ends the call as the way it went, not as accepted', async () => {
  for (const [reason, kind] of [['device-lost', 'device-lost'], ['carrier-lost', 'caller-hangup'], ['shutdown', 'shutdown']] as const) {
    const h = harness('exec', { policy: { mode: 'preset', number: '5551234' }, offer: offered });
    h.send(ok);
    await flush();
    h.actor.send({ type: 'CARRIER_LOST', reason });
    const out = await h.done;
    assert.equal(out.outcome.kind, kind, reason);
    assert.equal(out.detail, reason);
    assert.ok(h.log.includes('callBack:abandoned'));
  }
  // After the session started, the caller hanging up is the normal end of an accepted call.
  const s = harness('exec', { policy: { mode: 'preset', number: '5551234' }, offer: offered, callback: connected });
  s.send(ok);
  await flush();
  s.send(again());
  await flush();
  s.actor.send({ type: 'CARRIER_LOST', reason: 'carrier-lost' });
  assert.equal((await s.done).outcome.kind, 'accepted');
});
