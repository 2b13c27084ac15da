import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createLine, resolveLineOptions, DeviceLine, TcpLine, findSimModem, removeSimModem } from '../../src/serial/index.js';
import { parseTcpUrl } from '../../src/options/address.js';
import type { CallChannel } from '../../src/serial/types.js';
import { nullLogger } from '../../src/observe/logger.js';
import { freePort, waitFor } from '../helpers/net.js';

const deps = { logger: nullLogger() };

test('createLine: a TCP line and a device line', async () => {
  assert.ok(createLine(resolveLineOptions({ id: 'tcp0', listen: 'tcp://127.0.0.1:0' }), deps) instanceof TcpLine);
  const inspected: string[] = [];
  const d = createLine(resolveLineOptions({ id: 'sim0', device: 'sim://cl0' }), { ...deps, inspect: (ev) => inspected.push(ev.type) });
  assert.ok(d instanceof DeviceLine);
  assert.ok(inspected.includes('@xstate.actor'), 'inspection events reach deps.inspect');
  assert.ok(findSimModem('cl0'), 'sim:// creates the simulated modem');
  await d.stop();
  removeSimModem('cl0');
});

test('line options: bad ones name the key (the same description as the config file)', () => {
  const bad: Array<[Record<string, unknown>, string]> = [
    [{ id: 'a b', listen: 'tcp://127.0.0.1:1' }, 'id'],
    [{ id: 'x' }, 'listen'],
    [{ id: 'x', listen: 'tcp://h:1', device: '/dev/ttyS0' }, 'listen'],
    [{ id: 'x', listen: 'http://h:1' }, 'listen'],
    [{ id: 'x', listen: 'tcp://h:70000' }, 'listen'],
    [{ id: 'x', listen: 'tcp://h:1', mode: 'ssh' }, 'mode'],
    [{ id: 'x', listen: 'tcp://h:1', maxCalls: -1 }, 'maxCalls'],
    [{ id: 'x', device: 'ttyS0' }, 'device'],
    [{ id: 'x', device: '/dev/ttyS0', baudRate: 0 }, 'baudRate'],
    [{ id: 'x', device: '/dev/ttyS0', dataBits: 9 }, 'dataBits'],
    [{ id: 'x', device: '/dev/ttyS0', parity: 'weird' }, 'parity'],
    [{ id: 'x', device: '/dev/ttyS0', stopBits: 3 }, 'stopBits'],
    [{ id: 'x', device: '/dev/ttyS0', modem: { init: ['ZZ'] } }, 'modem.init[0]'],
    [{ id: 'x', device: '/dev/ttyS0', modem: { answerOnRing: 0 } }, 'modem.answerOnRing'],
    [{ id: 'x', device: '/dev/ttyS0', modem: { deny: 'P' } }, 'modem.deny'],
    [{ id: 'x', device: '/dev/ttyS0', modem: { callerId: 'VCID' } }, 'modem.callerId'],
  ];
  for (const [config, key] of bad) {
    assert.throws(() => resolveLineOptions(config as never), (e: Error & { key?: string; code?: string }) => e.code === 'OPTION_INVALID' && e.key === key, JSON.stringify(config));
  }
});

test('tcp:// addresses: IPv4, IPv6, names', () => {
  assert.deepEqual(parseTcpUrl('tcp://127.0.0.1:2323'), { host: '127.0.0.1', port: 2323 });
  assert.deepEqual(parseTcpUrl('tcp://[::1]:2323'), { host: '::1', port: 2323 });
  assert.deepEqual(parseTcpUrl('tcp://localhost:1'), { host: 'localhost', port: 1 });
});

test('sim-caller script dials a sim:// line over its far side and types at the prompts', async () => {
  const port = await freePort();
  const line = createLine(resolveLineOptions({ id: 'demo', device: `sim://cldemo?far=tcp://127.0.0.1:${port}`, modem: { quietMs: 50 } }), deps);
  const got: string[] = [];
  line.on('call', (call: CallChannel) => {
    let buf = '';
    let stage = 0;
    call.write(Buffer.from('\r\nlogin: '));
    call.onData((b) => {
      for (const ch of b.toString('latin1')) {
        if (ch !== '\r') { buf += ch; continue; }
        got.push(buf);
        buf = '';
        if (++stage === 1) call.write(Buffer.from('\r\nPassword: '));
        else {
          call.write(Buffer.from('\r\nwelcome\r\n'));
          void call.hangup();
        }
      }
    });
  });
  await line.start();
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/sim-caller.ts', '--to', `tcp://127.0.0.1:${port}`, '--user', 'erin', '--password', 'pw1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    assert.equal(code, 0);
    assert.deepEqual(got, ['erin', 'pw1']);
    assert.match(out, /welcome/);
    await waitFor(() => line.status().state === 'idle', 'idle after the call', 10_000);
  } finally {
    await line.stop();
    findSimModem('cldemo')?.closeFarSide();
    removeSimModem('cldemo');
  }
});
