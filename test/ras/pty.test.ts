/**
 * The byte path on real kernel ptys: socat links two pty masters; rasgate's side opens one with
 * serialport and wraps it in src/serial's BasicCallChannel (no modem: a plain line), a scripted
 * caller on the other side is prompted, types, and the RAS surface + dialogue completes.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SerialPort } from 'serialport';
import { needs, toolPath } from '../helpers/tools.js';
import { waitFor } from '../helpers/net.js';
import { ERROR_PORT_DISCONNECTED, ERROR_REMOTE_DISCONNECTION, SECURITYMSG_ERROR, SECURITYMSG_SUCCESS } from '../../src/ras/codes.js';
import { RasSecurityHost } from '../../src/ras/host.js';
import { resolveDialogueOptions } from '../../src/ras/options.js';
import type { SecurityMessage } from '../../src/ras/types.js';
import { BasicCallChannel } from '../../src/serial/call-channel.js';

const SECRET = 'pty-S3cret';

interface PtyPair {
  socat: ChildProcess;
  dir: string;
  a: string;
  b: string;
}

async function ptyPair(): Promise<PtyPair> {
  const dir = mkdtempSync(join(tmpdir(), 'rasgate-pty-'));
  const a = join(dir, 'A');
  const b = join(dir, 'B');
  const socat = spawn(toolPath('socat'), ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  await waitFor(() => existsSync(a) && existsSync(b), 'socat pty links');
  return { socat, dir, a, b };
}

function open(path: string): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate: 38400 }, (err) => (err ? reject(err) : resolve(port)));
  });
}

/** rasgate's side: a CallChannel over the pty, as a plain (modem-less) serial line would give. */
function channelOver(port: SerialPort, path: string): BasicCallChannel {
  const channel = new BasicCallChannel({
    lineId: 'pty0',
    callId: `pty0-${Date.now()}`,
    deviceName: realpathSync(path),
    send: (bytes) => void port.write(Buffer.from(bytes)),
    hangup: () => new Promise<void>((r) => (port.isOpen ? port.close(() => r()) : r())),
  });
  port.on('data', (d: Buffer) => channel.deliver(d));
  port.on('close', () => channel.finish('carrier-lost'));
  return channel;
}

function closeQuietly(port?: SerialPort): Promise<void> {
  return new Promise((r) => (port?.isOpen ? port.close(() => r()) : r()));
}

describe('login over a real kernel pty pair (socat)', { skip: needs('socat') }, () => {
  let pair: PtyPair;
  before(async () => {
    pair = await ptyPair();
  });
  after(() => {
    if (pair.socat.exitCode === null) pair.socat.kill('SIGTERM');
    rmSync(pair.dir, { recursive: true, force: true });
  });

  test('a scripted caller is prompted, types, and logs in; the password is not echoed', async () => {
    const ours = await open(pair.a);
    const caller = await open(pair.b);
    try {
      const seen: Buffer[] = [];
      caller.on('data', (d: Buffer) => seen.push(d));
      const text = () => Buffer.concat(seen).toString('latin1');
      const host = new RasSecurityHost({
        dialogue: resolveDialogueOptions({ banner: 'rasgate on \\L\n' }),
        verifier: async (input) => (input.password === SECRET ? { kind: 'accepted', user: input.user, domain: 'PTY' } : { kind: 'bad-credentials' }),
      });
      const channel = channelOver(ours, pair.a);
      const done = new Promise<SecurityMessage>((resolve) => {
        const { result } = host.beginCall(channel, (m) => resolve(m));
        assert.equal(result, 0);
      });
      await waitFor(() => text().endsWith('login: '), 'login prompt', 60_000);
      caller.write('alice\r');
      await waitFor(() => text().endsWith('Password: '), 'password prompt: ' + JSON.stringify(text()), 60_000);
      caller.write(`${SECRET}\r\n`);
      const message = await done;
      assert.equal(message.msgId, SECURITYMSG_SUCCESS);
      assert.equal(message.userName, 'alice');
      await waitFor(() => text().endsWith('Password: \r\n'), 'newline after the password', 60_000);
      assert.equal(text(), `rasgate on ${realpathSync(pair.a)}\r\nlogin: alice\r\nPassword: \r\n`);
      assert.ok(!text().includes(SECRET));
      assert.equal(host.end(message.port), ERROR_PORT_DISCONNECTED);
    } finally {
      await closeQuietly(ours);
      await closeQuietly(caller);
    }
  });

  test('the far side goes away mid-dialogue: ERROR_REMOTE_DISCONNECTION', async () => {
    const ours = await open(pair.a);
    const caller = await open(pair.b);
    try {
      const host = new RasSecurityHost({ verifier: async () => ({ kind: 'bad-credentials' }) });
      const channel = channelOver(ours, pair.a);
      const seen: Buffer[] = [];
      caller.on('data', (d: Buffer) => seen.push(d));
      const done = new Promise<SecurityMessage>((resolve) => host.beginCall(channel, (m) => resolve(m)));
      await waitFor(() => Buffer.concat(seen).toString().endsWith('login: '), 'login prompt', 60_000);
      caller.write('bob\r');
      await waitFor(() => Buffer.concat(seen).toString().endsWith('Password: '), 'password prompt', 60_000);
      pair.socat.kill('SIGTERM'); // the pty masters close: serialport reports a disconnect
      const message = await done;
      assert.equal(message.msgId, SECURITYMSG_ERROR);
      assert.equal(message.error, ERROR_REMOTE_DISCONNECTION);
      assert.equal(message.userName, 'bob');
      assert.equal(host.end(message.port), ERROR_PORT_DISCONNECTED);
    } finally {
      await closeQuietly(ours);
      await closeQuietly(caller);
    }
  });
});
