import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../helpers/net.js';
import { Caller, startGateway, tempDir } from './harness.js';
import { ntlmSession } from '../console/harness.js';

const tmp = tempDir();
after(() => tmp.remove());

test('serve with console.enabled: the console answers on loopback with the lines and the recent calls', async () => {
  const port = await freePort();
  const cport = await freePort();
  const gw = await startGateway(`lines: [{ id: tcp0, listen: tcp://127.0.0.1:${port}, mode: raw }]\nauthority: { file: ./smbpasswd }\nconsole: { enabled: true, listen: tcp://127.0.0.1:${cport} }\nshutdown: { grace: 1 }\n`, { dir: tmp.dir, users: [['lena', 'Lena-pw-8']] });
  try {
    await gw.waitLog((l) => l.message === 'console listening', 'console listening');
    const c = new Caller(port);
    await c.login('lena', 'Lena-pw-8');
    await c.waitClosed();
    await gw.waitLog((l) => l.message === 'call summary', 'summary');
    // The console signs operators in with the lines' own accounts (NTLM on the connection).
    assert.equal((await fetch(`http://127.0.0.1:${cport}/api/status`)).status, 401);
    const session = ntlmSession(`http://127.0.0.1:${cport}/`, 'lena', 'Lena-pw-8');
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
  const port = await freePort();
  const gw = await startGateway(`lines: [{ id: tcp0, listen: tcp://127.0.0.1:${port}, mode: raw }]\nauthority: { file: ./smbpasswd2 }\nconsole: { enabled: true, listen: tcp://127.0.0.1:${port} }\nshutdown: { grace: 1 }\n`, { dir: tmp.dir, name: 'busy.yaml' });
  try {
    await gw.waitLog((l) => String(l.message).startsWith('console not started'), 'console failure logged');
    const c = new Caller(port);
    await c.expect(/login: $/);
    c.close();
  } finally {
    assert.equal((await gw.stop()).code, 0);
  }
});
