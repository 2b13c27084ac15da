/**
 * Fault isolation inside one daemon process: a simulated modem unplugged, a verifier that
 * throws for one caller, garbage on a TCP line — while the other lines keep completing calls.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import winston from 'winston';
import { Gateway } from '../../src/gateway/daemon.js';
import { parseConfig } from '../../src/gateway/config.js';
import type { CallSummary } from '../../src/gateway/call-runner.js';
import { createLogger } from '../../src/observe/logger.js';
import { SmbpasswdStore } from '../../src/authority/local/index.js';
import { ntowfv1 } from '../../src/ntlm/crypto.js';
import { waitFor } from '../helpers/net.js';
import { Caller } from '../e2e/harness.js';

let gwRef: Gateway | undefined;

async function simLogin(modemName: string, user: string, password: string): Promise<string> {
  const lineId = modemName === 'isoA' ? 'simA' : 'simB';
  await waitFor(() => gwRef?.status().lines.find((l) => l.id === lineId)?.state === 'idle', `${lineId} idle`, 40_000);
  const modem = gwRef!.simModems.find(modemName)!;
  const caller = modem.dial({ number: '5550100' });
  let text = '';
  caller.onReceive((b) => (text += b.toString('latin1')));
  let ended = false;
  caller.onEnd(() => (ended = true));
  await waitFor(() => /login: $/.test(text), `${modemName} login prompt`, 15_000);
  caller.type(`${user}\r`);
  await waitFor(() => /Password: $/.test(text), `${modemName} password prompt`);
  caller.type(`${password}\r`);
  await waitFor(() => ended, `${modemName} call end`, 15_000);
  return text;
}

test('one line losing its device, one call crashing its verifier and line noise leave the other lines serving', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rasgate-iso-'));
  const store = new SmbpasswdStore(join(dir, 'smbpasswd'));
  await store.update((ed) => ed.put({ name: 'judy', uid: 1000, ntHash: ntowfv1('Judy-pw-5'), hasLmHash: false, flags: new Set(['U']), lastChange: 0x5f5e1000 }));
  const loaded = parseConfig(
    `lines:
  - { id: simA, device: "sim://isoA" }
  - { id: simB, device: "sim://isoB" }
  - { id: tcp0, listen: tcp://127.0.0.1:0, mode: raw }
authority: { file: ./smbpasswd, domain: ISO }
dialogue: { failureDelaysSeconds: [0], maxAttempts: 1 }
shutdown: { grace: 1 }
`,
    'iso.yaml',
    dir,
  );
  assert.deepEqual(loaded.issues, []);
  const records: Record<string, unknown>[] = [];
  const logger = createLogger({ noStdout: true, transports: [new winston.transports.Stream({ stream: new Writable({ write(c, _e, cb) { records.push(JSON.parse(String(c))); cb(); } }) })] });
  const summaries: CallSummary[] = [];
  const gw = new Gateway({
    loaded: { config: loaded.config!, source: 'iso.yaml', baseDir: dir },
    logger,
    onCallEnd: (s) => summaries.push(s),
    wrapVerifier: (v) => (input, signal) => {
      if (input.user === 'boom') throw new TypeError('injected verifier fault');
      return v(input, signal);
    },
  });
  gwRef = gw;
  try {
    await gw.start();
    const port = gw.port('tcp0')!;
    assert.match(await simLogin('isoA', 'judy', 'Judy-pw-5'), /Password: /);
    assert.equal(summaries.at(-1)?.outcome, 'accepted');

    // Unplug A: its line goes to reopening; B and the TCP line keep completing calls.
    gw.simModems.find('isoA')!.unplug();
    await waitFor(() => gw.status().lines.find((l) => l.id === 'simA')?.state === 'reopening', 'simA reopening', 10_000);
    await simLogin('isoB', 'judy', 'Judy-pw-5');
    assert.equal(summaries.at(-1)?.line, 'simB');
    assert.equal(summaries.at(-1)?.outcome, 'accepted');

    // A verifier that throws for one caller: that call ends as an internal error, nothing else notices.
    const boom = new Caller(port);
    await boom.login('boom', 'x');
    await boom.waitClosed();
    assert.equal(summaries.at(-1)?.outcome, 'internal-error');
    assert.match(boom.text, /Service unavailable/);

    // Line noise and binary garbage on the TCP line.
    const noise = new Caller(port);
    await noise.ready;
    noise.socket.write(Buffer.from([0, 0xff, 0xfb, 0x01, 0x1b, 0x5b, 0x41, 0x80, 0xfe, 0x03, 0x7f, 0x08, 0x15, 0x11, 0x13, 0xc3, 0x28]));
    noise.close();

    const ok = new Caller(port);
    await ok.login('judy', 'Judy-pw-5');
    await ok.waitClosed();
    await waitFor(() => summaries.some((s) => s.line === 'tcp0' && s.outcome === 'accepted'), 'tcp success');
    await simLogin('isoB', 'judy', 'Judy-pw-5');

    // Plug A back in: the line reopens on its own and answers again.
    gw.simModems.find('isoA')!.replug();
    await waitFor(() => gw.status().lines.find((l) => l.id === 'simA')?.state === 'idle', 'simA idle again', 40_000);
    await simLogin('isoA', 'judy', 'Judy-pw-5');
    assert.equal(summaries.at(-1)?.line, 'simA');
    assert.equal(summaries.at(-1)?.outcome, 'accepted');
    // The injected verifier fault is the one fault contained (an internal error, not an outage).
    assert.equal(gw.metrics.snapshot().crashes, 1);
    assert.equal(gw.metrics.snapshot().authorityErrors, 0);
  } finally {
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
