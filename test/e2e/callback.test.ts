/**
 * Callback with the real `rasgate serve` and the demo caller (scripts/sim-caller.ts): a local
 * account given a preset number with `rasgate user callback` dials in over the simulated
 * modem's far side, is hung up on, is called back on the caller script's listener and logs in
 * again; a Set By Caller account gives its number at the prompt. Real time (a child process):
 * every wait has a wide margin. Everything listens on port 0: the dial plan's numbers lead to
 * exchanges the test runs, which put the call through to where the caller script listens.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect, createServer, type Server } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, addUser, startGateway, tempDir, type Gateway } from './harness.js';
import { rasgate } from '../helpers/cli.js';
import { waitFor } from '../helpers/net.js';

const work = tempDir('rasgate-e2e-cb-');
const gateways: Gateway[] = [];
after(async () => {
  for (const g of gateways) await g.stop();
  work.remove();
});

/** The demo caller, running; `done` is its exit code and output. */
function simCaller(args: string[]): { err: () => string; done: Promise<{ code: number | null; out: string; err: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/sim-caller.ts'), '--timeout', '90', ...args], { cwd: ROOT });
  let out = '';
  let err = '';
  child.stdout.setEncoding('latin1').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('latin1').on('data', (d: string) => (err += d));
  const timer = setTimeout(() => child.kill(), 120_000);
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    }),
  );
  return { err: () => err, done };
}

/** A telephone exchange on port 0: each call it takes goes through to the port `to()` names. */
async function exchange(to: () => number | undefined): Promise<{ port: number; server: Server }> {
  const server = createServer((socket) => {
    const port = to();
    if (!port) return void socket.destroy();
    const onward = connect(port, '127.0.0.1');
    socket.pipe(onward).pipe(socket);
    onward.on('error', () => socket.destroy());
    socket.on('error', () => onward.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  exchanges.push(server);
  return { port: (server.address() as { port: number }).port, server };
}
const exchanges: Server[] = [];
after(() => exchanges.forEach((s) => s.close()));

/** Where the caller script waits for the call back (it says so on stderr). */
const waitingAt = (err: string) => Number(/waiting for the call back on tcp:\/\/\S+:(\d+)\n/.exec(err)?.[1]) || undefined;

test('serve + sim-caller: Preset and Set By Caller users are called back and log in again; the summary says so', async () => {
  const callers: { alice?: ReturnType<typeof simCaller>; bob?: ReturnType<typeof simCaller> } = {};
  const phone = (await exchange(() => callers.alice && waitingAt(callers.alice.err()))).port;
  const phone2 = (await exchange(() => callers.bob && waitingAt(callers.bob.err()))).port;
  const config = join(work.dir, 'rasgate.yaml');
  const yaml = `lines:
  - id: sim0
    device: "sim://e2ecb?far=tcp://127.0.0.1:0&dial=5551234=tcp://127.0.0.1:${phone}&dial=5557777=tcp://127.0.0.1:${phone2}"
    action: hangup
    callback: { delaySeconds: 2, allow: ['555*'] }
authority: { type: local, file: ./var/smbpasswd, domain: E2E }
`;
  writeFileSync(config, yaml);
  addUser(config, 'alice', 'Alice-pw-1');
  addUser(config, 'bob', 'Bob-pw-2');
  assert.equal(rasgate(['user', 'callback', 'alice', '--preset', '555-1234', '--config', config]).code, 0);
  assert.equal(rasgate(['user', 'callback', 'bob', '--caller-set', '--config', config]).code, 0);
  const gw = await startGateway(yaml, { dir: work.dir });
  gateways.push(gw);

  const far = gw.port('sim0');
  const alice = (callers.alice = simCaller(['--to', `tcp://127.0.0.1:${far}`, '--user', 'alice', '--password', 'Alice-pw-1', '--callback-listen', 'tcp://127.0.0.1:0']));
  const a1 = await alice.done;
  assert.equal(a1.code, 0, `${a1.err}\n${a1.out}`);
  assert.match(a1.out, /Calling you back at \.\.\.-1234/);
  assert.match(a1.err, /called back: answering/);
  assert.match(a1.out, /Login accepted\. Goodbye\./, 'the session on the callback (a hangup line says so)');
  const a = await gw.waitLog((l) => l.message === 'call summary' && l.user === 'alice', 'alice summary', 30_000);
  assert.equal(a.outcome, 'accepted');
  assert.deepEqual(a.callback, { number: '555-1234', source: 'preset', attempts: 1 });
  // The line answers again once its init chat is over (ATZ would end a call ringing before that).
  const idle = () => {
    const st = rasgate(['status', '--json', '--config', config]);
    return st.code === 0 && (JSON.parse(st.out) as { lines: { id: string; state: string }[] }).lines.find((l) => l.id === 'sim0')?.state === 'idle';
  };
  await waitFor(idle, 'the line idle again (rasgate status)', 30_000, 500);

  const bob = (callers.bob = simCaller(['--to', `tcp://127.0.0.1:${far}`, '--user', 'bob', '--password', 'Bob-pw-2', '--callback-number', '555-7777', '--callback-listen', 'tcp://127.0.0.1:0']));
  const b1 = await bob.done;
  assert.equal(b1.code, 0, `${b1.err}\n${b1.out}`);
  assert.match(b1.out, /Calling you back at \.\.\.-7777/);
  const b = await gw.waitLog((l) => l.message === 'call summary' && l.user === 'bob', 'bob summary', 30_000);
  assert.equal(b.outcome, 'accepted');
  assert.deepEqual(b.callback, { number: '555-7777', source: 'caller', attempts: 1 });
  assert.ok(!gw.stdout.join('\n').includes('Alice-pw-1'), 'no password in the log');
});
