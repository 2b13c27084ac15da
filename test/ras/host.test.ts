/** The rasshost.h surface alone (no login dialogue): begin, send, receive, complete, end, getInfo. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SimulatedClock } from 'xstate';
import {
  ERROR_BUFFER_TOO_SMALL,
  ERROR_INVALID_PARAMETER,
  ERROR_INVALID_PORT_HANDLE,
  ERROR_PORT_DISCONNECTED,
  ERROR_PORT_NOT_CONNECTED,
  ERROR_PORT_NOT_OPEN,
  ERROR_REMOTE_DISCONNECTION,
  NO_ERROR,
  PENDING,
  SECURITYMSG_ERROR,
  SECURITYMSG_FAILURE,
  SECURITYMSG_SUCCESS,
} from '../../src/ras/codes.js';
import { RasError } from '../../src/ras/errors.js';
import { RasSecurityHost } from '../../src/ras/host.js';
import type { CompletionDetail, SecurityMessage } from '../../src/ras/types.js';
import { FakeChannel, settle } from './fake-channel.js';

function bare() {
  const clock = new SimulatedClock();
  const started: number[] = [];
  const stopped: number[] = [];
  const host = new RasSecurityHost({
    timers: clock,
    startDialogue: (_h, port) => {
      started.push(port.handle);
      return { stop: () => stopped.push(port.handle) };
    },
  });
  const channel = new FakeChannel();
  const port = host.openPort(channel);
  const completions: Array<[SecurityMessage, CompletionDetail]> = [];
  return { host, clock, channel, port, started, stopped, completions, onComplete: (m: SecurityMessage, d: CompletionDetail) => void completions.push([m, d]) };
}

const pendingTimers = (clock: SimulatedClock) => (clock as unknown as { timeouts: Map<unknown, unknown> }).timeouts.size;

describe('begin', () => {
  test('returns NO_ERROR synchronously and starts the dialogue', () => {
    const t = bare();
    const rc = t.host.begin(t.port, 64, 64, t.onComplete);
    assert.equal(typeof rc, 'number', 'begin must not return a promise');
    assert.equal(rc, NO_ERROR);
    assert.deepEqual(t.started, [t.port]);
  });

  test('unknown handle: ERROR_INVALID_PORT_HANDLE, nothing started', () => {
    const t = bare();
    assert.equal(t.host.begin(999, 64, 64, t.onComplete), ERROR_INVALID_PORT_HANDLE);
    assert.deepEqual(t.started, []);
  });

  test('call already over: ERROR_PORT_NOT_CONNECTED, line hung up, handle released, no completion', () => {
    const t = bare();
    t.channel.drop('carrier-lost');
    assert.equal(t.host.begin(t.port, 64, 64, t.onComplete), ERROR_PORT_NOT_CONNECTED);
    assert.equal(t.channel.hangups, 1);
    assert.throws(() => t.host.getInfo(t.port), (e: unknown) => e instanceof RasError && e.rasError === ERROR_INVALID_PORT_HANDLE);
    assert.deepEqual(t.completions, []);
  });

  for (const [send, recv] of [[0, 64], [64, 15], [64.5, 64], [Number.NaN, 64]]) {
    test(`buffers ${send}/${recv}: ERROR_BUFFER_TOO_SMALL and hang up`, () => {
      const t = bare();
      assert.equal(t.host.begin(t.port, send, recv, t.onComplete), ERROR_BUFFER_TOO_SMALL);
      assert.equal(t.channel.hangups, 1);
      assert.equal(t.host.portCount, 0);
    });
  }

  test('twice on one port: the second is refused (and the line hung up)', () => {
    const t = bare();
    assert.equal(t.host.begin(t.port, 64, 64, t.onComplete), NO_ERROR);
    assert.equal(t.host.begin(t.port, 64, 64, t.onComplete), ERROR_PORT_NOT_OPEN);
    assert.deepEqual(t.stopped, [t.port]);
    assert.equal(t.channel.hangups, 1);
  });

  test('a completion made while begin() runs is delivered after begin() returns', async () => {
    const host = new RasSecurityHost({
      startDialogue: (h, port) => {
        assert.equal(h.complete({ msgId: SECURITYMSG_ERROR, port: port.handle, error: 638, userName: '', domain: '' }), NO_ERROR);
        return { stop() {} };
      },
    });
    const order: string[] = [];
    const port = host.openPort(new FakeChannel());
    assert.equal(host.begin(port, 64, 64, () => order.push('complete')), NO_ERROR);
    order.push('begin returned');
    await settle();
    assert.deepEqual(order, ['begin returned', 'complete']);
  });

  test('a dialogue that fails to start: refused, hung up', () => {
    const host = new RasSecurityHost({ startDialogue: () => { throw new Error('boom'); } });
    const channel = new FakeChannel();
    assert.equal(host.begin(host.openPort(channel), 64, 64, () => {}), ERROR_PORT_NOT_OPEN);
    assert.equal(channel.hangups, 1);
  });
});

describe('send', () => {
  test('PENDING up to sendBufSize, ERROR_BUFFER_TOO_SMALL beyond', () => {
    const t = bare();
    assert.equal(t.host.send(t.port, Buffer.from('x')), ERROR_PORT_NOT_OPEN, 'before begin');
    t.host.begin(t.port, 16, 16, t.onComplete);
    assert.equal(t.host.send(t.port, Buffer.alloc(16, 0x41)), PENDING);
    assert.equal(t.host.send(t.port, Buffer.alloc(17, 0x42)), ERROR_BUFFER_TOO_SMALL);
    assert.equal(t.channel.output, 'A'.repeat(16));
    assert.equal(t.host.send(12345, Buffer.from('x')), ERROR_INVALID_PORT_HANDLE);
  });
});

describe('receive', () => {
  test('at most maxBytes; the rest waits for the next receive', async () => {
    const t = bare();
    t.host.begin(t.port, 64, 64, t.onComplete);
    t.channel.type('0123456789');
    assert.equal((await t.host.receive(t.port, 4, 0)).toString(), '0123');
    assert.deepEqual(t.host.getInfo(t.port), { lastError: NO_ERROR, bytesReceived: 4, deviceName: '/dev/ttyTEST0' });
    assert.equal((await t.host.receive(t.port, 4, 0)).toString(), '4567');
    assert.equal((await t.host.receive(t.port, 64, 0)).toString(), '89');
    assert.equal(t.host.getInfo(t.port).bytesReceived, 2);
  });

  test('pending until bytes arrive: getInfo says PENDING', async () => {
    const t = bare();
    t.host.begin(t.port, 64, 64, t.onComplete);
    const r = t.host.receive(t.port, 8, 0);
    assert.equal(t.host.getInfo(t.port).lastError, PENDING);
    assert.equal(t.host.getInfo(t.port).bytesReceived, 0);
    t.channel.type('hello world');
    assert.equal((await r).toString(), 'hello wo');
    assert.equal((await t.host.receive(t.port, 8, 0)).toString(), 'rld');
  });

  test('timeout N seconds: zero bytes when it passes (simulated clock)', async () => {
    const t = bare();
    t.host.begin(t.port, 64, 64, t.onComplete);
    let got = undefined as Buffer | undefined;
    void t.host.receive(t.port, 8, 5).then((b) => (got = b));
    t.clock.increment(4_999);
    await settle();
    assert.equal(got, undefined);
    t.clock.increment(1);
    await settle();
    assert.equal((got as Buffer | undefined)?.length, 0);
    assert.deepEqual(t.host.getInfo(t.port), { lastError: NO_ERROR, bytesReceived: 0, deviceName: '/dev/ttyTEST0' });
  });

  test('timeout 0: no timeout', async () => {
    const t = bare();
    t.host.begin(t.port, 64, 64, t.onComplete);
    let got = undefined as Buffer | undefined;
    void t.host.receive(t.port, 8, 0).then((b) => (got = b));
    t.clock.increment(24 * 3600 * 1000);
    await settle();
    assert.equal(got, undefined);
    assert.equal(pendingTimers(t.clock), 0);
    t.channel.type('x');
    await settle();
    assert.equal((got as Buffer | undefined)?.toString(), 'x');
  });

  test('data before the timeout clears its timer', async () => {
    const t = bare();
    t.host.begin(t.port, 64, 64, t.onComplete);
    const r = t.host.receive(t.port, 8, 30);
    assert.equal(pendingTimers(t.clock), 1);
    t.channel.type('y');
    assert.equal((await r).toString(), 'y');
    assert.equal(pendingTimers(t.clock), 0);
  });

  test('refusals: bigger than the receive buffer, bad arguments, a second pending receive, unknown port', async () => {
    const t = bare();
    await assert.rejects(t.host.receive(t.port, 8, 0), (e: unknown) => e instanceof RasError && e.rasError === ERROR_PORT_NOT_OPEN);
    t.host.begin(t.port, 64, 32, t.onComplete);
    await assert.rejects(t.host.receive(t.port, 33, 0), (e: unknown) => e instanceof RasError && e.rasError === ERROR_BUFFER_TOO_SMALL);
    await assert.rejects(t.host.receive(t.port, 0, 0), (e: unknown) => e instanceof RasError && e.rasError === ERROR_INVALID_PARAMETER);
    await assert.rejects(t.host.receive(t.port, 8, -1), (e: unknown) => e instanceof RasError && e.rasError === ERROR_INVALID_PARAMETER);
    void t.host.receive(t.port, 8, 0);
    await assert.rejects(t.host.receive(t.port, 8, 0), (e: unknown) => e instanceof RasError && e.rasError === PENDING);
    await assert.rejects(t.host.receive(777, 8, 0), (e: unknown) => e instanceof RasError && e.code === 'RAS_ERROR_INVALID_PORT_HANDLE');
  });

  test('end during a receive: it ends with zero bytes, the handle is released, listeners removed', async () => {
    const t = bare();
    t.host.begin(t.port, 64, 64, t.onComplete);
    const r = t.host.receive(t.port, 8, 10);
    assert.equal(t.host.end(t.port), ERROR_PORT_DISCONNECTED);
    assert.equal((await r).length, 0);
    assert.deepEqual(t.stopped, [t.port]);
    assert.equal(t.channel.listenerCount, 0);
    assert.equal(pendingTimers(t.clock), 0);
    assert.equal(t.host.end(t.port), ERROR_INVALID_PORT_HANDLE, 'second end');
    assert.deepEqual(t.completions, []);
  });

  test('carrier lost during a receive: zero bytes, getInfo says ERROR_REMOTE_DISCONNECTION', async () => {
    const t = bare();
    t.host.begin(t.port, 64, 64, t.onComplete);
    const r = t.host.receive(t.port, 8, 0);
    t.channel.drop('carrier-lost');
    assert.equal((await r).length, 0);
    assert.deepEqual(t.host.getInfo(t.port), { lastError: ERROR_REMOTE_DISCONNECTION, bytesReceived: 0, deviceName: '/dev/ttyTEST0' });
    await assert.rejects(t.host.receive(t.port, 8, 0), (e: unknown) => e instanceof RasError && e.rasError === ERROR_PORT_DISCONNECTED);
  });

  test('input beyond the queue limit is dropped, not buffered without bound', async () => {
    const host = new RasSecurityHost({ maxQueuedBytes: 32, startDialogue: () => ({ stop() {} }) });
    const channel = new FakeChannel();
    const port = host.openPort(channel);
    host.begin(port, 64, 64, () => {});
    channel.type(Buffer.alloc(100, 0x61));
    assert.equal((await host.receive(port, 64, 0)).length, 32);
  });
});

describe('complete', () => {
  const good = (port: number): SecurityMessage => ({ msgId: SECURITYMSG_SUCCESS, port, error: 0, userName: 'bob', domain: 'EXAMPLE' });

  test('a valid message reaches the callback once; a second complete is refused', () => {
    const t = bare();
    assert.equal(t.host.complete(good(t.port)), ERROR_PORT_NOT_OPEN, 'before begin');
    t.host.begin(t.port, 64, 64, t.onComplete);
    assert.equal(t.host.complete(good(t.port)), NO_ERROR);
    assert.deepEqual(t.completions, [[good(t.port), {}]]);
    assert.equal(t.host.complete(good(t.port)), ERROR_PORT_DISCONNECTED);
    assert.equal(t.host.send(t.port, Buffer.from('x')), ERROR_PORT_DISCONNECTED, 'no sends after completion');
    assert.equal(t.host.complete({ ...good(t.port), port: 4242 }), ERROR_INVALID_PORT_HANDLE);
  });

  const bad: Array<[string, Partial<SecurityMessage>]> = [
    ['msgId 4', { msgId: 4 as 1 }],
    ['msgId 0', { msgId: 0 as 1 }],
    ['SUCCESS with an error', { error: 691 }],
    ['ERROR without an error', { msgId: SECURITYMSG_ERROR, error: 0 }],
    ['negative error', { msgId: SECURITYMSG_ERROR, error: -1 }],
    ['userName > UNLEN', { userName: 'u'.repeat(257) }],
    ['domain > DNLEN', { domain: 'D'.repeat(16) }],
    ['SUCCESS without a user', { userName: '' }],
    ['FAILURE without a user', { msgId: SECURITYMSG_FAILURE, userName: '' }],
  ];
  for (const [name, change] of bad) {
    test(`refused: ${name}`, () => {
      const t = bare();
      t.host.begin(t.port, 64, 64, t.onComplete);
      assert.equal(t.host.complete({ ...good(t.port), ...change }), ERROR_INVALID_PARAMETER);
      assert.deepEqual(t.completions, []);
      assert.equal(t.host.complete(good(t.port)), NO_ERROR, 'a valid one still goes through');
    });
  }

  test('limits are inclusive: UNLEN and DNLEN characters pass; ERROR may have no user', () => {
    const t = bare();
    t.host.begin(t.port, 64, 64, t.onComplete);
    assert.equal(t.host.complete({ ...good(t.port), userName: 'u'.repeat(256), domain: 'D'.repeat(15) }), NO_ERROR);
    const u = bare();
    u.host.begin(u.port, 64, 64, u.onComplete);
    assert.equal(u.host.complete({ msgId: SECURITYMSG_ERROR, port: u.port, error: 638, userName: '', domain: '' }), NO_ERROR);
  });

  test('a throwing callback does not break the host', () => {
    const t = bare();
    t.host.begin(t.port, 64, 64, () => {
      throw new Error('gateway bug');
    });
    assert.equal(t.host.complete(good(t.port)), NO_ERROR);
    assert.equal(t.host.end(t.port), ERROR_PORT_DISCONNECTED);
  });
});

describe('getInfo', () => {
  test('deviceName is printable and at most 128 characters', () => {
    const host = new RasSecurityHost({ startDialogue: () => ({ stop() {} }) });
    const port = host.openPort(new FakeChannel({ deviceName: `tcp://\x1b[31m${'x'.repeat(200)}` }));
    const info = host.getInfo(port);
    assert.equal(info.deviceName.length, 128);
    assert.ok(info.deviceName.startsWith('tcp://[31mxxx'));
  });
  test('unknown port throws RasError(ERROR_INVALID_PORT_HANDLE)', () => {
    assert.throws(() => new RasSecurityHost({ startDialogue: () => ({ stop() {} }) }).getInfo(5), RasError);
  });
});
