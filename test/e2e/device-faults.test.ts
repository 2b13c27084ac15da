/**
 * A device the service may not open, against the real `rasgate serve` run as an unprivileged
 * user: the line waits and retries, the log says the cause and the fix, the other lines serve,
 * and the device is taken as soon as the permission is put right.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needs } from '../helpers/tools.js';
import { waitFor } from '../helpers/net.js';
import { Caller, addUser, startGateway, tempDir } from './harness.js';

const NOBODY = 65534;

function chownTree(dir: string, uid: number): void {
  chownSync(dir, uid, uid);
  for (const name of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, name.name);
    if (name.isDirectory()) chownTree(p, uid);
    else if (name.isFile()) chownSync(p, uid, uid);
  }
}

test('a device the service user may not open: retried, cause and fix logged, other lines serve, taken once permitted', { skip: needs('root', 'socat') }, async (t) => {
  const tmp = tempDir('rasgate-perm-');
  t.after(() => tmp.remove());
  const ptyLink = join(tmp.dir, 'ttyMODEM');
  const socat = spawn('socat', [`pty,raw,echo=0,link=${ptyLink}`, `pty,raw,echo=0,link=${join(tmp.dir, 'ttyFAR')}`], { stdio: 'ignore' });
  t.after(() => socat.kill());
  await waitFor(() => existsSync(ptyLink) && existsSync(join(tmp.dir, 'ttyFAR')), 'socat ptys');
  const device = realpathSync(ptyLink);
  chmodSync(device, 0o600); // root only: the service user cannot open it
  const yaml = `lines:\n  - { id: dev0, device: ${ptyLink}, modem: { reopenBaseMs: 200, reopenMaxMs: 1000, chatTimeoutMs: 300 } }\n  - { id: tcp0, listen: tcp://127.0.0.1:0, mode: raw }\nauthority: { file: ./smbpasswd }\nshutdown: { grace: 1 }\n`;
  writeFileSync(join(tmp.dir, 'rasgate.yaml'), yaml);
  addUser(join(tmp.dir, 'rasgate.yaml'), 'ada', 'Ada-pw-1');
  chownTree(tmp.dir, NOBODY);
  chmodSync(tmp.dir, 0o755);
  const gw = await startGateway(yaml, { dir: tmp.dir, uid: NOBODY });
  try {
    const refused = await gw.waitLog((l) => l.message === 'cannot open the device: retrying with backoff', 'the open failure logged');
    assert.equal(refused.line, 'dev0');
    assert.equal(refused.cause, 'permission denied');
    assert.match(String(refused.fix), /group tty|group root/);
    assert.match(String(refused.fix), /usermod -aG .* rasgate/);
    assert.match(String(refused.fix), /uid 65534/);
    // Retries do not repeat the record (the throttle keeps the journal readable).
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(gw.logs.filter((l) => l.message === 'cannot open the device: retrying with backoff').length, 1);
    const c = new Caller(gw.port('tcp0'));
    await c.login('ada', 'Ada-pw-1');
    await c.expect(/Login accepted/);
    chmodSync(device, 0o666); // the operator fixes it (a udev rule, a group): no restart needed
    const opened = await gw.waitLog((l) => l.message === 'device open' && l.line === 'dev0', 'the device taken once permitted');
    assert.ok(Number(opened.afterFailedAttempts) >= 1);
  } finally {
    assert.equal((await gw.stop()).code, 0, gw.stderr.join('\n'));
  }
});
