import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createActor, fromCallback, fromPromise, toPromise, type AnyActorRef } from 'xstate';
import { callMachine, type ActionInput, type CallAction, type CallEvent, type CallOutput, type SayInput } from '../../machines/call.js';

interface Harness {
  actor: AnyActorRef;
  log: string[];
  send(e: CallEvent): void;
  done: Promise<CallOutput>;
  /** Resolve the running bridge/exec. */
  finishAction(err?: Error): void;
}

function harness(action: CallAction, o: { pppToExec?: boolean; dialogueThrows?: boolean } = {}): Harness {
  const log: string[] = [];
  let dialogueSend: ((e: CallEvent) => void) | undefined;
  let finish: ((err?: Error) => void) | undefined;
  const session = (name: string) =>
    fromPromise<void, ActionInput>(({ input, signal }) => {
      log.push(`${name}:start${input.preface ? `:${input.preface.length}` : ''}`);
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
        log.push(`say:${input.what}`);
      }),
      bridge: session('bridge'),
      exec: session('exec'),
      hangup: fromPromise(async () => {
        log.push('hangup');
      }),
    },
  });
  const actor = createActor(machine, { input: { lineId: 'tcp0', callId: 'tcp0-1', action, pppToExec: o.pppToExec ?? false } });
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
  assert.deepEqual(h.log, ['begin', 'end', 'say:loginAccepted', 'hangup', 'carrier:unwatch']);
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
