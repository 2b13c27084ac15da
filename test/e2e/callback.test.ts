/**
 * Callback with the real `rasgate serve` and the demo caller (scripts/sim-caller.ts): a local
 * account given a preset number with `rasgate user callback` dials in over the simulated
 * modem's far side, is hung up on, is called back on the caller script's listener and logs in
 * again; a Set By Caller account gives its number at the prompt. Real time (a child process):
 * every wait has a wide margin.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, addUser, startGateway, tempDir, type Gateway } from './harness.js';
import { rasgate } from '../helpers/cli.js';
import { freePort, waitFor } from '../helpers/net.js';

const work = tempDir('rasgate-e2e-cb-');
const gateways: Gateway[] = [];
after(async () => {
  for (const g of gateways) await g.stop();
  work.remove();
});

function simCaller(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/sim-caller.ts'), '--timeout', '90', ...args], { cwd: ROOT, encoding: 'latin1', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('serve + sim-caller: Preset and Set By Caller users are called back and log in again; the summary says so', async () => {
  const [far, phone, phone2] = [await freePort(), await freePort(), await freePort()];
  const config = join(work.dir, 'rasgate.yaml');
  const yaml = `lines:
  - id: sim0
    device: "sim://e2ecb?far=tcp://127.0.0.1:${far}&dial=5551234=tcp://127.0.0.1:${phone}&dial=5557777=tcp://127.0.0.1:${phone2}"
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

  const alice = simCaller(['--to', `tcp://127.0.0.1:${far}`, '--user', 'alice', '--password', 'Alice-pw-1', '--callback-listen', `tcp://127.0.0.1:${phone}`]);
  assert.equal(alice.code, 0, `${alice.err}\n${alice.out}`);
  assert.match(alice.out, /Calling you back at \.\.\.-1234/);
  assert.match(alice.err, /called back: answering/);
  assert.match(alice.out, /Login accepted\. Goodbye\./, 'the session on the callback (a hangup line says so)');
  const a = await gw.waitLog((l) => l.message === 'call summary' && l.user === 'alice', 'alice summary', 30_000);
  assert.equal(a.outcome, 'accepted');
  assert.deepEqual(a.callback, { number: '555-1234', source: 'preset', attempts: 1 });
  // The line answers again once its init chat is over (ATZ would end a call ringing before that).
  const after = gw.logs.indexOf(a);
  await waitFor(() => gw.logs.slice(after).some((l) => l.message === 'transition' && l.machine === 'line' && String(l.to).startsWith('open.idle')), 'the line idle again', 30_000);

  const bob = simCaller(['--to', `tcp://127.0.0.1:${far}`, '--user', 'bob', '--password', 'Bob-pw-2', '--callback-number', '555-7777', '--callback-listen', `tcp://127.0.0.1:${phone2}`]);
  assert.equal(bob.code, 0, `${bob.err}\n${bob.out}`);
  assert.match(bob.out, /Calling you back at \.\.\.-7777/);
  const b = await gw.waitLog((l) => l.message === 'call summary' && l.user === 'bob', 'bob summary', 30_000);
  assert.equal(b.outcome, 'accepted');
  assert.deepEqual(b.callback, { number: '555-7777', source: 'caller', attempts: 1 });
  assert.ok(!gw.stdout.join('\n').includes('Alice-pw-1'), 'no password in the log');
});
