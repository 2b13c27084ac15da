/** SIGHUP semantics of Gateway.reload(): lines added, removed, changed; calls kept. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gateway } from '../../src/gateway/daemon.js';
import { loadConfigFile } from '../../src/gateway/config.js';
import { nullLogger } from '../../src/observe/logger.js';
import { SmbpasswdStore } from '../../src/authority/local/index.js';
import { ntowfv1 } from '../../src/ntlm/crypto.js';
import { waitFor } from '../helpers/net.js';
import { Caller } from '../e2e/harness.js';

test('reload: a removed line stops answering but keeps its call; an added line answers; a changed action applies to new calls', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rasgate-reload-'));
  const svc = createServer((s) => s.pipe(s));
  const conns = new Set<Socket>();
  svc.on('connection', (s) => {
    conns.add(s);
    s.on('close', () => conns.delete(s));
  });
  await new Promise<void>((r) => svc.listen(0, '127.0.0.1', () => r()));
  const bridge = `{ bridge: tcp://127.0.0.1:${(svc.address() as { port: number }).port} }`;
  const file = join(dir, 'rasgate.yaml');
  const store = new SmbpasswdStore(join(dir, 'smbpasswd'));
  await store.update((ed) => ed.put({ name: 'kim', uid: 1000, ntHash: ntowfv1('Kim-pw-6'), hasLmHash: false, flags: new Set(['U']), lastChange: 0x5f5e1000 }));
  writeFileSync(file, `lines:\n  - { id: a, listen: tcp://127.0.0.1:0, mode: raw, action: ${bridge} }\n  - { id: b, listen: tcp://127.0.0.1:0, mode: raw }\nauthority: { file: ./smbpasswd }\nshutdown: { grace: 0 }\n`);
  const gw = new Gateway({ loaded: loadConfigFile(file), logger: nullLogger() });
  try {
    await gw.start();
    const [a, b] = [gw.port('a')!, gw.port('b')!];
    const kept = new Caller(a);
    await kept.login('kim', 'Kim-pw-6');
    await waitFor(() => conns.size === 1, 'bridge up');

    // a removed, b's action changed to the bridge, c added.
    writeFileSync(file, `lines:\n  - { id: b, listen: tcp://127.0.0.1:0, mode: raw, action: ${bridge} }\n  - { id: c, listen: tcp://127.0.0.1:0, mode: raw }\nauthority: { file: ./smbpasswd }\nshutdown: { grace: 0 }\n`);
    await gw.reload();
    assert.deepEqual(gw.status().lines.map((l) => l.id).sort(), ['b', 'c']);
    const c = gw.port('c')!; // b keeps its listener, and so its port: only its action changed
    await assert.rejects(new Caller(a).ready, /ECONNREFUSED/);
    kept.type('still here\r');
    await kept.expect(/still here\r/);

    const viaB = new Caller(b);
    await viaB.login('kim', 'Kim-pw-6');
    await waitFor(() => conns.size === 2, 'b now bridges');
    const viaC = new Caller(c);
    await viaC.expect(/login: $/);
    viaC.close();
    viaB.close();
    kept.close();
    await waitFor(() => gw.status().calls === 0, 'calls over');
  } finally {
    await gw.stop();
    for (const s of conns) s.destroy();
    svc.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
