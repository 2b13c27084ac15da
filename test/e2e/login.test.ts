import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Caller, startGateway, tempDir, type Gateway } from './harness.js';

const tmp = tempDir();
after(() => tmp.remove());

test('a caller on a TCP line logs in with the right password and is refused with a wrong one', async () => {
  const yaml = `lines:
  - { id: tcp0, listen: tcp://127.0.0.1:0, mode: raw }
authority: { type: local, file: ./smbpasswd, domain: RASGATE }
dialogue: { failureDelaysSeconds: [0], maxAttempts: 2 }
log: { modules: { ntlm: debug } }
shutdown: { grace: 2 }
`;
  const gw: Gateway = await startGateway(yaml, { dir: tmp.dir, users: [['Alice', 'S3cret-pass']] });
  try {
    const port = gw.port('tcp0');
    const ok = new Caller(port);
    await ok.login('alice', 'S3cret-pass');
    await ok.expect(/Login accepted\. Goodbye\./); // a `hangup` line says the result before dropping
    await ok.waitClosed();
    const summary = await gw.waitLog((l) => l.message === 'call summary' && l.outcome === 'accepted', 'success summary');
    assert.equal(summary.user, 'Alice');
    assert.equal(summary.domain, 'RASGATE');

    const bad = new Caller(port);
    await bad.login('alice', 'wrong');
    await bad.expect(/Login incorrect/);
    await bad.expect(/login: $/);
    bad.type('alice\r');
    await bad.expect(/Password: $/);
    bad.type('wrong again\r');
    await bad.waitClosed();
    const refused = await gw.waitLog((l) => l.message === 'call summary' && l.outcome === 'bad-credentials', 'failure summary');
    assert.equal(refused.level, 'warn');
    // The summary carries the peer, every name tried and the raserror; every record of the call carries its ids.
    assert.equal(refused.peer, '127.0.0.1');
    assert.deepEqual(refused.users, ['alice', 'alice']);
    assert.equal(refused.rasError, 691);
    const ntlm = gw.logs.filter((l) => l.message === 'ntlm logon refused' || l.message === 'ntlm logon accepted');
    assert.ok(ntlm.length >= 3, 'the acceptor logged each attempt');
    assert.ok(ntlm.every((l) => l.line === 'tcp0' && typeof l.call === 'string' && l.call.startsWith('tcp0-')), JSON.stringify(ntlm));
  } finally {
    const r = await gw.stop();
    assert.equal(r.code, 0, gw.stdout.slice(-8).join('\n'));
  }
});
