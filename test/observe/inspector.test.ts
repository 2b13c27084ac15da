import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { connect, createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import winston from 'winston';
import { assign, createActor, fromPromise, setup, toPromise } from 'xstate';
import { createWebSocketReceiver } from '@statelyai/inspect';
import { createLogger } from '../../src/observe/logger.js';
import { startInspector, combineInspect, SANITIZE } from '../../src/observe/inspector.js';
import { transitionLogger } from '../../src/observe/transitions.js';
import { waitFor } from '../helpers/net.js';

const PASSWORD = 'Tr0ub4dor&3-inspect';
const NT_HEX = 'a4f49c406510bdcab6824ee7c30fd852';
const TOKEN = 'TlRMTVNTUAADAAAAGAAYAEgAAAA=TlRMTVNTUAADAAAAGAAYAEgA';

// A small machine carrying secrets the way the real ones do: in an event, in a promise actor's
// input, in context bytes and in an actor's output.
const machine = setup({
  types: { context: {} as { user: string; ntHash?: Buffer; token?: string; frame?: Uint8Array }, events: {} as { type: 'PASSWORD'; password: string } },
  actors: {
    verify: fromPromise<{ sessionKey: Buffer; user: string }, { user: string; password: string }>(async ({ input }) => ({ sessionKey: Buffer.alloc(16, 7), user: input.user })),
  },
}).createMachine({
  id: 'secretive',
  context: { user: 'alice', ntHash: Buffer.from(NT_HEX, 'hex'), token: TOKEN, frame: new Uint8Array([0x7e, 0xff]) },
  initial: 'asking',
  states: {
    asking: { on: { PASSWORD: { target: 'verifying' } } },
    verifying: {
      invoke: {
        id: 'verify',
        src: 'verify',
        input: ({ context, event }) => ({ user: context.user, password: (event as { password: string }).password }),
        onDone: { target: 'done', actions: assign({ user: ({ event }) => event.output.user }) },
      },
    },
    done: { type: 'final' },
  },
});

function assertClean(text: string) {
  for (const secret of [PASSWORD, NT_HEX, NT_HEX.toUpperCase(), TOKEN, Buffer.from(PASSWORD).toString('base64')]) {
    assert.ok(!text.includes(secret), `leaked ${secret}`);
  }
}

test('sanitizers strip secrets from events, contexts and whole inspection events', () => {
  const seen: unknown[] = [];
  const actor = createActor(machine, { inspect: (ev) => seen.push(SANITIZE.serialize({ ...ev, actorRef: undefined, snapshot: 'snapshot' in ev ? ev.snapshot : undefined, event: 'event' in ev ? SANITIZE.sanitizeEvent(ev.event) : undefined })) });
  actor.start();
  actor.send({ type: 'PASSWORD', password: PASSWORD });
  const text = JSON.stringify(seen);
  assertClean(text);
  assert.match(text, /"password":"\[redacted\]"/);
  assert.match(text, /\[2 bytes\]/);
});

test('inspector relay binds loopback, and what a viewer receives carries no secret', { timeout: 15000 }, async () => {
  const logLines: string[] = [];
  const logger = createLogger({ noStdout: true, transports: [new winston.transports.Stream({ stream: new Writable({ write(c, _e, cb) { logLines.push(String(c)); cb(); } }) })] });
  const inspector = await startInspector({ port: 0, logger });
  try {
    // Bound to loopback only: a connection to another local address of this host is refused.
    assert.match(inspector.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const other = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal);
    if (other) {
      await assert.rejects(
        new Promise((resolve, reject) => {
          const s = connect({ host: other.address, port: inspector.port });
          s.once('connect', () => {
            s.destroy();
            resolve(undefined);
          });
          s.once('error', reject);
        }),
        /ECONNREFUSED/,
      );
    }
    const received: string[] = [];
    const receiver = createWebSocketReceiver({ server: `ws://127.0.0.1:${inspector.port}` });
    receiver.subscribe((ev) => received.push(JSON.stringify(ev)));
    await new Promise((r) => setTimeout(r, 300));
    const actor = createActor(machine, { inspect: combineInspect(inspector.inspect, transitionLogger({ logger, line: 'tcp0', call: 'tcp0-1' })) });
    const done = toPromise(actor);
    actor.start();
    actor.send({ type: 'PASSWORD', password: PASSWORD });
    await done;
    await waitFor(() => received.some((r) => r.includes('"done"')), 'inspection events at the viewer', 5000);
    const text = received.join('\n');
    assertClean(text);
    assert.match(text, /PASSWORD/);
    assertClean(logLines.join(''));
    const transitions = logLines.map((l) => JSON.parse(l)).filter((l) => l.message === 'transition');
    assert.deepEqual(transitions.map((t) => [t.machine, t.from, t.to, t.event, t.line, t.call]), [
      ['secretive', null, 'asking', 'xstate.init', 'tcp0', 'tcp0-1'],
      ['secretive', 'asking', 'verifying', 'PASSWORD', 'tcp0', 'tcp0-1'],
      ['secretive', 'verifying', 'done', 'xstate.done.actor.verify', 'tcp0', 'tcp0-1'],
    ]);
  } finally {
    await inspector.stop();
  }
});

test('inspector relay on a busy port fails cleanly instead of crashing', async () => {
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
  const port = (busy.address() as { port: number }).port;
  try {
    await assert.rejects(startInspector({ port, logger: createLogger({ silent: true }) }), /EADDRINUSE/);
  } finally {
    busy.close();
  }
});
