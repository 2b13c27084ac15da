import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createActor, fromPromise } from 'xstate';
import { gatewayMachine } from '../../machines/gateway.js';

/** The lifecycle with each step's work held open until the test lets it finish. */
function rig(o: { startFails?: boolean } = {}) {
  const log: string[] = [];
  const pending: Array<() => void> = [];
  const held = (name: string, fail = false) => new Promise<void>((resolve, reject) => pending.push(() => (fail ? reject(new Error(name)) : resolve())));
  const step = (name: string, fail = false) =>
    fromPromise<void>(() => {
      log.push(name);
      return held(name, fail);
    });
  const stop = fromPromise<void, { reason: string }>(({ input }) => {
    log.push(`stop:${input.reason}`);
    return held('stop');
  });
  const actor = createActor(gatewayMachine.provide({ actors: { start: step('start', o.startFails), reload: step('reload'), stop } }));
  actor.start();
  const finishNext = async () => {
    pending.shift()?.();
    await new Promise((r) => setImmediate(r));
  };
  const tags = () => [...actor.getSnapshot().tags].sort();
  return { actor, log, finishNext, tags };
}

test('gateway life: start, reload, stop', async () => {
  const r = rig();
  r.actor.send({ type: 'START' });
  assert.deepEqual(r.tags(), ['starting']);
  await r.finishNext();
  assert.deepEqual(r.tags(), ['running']);
  r.actor.send({ type: 'RELOAD' });
  assert.deepEqual(r.tags(), ['reloading', 'running']);
  await r.finishNext();
  r.actor.send({ type: 'STOP', reason: 'SIGTERM' });
  await r.finishNext();
  assert.equal(r.actor.getSnapshot().status, 'done');
  assert.deepEqual(r.log, ['start', 'reload', 'stop:SIGTERM']);
});

test('gateway life: a reload asked for during a reload runs once more after it; a stop during a reload waits for it', async () => {
  const r = rig();
  r.actor.send({ type: 'START' });
  await r.finishNext();
  r.actor.send({ type: 'RELOAD' });
  r.actor.send({ type: 'RELOAD' });
  r.actor.send({ type: 'RELOAD' });
  await r.finishNext();
  assert.deepEqual(r.log, ['start', 'reload', 'reload'], 'three asks while one runs: one more run');
  r.actor.send({ type: 'STOP', reason: 'SIGTERM' });
  assert.ok(r.actor.getSnapshot().hasTag('reloading'), 'the reload in progress finishes first');
  await r.finishNext();
  assert.deepEqual(r.log, ['start', 'reload', 'reload', 'stop:SIGTERM']);
  r.actor.send({ type: 'STOP', reason: 'again' });
  await r.finishNext();
  assert.equal(r.actor.getSnapshot().status, 'done');
});

test('gateway life: a stop asked for while starting waits for the start, then stops', async () => {
  const r = rig();
  r.actor.send({ type: 'START' });
  r.actor.send({ type: 'STOP', reason: 'SIGINT' });
  await r.finishNext();
  assert.deepEqual(r.tags(), ['stopping']);
  await r.finishNext();
  assert.deepEqual(r.log, ['start', 'stop:SIGINT']);
});

test('gateway life: a start that fails goes on to stopping (what did open is released)', async () => {
  const r = rig({ startFails: true });
  r.actor.send({ type: 'START' });
  await r.finishNext();
  assert.deepEqual(r.tags(), ['stopping']);
  await r.finishNext();
  assert.deepEqual(r.log, ['start', 'stop:start-failed']);
  assert.equal(r.actor.getSnapshot().status, 'done');
});
