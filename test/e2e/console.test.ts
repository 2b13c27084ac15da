import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { Caller, startGateway, tempDir } from './harness.js';
import { ntlmSession } from '../console/harness.js';

const tmp = tempDir();
after(() => tmp.remove());

test('serve with console.enabled: the console answers on loopback with the lines and the recent calls', async () => {
  const gw = await startGateway(`lines: [{ id: tcp0, listen: tcp://127.0.0.1:0, mode: raw }]\nauthority: { file: ./smbpasswd }\nconsole: { enabled: true, listen: tcp://127.0.0.1:0 }\nshutdown: { grace: 1 }\n`, { dir: tmp.dir, users: [['lena', 'Lena-pw-8']] });
  try {
    const listening = await gw.waitLog((l) => l.message === 'console listening', 'console listening');
    const c = new Caller(gw.port('tcp0'));
    await c.login('lena', 'Lena-pw-8');
    await c.waitClosed();
    await gw.waitLog((l) => l.message === 'call summary', 'summary');
    // The console signs operators in with the lines' own accounts (NTLM on the connection); its own url: the port the kernel gave it.
    const base = String(listening.url);
    assert.equal((await fetch(new URL('api/status', base))).status, 401);
    const session = ntlmSession(base, 'lena', 'Lena-pw-8');
    assert.equal((await session.signIn()).status, 200);
    const res = await session.request('/api/status');
    session.close();
    assert.equal(res.status, 200);
    const body = res.body;
    const status = JSON.parse(body) as { lines: { id: string }[]; recent: { user?: string; outcome: string }[] };
    assert.deepEqual(status.lines.map((l) => l.id), ['tcp0']);
    assert.equal(status.recent[0]?.user, 'lena');
    assert.equal(status.recent[0]?.outcome, 'accepted');
    assert.ok(!body.includes('Lena-pw-8'));
  } finally {
    assert.equal((await gw.stop()).code, 0);
  }
});

test('a console that cannot bind is logged; the gateway serves without it', async () => {
  // The console's port is held by a listener of ours (port 0, kept open), so its bind fails.
  const holder = createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
  const held = (holder.address() as { port: number }).port;
  const gw = await startGateway(`lines: [{ id: tcp0, listen: tcp://127.0.0.1:0, mode: raw }]\nauthority: { file: ./smbpasswd2 }\nconsole: { enabled: true, listen: tcp://127.0.0.1:${held} }\nshutdown: { grace: 1 }\n`, { dir: tmp.dir, name: 'busy.yaml' });
  try {
    await gw.waitLog((l) => String(l.message).startsWith('console not started'), 'console failure logged');
    const c = new Caller(gw.port('tcp0'));
    await c.expect(/login: $/);
    c.close();
  } finally {
    assert.equal((await gw.stop()).code, 0);
    holder.close();
  }
});
