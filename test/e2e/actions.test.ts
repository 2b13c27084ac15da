import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { closedPort, waitFor } from '../helpers/net.js';
import { Caller, ROOT, startGateway, tempDir, type Gateway } from './harness.js';

const tmp = tempDir();
let gw: Gateway;
let echo: Server;
const echoSockets = new Set<Socket>();
const ports: Record<string, number> = {};
const MARKER = join(tmp.dir, 'sighup-marker');
const FIXTURE = join(ROOT, 'test/e2e/fixtures/echo-env.mjs');

before(async () => {
  echo = createServer((s) => {
    echoSockets.add(s);
    s.on('close', () => echoSockets.delete(s));
    s.on('error', () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  const closed = await closedPort(); // the bridge target of refused0: nothing listens there
  const yaml = `
lines:
  - { id: bridge0, listen: tcp://127.0.0.1:0, mode: raw, action: { bridge: tcp://127.0.0.1:${(echo.address() as { port: number }).port} } }
  - { id: refused0, listen: tcp://127.0.0.1:0, mode: raw, action: { bridge: tcp://127.0.0.1:${closed}, connectTimeout: 2 } }
  - { id: exec0, listen: tcp://127.0.0.1:0, mode: raw, action: shell }
  - { id: ppp0, listen: tcp://127.0.0.1:0, mode: raw, action: shell, ppp: exec }
  - { id: stubborn0, listen: tcp://127.0.0.1:0, mode: raw, action: { exec: [${JSON.stringify(process.execPath)}, ${JSON.stringify(FIXTURE)}], env: { IGNORE_HUP: "1" }, killGrace: 1 } }
actions:
  shell: { exec: [${JSON.stringify(process.execPath)}, ${JSON.stringify(FIXTURE)}], env: { MARKER: ${JSON.stringify(MARKER)} }, killGrace: 2 }
authority: { type: local, file: ./smbpasswd, domain: GATE }
dialogue: { failureDelaysSeconds: [0] }
shutdown: { grace: 1 }
`;
  gw = await startGateway(yaml, { dir: tmp.dir, users: [['carol', 'Carol-pw-1']] });
  for (const k of ['bridge', 'refused', 'exec', 'ppp', 'stubborn']) ports[k] = gw.port(`${k}0`);
});

after(async () => {
  await gw?.stop();
  for (const s of echoSockets) s.destroy();
  echo.close();
  tmp.remove();
});

test('bridge: both directions until the service closes, then the call hangs up', async () => {
  const c = new Caller(ports.bridge!);
  await c.login('carol', 'Carol-pw-1');
  await waitFor(() => echoSockets.size === 1, 'bridge connection');
  c.type('ping over the bridge\r');
  await c.expect(/ping over the bridge\r/);
  for (const s of echoSockets) s.end();
  await c.waitClosed();
  const s = await gw.waitLog((l) => l.message === 'call summary' && l.line === 'bridge0', 'bridge summary');
  assert.equal(s.outcome, 'accepted');
  assert.ok((s.bytesIn as number) > 20 && (s.bytesOut as number) > 20);
});

test('bridge: the caller hanging up closes the TCP side', async () => {
  const c = new Caller(ports.bridge!);
  await c.login('carol', 'Carol-pw-1');
  await waitFor(() => echoSockets.size === 1, 'bridge connection');
  c.close();
  await waitFor(() => echoSockets.size === 0, 'service side closed');
});

test('bridge: a target that refuses tells the caller and hangs up', async () => {
  const c = new Caller(ports.refused!);
  await c.login('carol', 'Carol-pw-1');
  await c.expect(/The service is not reachable, please try again later/);
  await c.waitClosed();
  const s = await gw.waitLog((l) => l.message === 'call summary' && l.line === 'refused0', 'refused summary');
  assert.equal(s.outcome, 'action-failed');
  assert.equal(s.reason, 'BRIDGE_CONNECT_FAILED');
});

test('exec: the program gets the line and RASGATE_* (identity from the authority), its exit ends the call', async () => {
  const c = new Caller(ports.exec!);
  await c.login('CAROL', 'Carol-pw-1');
  await c.expect(/READY\r\n/);
  assert.match(c.text, /RASGATE_USER=carol\r\n/); // as the store spells it, not as typed
  assert.match(c.text, /RASGATE_DOMAIN=GATE\r\n/);
  assert.match(c.text, /RASGATE_LINE=exec0\r\n/);
  assert.match(c.text, /RASGATE_CALL=exec0-\d+\r\n/);
  assert.match(c.text, /SECRET_SEEN=\r\n/);
  c.type('hello program\r');
  await c.expect(/ECHO:hello program/);
  c.type('bye\r');
  await c.waitClosed();
  const s = await gw.waitLog((l) => l.message === 'call summary' && l.line === 'exec0', 'exec summary');
  assert.equal(s.outcome, 'accepted');
});

test('exec: carrier loss sends SIGHUP to the program', async () => {
  const c = new Caller(ports.exec!);
  await c.login('carol', 'Carol-pw-1');
  await c.expect(/READY/);
  c.close();
  try {
    await waitFor(() => existsSync(MARKER), 'the program saw SIGHUP', 5000);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${gw.stdout.filter((l) => l.includes('exec0')).slice(-15).join('\n')}`);
  }
  assert.equal(readFileSync(MARKER, 'utf8'), 'SIGHUP');
});

test('exec: a program that ignores SIGHUP is killed after killGrace', async () => {
  const c = new Caller(ports.stubborn!);
  await c.login('carol', 'Carol-pw-1');
  await c.expect(/READY/);
  const t0 = Date.now();
  c.close();
  const ended = await gw.waitLog((l) => l.message === 'program ended' && l.line === 'stubborn0', 'program ended');
  assert.equal(ended.signal, 'SIGKILL');
  assert.ok(Date.now() - t0 >= 900, 'the grace was given');
});

test('PPP at the prompt is refused on a line without ppp: exec', async () => {
  const c = new Caller(ports.exec!);
  await c.expect(/login: $/);
  c.socket.write(Buffer.from([0x7e, 0xff, 0x7d, 0x23, 0xc0, 0x21, 0x7d, 0x21]));
  await c.expect(/PPP is not available on this line/);
  await c.waitClosed();
  const s = await gw.waitLog((l) => l.message === 'call summary' && l.outcome === 'protocol' && l.reason === 'ppp-refused', 'ppp-refused summary');
  assert.equal(s.line, 'exec0');
});

test('PPP at the prompt goes to the exec program with the frame bytes first on a ppp: exec line', async () => {
  const c = new Caller(ports.ppp!);
  await c.expect(/login: $/);
  c.socket.write(Buffer.from([0x7e, 0xff, 0x7d, 0x23, 0xc0, 0x21, 0x7d, 0x21]));
  await c.expect(/FIRST=7eff7d23c021/);
  assert.match(c.text, /RASGATE_USER=\r\n/);
  c.type('\rbye\r');
  await c.waitClosed();
});
