/**
 * A telnet caller that stops reading and floods negotiation, found by `npm run fuzz -- --target
 * tcp-line`: the write-queue cut-off must end that call like any hang-up (a call summary, no
 * crash, no uncaught exception), and the gateway must go on answering.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
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

test('a caller that stops reading and floods IAC WILL 99 is cut off as a hang-up; the daemon goes on', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rasgate-flood-'));
  const faults: unknown[] = [];
  const onFault = (err: unknown) => faults.push(err);
  process.on('uncaughtException', onFault);
  process.on('unhandledRejection', onFault);
  const store = new SmbpasswdStore(join(dir, 'smbpasswd'));
  await store.update((ed) => ed.put({ name: 'judy', uid: 1000, ntHash: ntowfv1('Judy-pw-5'), hasLmHash: false, flags: new Set(['U']), lastChange: 0 }));
  const loaded = parseConfig('lines: [{ id: tcp0, listen: "tcp://127.0.0.1:2323", mode: telnet }]\nauthority: { file: ./smbpasswd, domain: FLOOD }\ndialogue: { failureDelaysSeconds: [0] }\nshutdown: { grace: 1 }\n', 'flood.yaml', dir);
  const config = loaded.config!;
  if (config.lines[0]!.kind === 'tcp') config.lines[0]!.listen.port = 0;
  let port = 0;
  const logger = createLogger({
    noStdout: true,
    transports: [new winston.transports.Stream({ stream: new Writable({ write(c, _e, cb) { const r = JSON.parse(String(c)); if (r.message === 'listening') port = Number(String(r.listen).split(':').at(-1)); cb(); } }) })],
  });
  const summaries: CallSummary[] = [];
  const gw = new Gateway({ loaded: { config, source: 'flood.yaml', baseDir: dir }, logger, onCallEnd: (s) => summaries.push(s) });
  try {
    await gw.start();
    await waitFor(() => port, 'listening');
    const socket = connect({ port, host: '127.0.0.1' });
    socket.on('error', () => undefined);
    await new Promise((r) => socket.once('connect', r));
    socket.pause(); // never reads: our replies and prompts pile up
    await new Promise((r) => setTimeout(r, 800)); // negotiation gives up after 500 ms: the dialogue runs
    socket.write('judy\r'); // the password field is open: it echoes nothing
    await new Promise((r) => setTimeout(r, 200));
    const flood = Buffer.alloc(3 * 64 * 1024);
    for (let i = 0; i < flood.length; i += 3) flood.set([255, 251, 99], i);
    for (let i = 0; i < 64 && !socket.destroyed; i++) socket.write(flood); // 12 MiB of WILL 99
    socket.write('wrong\r'); // the refusal and the next prompt meet the full queue
    await waitFor(() => summaries.length === 1 || faults.length > 0, 'the flooding call to end', 30_000);
    socket.destroy();
    assert.deepEqual(faults, []);
    assert.notEqual(summaries[0]!.result, 'crashed');
    assert.equal(gw.metrics.snapshot().crashes, 0);
    const ok = new Caller(port);
    await ok.login('judy', 'Judy-pw-5');
    await ok.waitClosed();
    assert.equal(summaries.at(-1)?.result, 'success');
  } finally {
    await gw.stop();
    process.off('uncaughtException', onFault);
    process.off('unhandledRejection', onFault);
    rmSync(dir, { recursive: true, force: true });
  }
});
