import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TelnetSession } from '../../src/serial/telnet.js';

const IAC = 255, DONT = 254, DO = 253, WONT = 252, WILL = 251, SB = 250, SE = 240;
const ECHO = 1, SGA = 3, TTYPE = 24, NAWS = 31, LINEMODE = 34, BINARY = 0;
const b = (...xs: Array<number | string>) => Buffer.concat(xs.map((x) => (typeof x === 'string' ? Buffer.from(x, 'latin1') : Buffer.of(x))));

test('telnet: server opens with WILL ECHO, WILL SGA, DO SGA', () => {
  assert.deepEqual(new TelnetSession().start(), b(IAC, WILL, ECHO, IAC, WILL, SGA, IAC, DO, SGA));
});

// [name, input after start(), data, reply]
const cases: Array<[string, Buffer, Buffer, Buffer]> = [
  ['plain data', b('hello'), b('hello'), b()],
  ['IAC IAC is 0xFF data', b('a', IAC, IAC, 'b'), b('a', 0xff, 'b'), b()],
  ['CR NUL becomes CR', b('x', 0x0d, 0, 'y'), b('x', 0x0d, 'y'), b()],
  ['CR LF passes', b('x', 0x0d, 0x0a), b('x', 0x0d, 0x0a), b()],
  ['NUL not after CR stays', b(0, 'a'), b(0, 'a'), b()],
  ['client agrees DO ECHO: no reply (Q method)', b(IAC, DO, ECHO), b(), b()],
  ['client agrees DO SGA, WILL SGA', b(IAC, DO, SGA, IAC, WILL, SGA), b(), b()],
  ['unknown WILL refused with DONT', b(IAC, WILL, 99), b(), b(IAC, DONT, 99)],
  ['unknown DO refused with WONT', b(IAC, DO, 99), b(), b(IAC, WONT, 99)],
  ['LINEMODE refused', b(IAC, WILL, LINEMODE), b(), b(IAC, DONT, LINEMODE)],
  ['NAWS accepted', b(IAC, WILL, NAWS), b(), b(IAC, DO, NAWS)],
  ['TTYPE accepted and asked', b(IAC, WILL, TTYPE), b(), b(IAC, DO, TTYPE, IAC, SB, TTYPE, 1, IAC, SE)],
  ['repeated WILL NAWS answered once', b(IAC, WILL, NAWS, IAC, WILL, NAWS), b(), b(IAC, DO, NAWS)],
  ['repeated unknown WILL refused once', b(IAC, WILL, 99, IAC, WILL, 99, IAC, WILL, 99), b(), b(IAC, DONT, 99)],
  ['repeated unknown DO refused once', b(IAC, DO, 77, IAC, DO, 77), b(), b(IAC, WONT, 77)],
  ['DONT ECHO after agreement: WONT', b(IAC, DO, ECHO, IAC, DONT, ECHO), b(), b(IAC, WONT, ECHO)],
  ['WONT for unasked option: silence', b(IAC, WONT, 77), b(), b()],
  ['IP becomes ^C', b(IAC, 244), b(3), b()],
  ['EC, EL', b(IAC, 247, IAC, 248), b(0x7f, 0x15), b()],
  ['AYT answered', b(IAC, 246), b(), b('\r\n[yes]\r\n')],
  ['NOP, GA, DM ignored', b('a', IAC, 241, IAC, 249, IAC, 242, 'b'), b('ab'), b()],
  ['SB for unknown option skipped', b(IAC, SB, 99, 1, 2, IAC, IAC, 3, IAC, SE, 'z'), b('z'), b()],
  ['BINARY both ways', b(IAC, DO, BINARY, IAC, WILL, BINARY), b(), b(IAC, WILL, BINARY, IAC, DO, BINARY)],
];

for (const [name, input, data, reply] of cases) {
  test(`telnet: ${name}`, () => {
    const s = new TelnetSession();
    s.start();
    const r = s.feed(input);
    assert.deepEqual(r.data, data);
    assert.deepEqual(r.reply, reply);
  });
  test(`telnet: ${name}, split at every position`, () => {
    for (let i = 0; i <= input.length; i++) {
      const s = new TelnetSession();
      s.start();
      const r1 = s.feed(input.subarray(0, i));
      const r2 = s.feed(input.subarray(i));
      assert.deepEqual(Buffer.concat([r1.data, r2.data]), data, `split at ${i}`);
      assert.deepEqual(Buffer.concat([r1.reply, r2.reply]), reply, `split at ${i}`);
    }
  });
}

test('telnet: DO ECHO turns remote echo off (us ECHO enabled)', () => {
  const s = new TelnetSession();
  s.start();
  assert.equal(s.enabled('us', ECHO), false);
  const r = s.feed(b(IAC, DO, ECHO));
  assert.equal(s.enabled('us', ECHO), true);
  assert.deepEqual(r.events, [{ type: 'option', side: 'us', option: ECHO, enabled: true }]);
});

test('telnet: client refuses ECHO (DONT): stays off, no loop', () => {
  const s = new TelnetSession();
  s.start();
  const r = s.feed(b(IAC, DONT, ECHO, IAC, DONT, ECHO));
  assert.equal(s.enabled('us', ECHO), false);
  assert.deepEqual(r.reply, b());
});

test('telnet: NAWS and TTYPE subnegotiations', () => {
  const s = new TelnetSession();
  s.start();
  s.feed(b(IAC, WILL, NAWS, IAC, WILL, TTYPE));
  const r = s.feed(b(IAC, SB, NAWS, 0, 80, 0, 24, IAC, SE, IAC, SB, TTYPE, 0, 'XTERM', IAC, SE));
  assert.deepEqual(r.events, [{ type: 'naws', width: 80, height: 24 }, { type: 'ttype', name: 'XTERM' }]);
});

test('telnet: oversized subnegotiation is bounded and reported', () => {
  const s = new TelnetSession({ maxSubnegotiation: 8 });
  const r = s.feed(Buffer.concat([b(IAC, SB, NAWS), Buffer.alloc(10_000, 1), b(IAC, SE, 'ok')]));
  assert.equal(r.events.length, 1);
  const ev = r.events[0]!;
  assert.equal(ev.type === 'error' && ev.error.code, 'TELNET_SB_TOO_LONG');
  assert.deepEqual(r.data, b('ok'));
});

test('telnet: encode doubles IAC; bare CR becomes CR NUL, CR LF stays', () => {
  const s = new TelnetSession();
  assert.deepEqual(s.encode(b('a', 0xff, 'b')), b('a', IAC, IAC, 'b'));
  assert.deepEqual(s.encode(b('x\r\ny\rz\r')), b('x\r\ny\r', 0, 'z\r', 0));
  s.feed(b(IAC, DO, BINARY));
  assert.deepEqual(s.encode(b('y\rz')), b('y\rz'));
});

test('telnet: random input never throws and replies stay bounded', () => {
  let seed = 99;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  const s = new TelnetSession();
  s.start();
  for (let i = 0; i < 3000; i++) {
    const len = rnd() % 32;
    const buf = Buffer.alloc(len);
    for (let j = 0; j < len; j++) buf[j] = rnd() % 3 === 0 ? 240 + (rnd() % 16) : rnd();
    const r = s.feed(buf);
    assert.ok(r.reply.length <= buf.length * 6 + 16);
  }
});

test('telnet: a misbehaving peer flipping options cannot make us loop', () => {
  const s = new TelnetSession();
  s.start();
  let replies = 0;
  for (let i = 0; i < 100; i++) replies += s.feed(b(IAC, WILL, SGA, IAC, WONT, SGA)).reply.length;
  // each WONT after YES gets exactly one DONT, each WILL after NO one DO: bounded by input
  assert.ok(replies <= 100 * 6);
});

test('telnet: a flood of negotiation gets no more reply bytes than it sent, and refusals stop', () => {
  const t = new TelnetSession();
  t.start();
  // Every option, asked twice on both sides, then AYT in separate chunks.
  let sent = 0;
  let replied = 0;
  for (let round = 0; round < 2; round++) {
    for (let opt = 0; opt < 256; opt++) {
      for (const verb of [WILL, DO]) {
        const input = b(IAC, verb, opt);
        sent += input.length;
        replied += t.feed(input).reply.length;
      }
    }
  }
  assert.ok(replied <= sent / 2 + 64, `replied ${replied} bytes to ${sent}`);
  // Are You There: one answer per chunk received, however many it holds.
  assert.equal(t.feed(Buffer.concat(Array.from({ length: 1000 }, () => b(IAC, 246)))).reply.toString('latin1'), '\r\n[yes]\r\n');
  // Refused options are not answered again, however often they are asked.
  let again = 0;
  for (let i = 0; i < 10_000; i++) again += t.feed(b(IAC, WILL, 99)).reply.length;
  assert.equal(again, 0);
});
