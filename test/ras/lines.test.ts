/**
 * A caller on a TCP line (Debian's telnet) and a caller through the
 * simulated Hayes modem each complete a login against a test verifier, through the real lines of
 * src/serial, this RAS surface and the dialogue machine.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { test } from 'node:test';
import { nullLogger } from '../../src/observe/logger.js';
import { ERROR_PORT_DISCONNECTED, ERROR_REMOTE_DISCONNECTION, SECURITYMSG_ERROR, SECURITYMSG_SUCCESS } from '../../src/ras/codes.js';
import { RasSecurityHost } from '../../src/ras/host.js';
import type { SecurityMessage } from '../../src/ras/types.js';
import type { Verifier } from '../../src/ras/verify.js';
import { DeviceLine } from '../../src/serial/device-line.js';
import { resolveDeviceLine, resolveTcpLine } from '../../src/serial/options.js';
import { resolveDialogueOptions } from '../../src/ras/options.js';
import { SimModems } from '../../src/serial/sim-modem.js';
import { TcpLine } from '../../src/serial/tcp-line.js';
import type { CallChannel } from '../../src/serial/types.js';
import { waitFor } from '../helpers/net.js';
import { settle } from './fake-channel.js';
import { needs } from '../helpers/tools.js';
import { SimulatedClock, advance, advanceUntil } from '../line/helpers.js';

const SECRET = 'lines-S3cret';
const verifier: Verifier = async (i) => (i.password === SECRET ? { kind: 'accepted', user: i.user, domain: i.domain || 'TEST' } : { kind: 'bad-credentials' });

/** The gateway's part, reduced: each call gets a dialogue; SUCCESS says welcome; every end hangs up. */
function serve(host: RasSecurityHost, results: SecurityMessage[]) {
  return (channel: CallChannel) => {
    host.beginCall(channel, (message) => {
      results.push(message);
      if (message.msgId === SECURITYMSG_SUCCESS) channel.write(Buffer.from(`Welcome, ${message.userName}\r\n`));
      assert.equal(host.end(message.port), ERROR_PORT_DISCONNECTED);
      // CallChannel has no drain: let the welcome pass through the serial binding before DTR drops.
      void settle().then(() => channel.hangup());
    });
  };
}

test('simulated modem: caller ID in the banner, login, welcome, DTR hang-up; then a caller who drops carrier', async () => {
  const clock = new SimulatedClock();
  const simModems = new SimModems({ clock });
  const modem = simModems.get('rasdlg0');
  const line = new DeviceLine(resolveDeviceLine({ id: 'm0', device: 'sim://rasdlg0', modem: { callerId: 'AT+VCID=1', answerOnRing: 2 } }), { logger: nullLogger(), clock, serial: { simModems } });
  const host = new RasSecurityHost({ verifier, timers: clock, dialogue: resolveDialogueOptions({ banner: 'rasgate \\l, call from \\N\n' }) });
  const results: SecurityMessage[] = [];
  line.on('call', serve(host, results));
  try {
    const started = line.start();
    await advanceUntil(clock, () => line.status().state === 'idle', 'idle');
    await started;

    const caller = modem.dial({ number: '5550001' });
    await advanceUntil(clock, () => caller.received.endsWith('login: '), 'login prompt');
    assert.ok(caller.received.includes('rasgate m0, call from 5550001\r\nlogin: '), JSON.stringify(caller.received));
    caller.type('alice\r');
    await advanceUntil(clock, () => caller.received.endsWith('Password: '), 'password prompt');
    caller.type(`${SECRET}\r`);
    await advanceUntil(clock, () => caller.state === 'ended', 'hang-up after the login');
    assert.deepEqual(results[0], { msgId: SECURITYMSG_SUCCESS, port: results[0].port, error: 0, userName: 'alice', domain: 'TEST' });
    assert.ok(caller.received.includes('Password: \r\nWelcome, alice\r\n'));
    assert.ok(!caller.received.includes(SECRET));
    await advanceUntil(clock, () => line.status().state === 'idle', 're-init');

    const quitter = modem.dial({ number: '5550002' });
    await advanceUntil(clock, () => quitter.received.endsWith('login: '), 'second prompt');
    quitter.type('bob\r');
    await advanceUntil(clock, () => quitter.received.endsWith('Password: '), 'second password prompt');
    quitter.hangup();
    await advanceUntil(clock, () => results.length === 2, 'completion after carrier loss');
    assert.equal(results[1].msgId, SECURITYMSG_ERROR);
    assert.equal(results[1].error, ERROR_REMOTE_DISCONNECTION);
    assert.equal(results[1].userName, 'bob');
    assert.equal(host.portCount, 0);
  } finally {
    const stopped = line.stop();
    await advance(clock, 3000);
    await stopped;
  }
});

test('16 simulated modem lines in one process, one host: every caller completes independently', async () => {
  const clock = new SimulatedClock();
  const host = new RasSecurityHost({ verifier, timers: clock });
  const results: SecurityMessage[] = [];
  const simModems = new SimModems({ clock });
  const rigs = Array.from({ length: 16 }, (_, i) => {
    const modem = simModems.get(`rasdlg16-${i}`, { connectDelayMs: 500 + i * 37 });
    const line = new DeviceLine(resolveDeviceLine({ id: `m16-${i}`, device: `sim://rasdlg16-${i}` }), { logger: nullLogger(), clock, serial: { simModems } });
    line.on('call', serve(host, results));
    return { modem, line };
  });
  try {
    const started = rigs.map((r) => r.line.start());
    await advanceUntil(clock, () => rigs.every((r) => r.line.status().state === 'idle'), 'all idle');
    await Promise.all(started);
    const callers = rigs.map((r) => r.modem.dial());
    await advanceUntil(clock, () => callers.every((c) => c.received.endsWith('login: ')), 'all prompted');
    // Interleave: odd callers type a wrong password first.
    callers.forEach((c, i) => c.type(`user${i}\r`));
    await advanceUntil(clock, () => callers.every((c) => c.received.endsWith('Password: ')), 'all asked for a password');
    callers.forEach((c, i) => c.type(i % 2 ? 'wrong\r' : `${SECRET}\r`));
    await advanceUntil(clock, () => callers.every((c, i) => (i % 2 ? c.received.endsWith('login: ') : c.state === 'ended')), 'first round');
    callers.forEach((c, i) => {
      if (i % 2) c.type(`user${i}\r${SECRET}\r`);
    });
    await advanceUntil(clock, () => callers.every((c) => c.state === 'ended') && results.length === 16, 'all done');
    assert.deepEqual(results.map((m) => m.msgId), new Array(16).fill(SECURITYMSG_SUCCESS));
    assert.deepEqual(results.map((m) => m.userName).sort(), Array.from({ length: 16 }, (_, i) => `user${i}`).sort());
    assert.ok(callers.every((c, i) => c.received.includes(`Welcome, user${i}`)));
    assert.equal(host.portCount, 0);
  } finally {
    const stopped = rigs.map((r) => r.line.stop());
    await advance(clock, 3000);
    await Promise.all(stopped);
  }
});

test('TCP line: Debian telnet logs in; the password is echoed neither by us nor by the client', { skip: needs('telnet', 'script') }, async () => {
  const line = new TcpLine(resolveTcpLine({ id: 'tcp0', listen: 'tcp://127.0.0.1:0' }), { logger: nullLogger() });
  await line.start();
  const host = new RasSecurityHost({ verifier });
  const results: SecurityMessage[] = [];
  line.on('call', serve(host, results));
  let out = '';
  const child: ChildProcess = spawn('script', ['-qfc', `telnet 127.0.0.1 ${line.port}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  try {
    child.stdout!.on('data', (d: Buffer) => (out += d.toString('latin1')));
    await waitFor(() => out.includes('login: '), 'login prompt');
    child.stdin!.write('EXAMPLE\\carol\r');
    await waitFor(() => out.includes('Password: '), 'password prompt');
    child.stdin!.write(`${SECRET}\r`);
    await waitFor(() => results.length === 1, 'completion');
    await waitFor(() => out.includes('Welcome, carol'), 'welcome');
    assert.deepEqual(results[0], { msgId: SECURITYMSG_SUCCESS, port: results[0].port, error: 0, userName: 'carol', domain: 'EXAMPLE' });
    assert.ok(!out.includes(SECRET), `password shown on the client terminal: ${JSON.stringify(out)}`);
    assert.equal(out.split('EXAMPLE\\carol').length - 1, 1, 'the user name is echoed once (by us, not also by the client)');
  } finally {
    child.kill();
    await line.stop();
  }
});
