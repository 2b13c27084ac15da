import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { connect, createServer, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import winston from 'winston';
import { assign, createActor, fromPromise, setup, toPromise } from 'xstate';
import WebSocket from 'ws';
import { createLogger } from '../../src/observe/logger.js';
import { startInspector, combineInspect, SANITIZE } from '../../src/observe/inspector.js';
import { transitionLogger } from '../../src/observe/transitions.js';
import { waitFor } from '../helpers/net.js';
import { request } from '../console/harness.js';

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
    assert.match(inspector.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
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
    const origin = `http://127.0.0.1:${inspector.port}`;
    const viewer = await openViewer(inspector.port, { origin });
    viewer.on('message', (m: Buffer) => received.push(m.toString()));
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
    viewer.close();
  } finally {
    await inspector.stop();
  }
});

/** A WebSocket to the relay, open (or the refusal's HTTP status as an error). */
function openViewer(port: number, o: { origin?: string; host?: string; via?: number } = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${o.via ?? port}/`, { ...(o.origin ? { origin: o.origin } : {}), ...(o.host ? { headers: { Host: o.host } } : {}) });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

test('inspector relay: Host and Origin checked as the console does; a viewer cannot inject; the page follows a tunnel port', { timeout: 15000 }, async () => {
  const logLines: string[] = [];
  const logger = createLogger({ noStdout: true, transports: [new winston.transports.Stream({ stream: new Writable({ write(c, _e, cb) { logLines.push(String(c)); cb(); } }) })] });
  const inspector = await startInspector({ port: 0, logger });
  let tunnel: Server | undefined;
  try {
    const own = `http://127.0.0.1:${inspector.port}`;
    await assert.rejects(openViewer(inspector.port), /HTTP 403/, 'no Origin: not a page of ours');
    await assert.rejects(openViewer(inspector.port, { origin: 'https://evil.example' }), /HTTP 403/, 'a page elsewhere');
    await assert.rejects(openViewer(inspector.port, { origin: 'http://evil.example', host: 'evil.example' }), /HTTP 403/, 'DNS rebinding');
    assert.ok(logLines.some((l) => l.includes('inspector viewer refused')));
    const page = await fetch(inspector.url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<iframe[^>]+src="https:\/\/stately\.ai\/inspect"/);
    assert.match(await (await fetch(new URL('/bridge.js', inspector.url))).text(), /location\.host/, 'the page connects back to where it was loaded from');
    assert.equal((await request(inspector.url, { host: 'evil.example' })).status, 403);

    // Two viewers: what one sends reaches neither the other nor anything else; the gateway's events reach both.
    const a = await openViewer(inspector.port, { origin: own });
    const b = await openViewer(inspector.port, { origin: own });
    const atB: string[] = [];
    b.on('message', (m: Buffer) => atB.push(m.toString()));
    a.send(JSON.stringify({ type: '@xstate.snapshot', sessionId: 'x:0', snapshot: { value: 'injected' } }));
    const actor = createActor(setup({}).createMachine({ id: 'own', initial: 'one', states: { one: { on: { GO: 'two' } }, two: {} } }), { inspect: inspector.inspect });
    actor.start();
    actor.send({ type: 'GO' });
    await waitFor(() => atB.some((m) => m.includes('"two"')), 'the gateway event at viewer b', 5000);
    assert.ok(!atB.some((m) => m.includes('injected')), 'a viewer\'s message is never relayed');
    a.close();
    b.close();

    // Through a tunnel (here a TCP forwarder on another port): the page's Origin and Host carry the tunnel's port.
    tunnel = createServer((inbound) => {
      const out = connect({ port: inspector.port, host: '127.0.0.1' });
      inbound.pipe(out).pipe(inbound);
      inbound.on('error', () => out.destroy());
      out.on('error', () => inbound.destroy());
    });
    await new Promise<void>((r) => tunnel!.listen(0, '127.0.0.1', () => r()));
    const local = (tunnel.address() as { port: number }).port;
    const viaTunnel = await openViewer(inspector.port, { via: local, origin: `http://localhost:${local}`, host: `localhost:${local}` });
    viaTunnel.close();
  } finally {
    tunnel?.close();
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
