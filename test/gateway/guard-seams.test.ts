/**
 * The guessing defence through the Gateway's own methods (what the control socket and the
 * console call): a lock survives a SIGHUP reload; Gateway.unlock() ends the lockout and the
 * store's L flag, recorded with the operator's name; the read models show what is held.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gateway } from '../../src/gateway/daemon.js';
import { loadConfigFile } from '../../src/gateway/config.js';
import { nullLogger } from '../../src/observe/logger.js';
import { SmbpasswdStore } from '../../src/authority/local/index.js';
import { ntowfv1 } from '../../src/ntlm/crypto.js';
import type { AuditEvent } from '../../src/audit/events.js';
import type { CallSummary } from '../../src/gateway/call-runner.js';
import { waitFor } from '../helpers/net.js';
import { Caller } from '../e2e/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'rasgate-guard-seams-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a lock survives a reload; Gateway.unlock ends it and the L flag, in the audit trail with who did it', async () => {
  const file = join(dir, 'rasgate.yaml');
  const store = new SmbpasswdStore(join(dir, 'smbpasswd'));
  await store.update((ed) => ed.put({ name: 'kim', uid: 1000, ntHash: ntowfv1('Kim-pw-3'), hasLmHash: false, flags: new Set(['U']), lastChange: 0x5f5e1000 }));
  const yaml = (maxDenials: number) => `lines: [{ id: t0, listen: tcp://127.0.0.1:0, mode: raw }]
authority: { file: ./smbpasswd }
dialogue: { maxAttempts: 1, failureDelaysSeconds: [0] }
lockout: { maxDenials: ${maxDenials} }
penalties: { allow: [127.0.0.1] }
shutdown: { grace: 0 }
`;
  writeFileSync(file, yaml(2));
  const events: AuditEvent[] = [];
  const summaries: CallSummary[] = [];
  const gw = new Gateway({ loaded: loadConfigFile(file), logger: nullLogger(), audit: { record: (e) => void events.push(e) }, onCallEnd: (s) => void summaries.push(s) });
  let port = 0; // the kernel's, once started (a reload that keeps the line keeps it)
  const attempt = async (password: string) => {
    const c = new Caller(port);
    await c.login('kim', password);
    await c.waitClosed();
    await waitFor(() => summaries.length === attempts + 1, 'the call summary');
    attempts++;
    return summaries.at(-1)!.outcome;
  };
  let attempts = 0;
  try {
    await gw.start();
    port = gw.port('t0')!;
    assert.equal(await attempt('x'), 'bad-credentials');
    assert.equal(await attempt('y'), 'bad-credentials');
    assert.equal(await attempt('Kim-pw-3'), 'refused-locked');
    assert.deepEqual(gw.lockouts().map((l) => [l.name, l.denials, l.until !== undefined]), [['kim', 2, true]]);
    writeFileSync(file, yaml(5));
    await gw.reload();
    assert.equal(await attempt('Kim-pw-3'), 'refused-locked', 'a reload keeps the lock');
    await store.update((ed) => ed.put({ ...ed.get('kim')!, flags: new Set(['U', 'L']) }));
    assert.deepEqual(await gw.unlock('KIM', { by: 'alice', via: 'console' }), { lockout: true, flag: true });
    assert.equal(await attempt('Kim-pw-3'), 'accepted');
    const ops = events.filter((e) => e.event === 'operator' || e.event === 'lockout-end');
    assert.deepEqual(ops.map((e) => [e.event, 'action' in e ? e.action : e.why, 'by' in e ? e.by : undefined]), [
      ['lockout-end', 'cleared', 'alice'],
      ['operator', 'lockout-clear', 'alice'],
      ['operator', 'user-unlock', 'alice'],
    ]);
    assert.deepEqual(gw.activePenalties(), []);
    assert.deepEqual(gw.pausedLines(), []);
  } finally {
    await gw.stop();
  }
});
