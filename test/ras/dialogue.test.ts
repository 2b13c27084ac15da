/** The login dialogue through the RAS surface: bytes typed on a channel -> SECURITY_MESSAGE. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import winston from 'winston';
import { SimulatedClock, type InspectionEvent } from 'xstate';
import { OptionError } from '../../src/errors.js';
import { createLogger } from '../../src/observe/logger.js';
import { sanitizeForViewer } from '../../src/observe/sanitize.js';
import { transitionLogger } from '../../src/observe/transitions.js';
import {
  ERROR_ACCT_DISABLED,
  ERROR_AUTHENTICATION_FAILURE,
  ERROR_HARDWARE_FAILURE,
  ERROR_PORT_DISCONNECTED,
  ERROR_REMOTE_DISCONNECTION,
  ERROR_REQUEST_TIMEOUT,
  NO_ERROR,
  SECURITYMSG_ERROR,
  SECURITYMSG_FAILURE,
  SECURITYMSG_SUCCESS,
} from '../../src/ras/codes.js';
import { RasSecurityHost, type RasSecurityHostOptions } from '../../src/ras/host.js';
import { resolveDialogueOptions, type DialogueOptions } from '../../src/ras/options.js';
import type { CompletionDetail, SecurityMessage } from '../../src/ras/types.js';
import type { VerifyInput, VerifyOutcome } from '../../src/ras/verify.js';
import type { Input } from '../../src/options/fields.js';
import { FakeChannel, settle } from './fake-channel.js';

const SECRET = 'Tr0ub4dor&3';

function rig(dialogue: Input<DialogueOptions> = {}, extra: Partial<RasSecurityHostOptions> & { channel?: FakeChannel } = {}) {
  const clock = new SimulatedClock();
  const calls: Array<{ input: VerifyInput; signal: AbortSignal }> = [];
  const answers: Array<VerifyOutcome | 'hang' | 'throw'> = [];
  const logLines: string[] = [];
  const logger = createLogger({
    noStdout: true,
    level: 'debug',
    transports: [new winston.transports.Stream({ stream: new Writable({ write: (c, _e, cb) => (logLines.push(String(c)), cb()) }) })],
  });
  const inspections: InspectionEvent[] = [];
  const host = new RasSecurityHost({
    timers: clock,
    logger,
    now: () => new Date(2026, 0, 2, 3, 4, 5),
    inspect: { next: (e) => inspections.push(e) },
    dialogue: resolveDialogueOptions(dialogue),
    verifier: (input, signal) => {
      calls.push({ input, signal });
      const a = answers.shift() ?? (input.password === SECRET ? { kind: 'accepted', user: input.user.toUpperCase(), domain: input.domain || 'LOCAL' } : { kind: 'bad-credentials' });
      if (a === 'hang') return new Promise(() => {});
      if (a === 'throw') return Promise.reject(new Error('authority exploded'));
      return Promise.resolve(a);
    },
    ...extra,
  });
  const channel = extra.channel ?? new FakeChannel({ lineId: 'tty0', callerId: { number: '5551234', name: 'ALICE' }, connectSpeed: 33600 });
  const completions: Array<[SecurityMessage, CompletionDetail]> = [];
  const port = host.openPort(channel);
  const rc = host.begin(port, 64, 64, (m, d) => void completions.push([m, d]));
  return {
    host, clock, channel, port, rc, calls, answers, completions, logLines, inspections,
    type: async (text: string | Uint8Array) => {
      channel.type(text);
      await settle();
    },
    pendingTimers: () => (clock as unknown as { timeouts: Map<unknown, unknown> }).timeouts.size,
  };
}

describe('login dialogue over the RAS surface', () => {
  test('success: prompts, echo, no password echo, SUCCESS with the authority spelling', async () => {
    const r = rig();
    assert.equal(r.rc, NO_ERROR);
    assert.equal(r.channel.output, 'login: ', 'the prompt is out before begin returns');
    await r.type('bob\r');
    await r.type(`${SECRET}\r`);
    assert.equal(r.channel.output, 'login: bob\r\nPassword: \r\n');
    assert.deepEqual(r.completions[0][0], { msgId: SECURITYMSG_SUCCESS, port: r.port, error: 0, userName: 'BOB', domain: 'LOCAL' });
    assert.equal(r.completions[0][1].outcome?.kind, 'accepted');
    assert.equal(r.host.end(r.port), ERROR_PORT_DISCONNECTED);
    assert.equal(r.channel.listenerCount, 0);
    assert.equal(r.pendingTimers(), 0);
  });

  test('the password reaches no echo, no log line, and no inspection record once `password` keys are redacted', async () => {
    const r = rig({ askDomain: 'when-missing' });
    await r.type(`bob\rDOM\r${SECRET}\r`);
    assert.equal(r.completions[0][0].msgId, SECURITYMSG_SUCCESS);
    assert.ok(!r.channel.output.includes(SECRET));
    assert.ok(r.logLines.length > 0);
    for (const line of r.logLines) assert.ok(!line.includes(SECRET), line);
    const redact = (_k: string, v: unknown) => (_k === 'password' ? '[redacted]' : v);
    const visible = (e: InspectionEvent): unknown[] => {
      if (e.type === '@xstate.event') return [e.event];
      if (e.type === '@xstate.snapshot') {
        const s = e.snapshot as { context?: unknown; input?: unknown; output?: unknown };
        return [s.context, s.input, s.output];
      }
      return [];
    };
    const raw = JSON.stringify(r.inspections.flatMap(visible));
    assert.ok(raw.includes(SECRET), 'the PASSWORD event and verify input carry it, keyed `password`');
    assert.ok(!JSON.stringify(r.inspections.flatMap(visible), redact).includes(SECRET));
    // src/observe's viewer sanitizer (what the Stately inspector gets) removes it too.
    for (const e of r.inspections) assert.ok(!JSON.stringify(sanitizeForViewer(e)).includes(SECRET), e.type);
    const ctx = JSON.stringify(r.inspections.filter((e) => e.type === '@xstate.snapshot').map((e) => (e.snapshot as { context?: unknown }).context));
    assert.ok(!ctx.includes(SECRET), 'never in machine context');
  });

  test('typed ahead in one chunk, CRLF line ends: the password is still not echoed', async () => {
    const r = rig();
    await r.type(`bob\r\n${SECRET}\r\n`);
    assert.equal(r.channel.output, 'login: bob\r\nPassword: \r\n');
    assert.equal(r.completions[0][0].msgId, SECURITYMSG_SUCCESS);
  });

  test('wrong password, delay, then Login incorrect; input typed during the delay is discarded', async () => {
    const r = rig();
    await r.type('bob\rwrong\r');
    assert.ok(r.channel.output.endsWith('Password: \r\n'), 'nothing is said before the delay is over');
    await r.type('typed-too-early\r');
    r.clock.increment(1000);
    await settle();
    assert.ok(r.channel.output.endsWith('Password: \r\nLogin incorrect\r\nlogin: '));
    await r.type(`bob\r${SECRET}\r`);
    assert.equal(r.completions[0][0].msgId, SECURITYMSG_SUCCESS);
    assert.ok(!r.channel.output.includes('typed-too-early'));
  });

  test('three failures: FAILURE with the typed user', async () => {
    const r = rig();
    for (const delay of [1000, 2000, 4000]) {
      await r.type('DOM\\bob\rx\r');
      r.clock.increment(delay);
      await settle();
    }
    assert.deepEqual(r.completions[0][0], { msgId: SECURITYMSG_FAILURE, port: r.port, error: 0, userName: 'bob', domain: 'DOM' });
    assert.equal(r.calls.length, 3);
  });

  test('DOMAIN\\user, user@DOMAIN, UPN and the domain prompt', async () => {
    const r = rig({ askDomain: 'when-missing', defaultDomain: 'DEF' });
    await r.type(`EXAMPLE\\alice\r${SECRET}\r`);
    assert.deepEqual([r.calls[0].input.user, r.calls[0].input.domain], ['alice', 'EXAMPLE']);
    const s = rig({ askDomain: 'when-missing', defaultDomain: 'DEF' });
    await s.type(`alice@EXAMPLE\r${SECRET}\r`);
    assert.deepEqual([s.calls[0].input.user, s.calls[0].input.domain], ['alice', 'EXAMPLE']);
    const u = rig({ askDomain: 'when-missing', defaultDomain: 'DEF' });
    await u.type(`alice@example.test\r${SECRET}\r`);
    assert.deepEqual([u.calls[0].input.user, u.calls[0].input.domain], ['alice@example.test', '']);
    const p = rig({ askDomain: 'when-missing', defaultDomain: 'DEF' });
    await p.type('alice\r');
    assert.ok(p.channel.output.endsWith('alice\r\nDomain: '));
    await p.type(`\r${SECRET}\r`);
    assert.deepEqual([p.calls[0].input.user, p.calls[0].input.domain], ['alice', 'DEF']);
  });

  test('a locked account hears "Login incorrect" after the same delay, unless the operator says more', async () => {
    const locked: VerifyOutcome = { kind: 'refused-locked', reason: 'account-locked', rasError: 647 };
    const quiet = rig({ maxAttempts: 1 });
    quiet.answers.push(locked);
    await quiet.type('bob\rx\r');
    assert.ok(quiet.channel.output.endsWith('Password: \r\n'));
    quiet.clock.increment(1000);
    await settle();
    assert.ok(quiet.channel.output.endsWith('Password: \r\nLogin incorrect\r\n'), JSON.stringify(quiet.channel.output));
    assert.deepEqual(quiet.completions[0][0], { msgId: SECURITYMSG_ERROR, port: quiet.port, error: 647, userName: 'bob', domain: '' });
    assert.equal(quiet.completions[0][1].outcome?.kind, 'refused-locked');
    const told = rig({ maxAttempts: 1, messages: { deniedReasons: { 'account-locked': 'Locked: call the help desk' } } });
    told.answers.push(locked);
    await told.type('bob\rx\r');
    told.clock.increment(1000);
    await settle();
    assert.ok(told.channel.output.endsWith('Password: \r\nLocked: call the help desk\r\n'));
  });

  test('a typed domain longer than DNLEN: password asked, attempt fails without verify', async () => {
    const r = rig();
    await r.type(`${'D'.repeat(16)}\\bob\r${SECRET}\r`);
    r.clock.increment(1000);
    await settle();
    assert.ok(r.channel.output.endsWith('Login incorrect\r\nlogin: '));
    assert.equal(r.calls.length, 0);
  });

  for (const [reason, code] of [['carrier-lost', ERROR_REMOTE_DISCONNECTION], ['device-lost', ERROR_HARDWARE_FAILURE]] as const) {
    test(`${reason} at the password prompt: ERROR ${code}, then end() cleans up`, async () => {
      const r = rig();
      await r.type('bob\r');
      r.channel.drop(reason);
      await settle();
      assert.deepEqual(r.completions[0][0], { msgId: SECURITYMSG_ERROR, port: r.port, error: code, userName: 'bob', domain: '' });
      assert.equal(r.pendingTimers(), 0);
      assert.equal(r.host.end(r.port), ERROR_PORT_DISCONNECTED);
      assert.equal(r.channel.listenerCount, 0);
    });
  }

  test('end() during verify: the verifier is aborted, no completion, nothing left running', async () => {
    const r = rig();
    r.answers.push('hang');
    await r.type(`bob\r${SECRET}\r`);
    assert.equal(r.calls.length, 1);
    assert.equal(r.host.end(r.port), ERROR_PORT_DISCONNECTED);
    assert.equal(r.calls[0].signal.aborted, true);
    await settle();
    assert.deepEqual(r.completions, []);
    assert.equal(r.pendingTimers(), 0);
    assert.equal(r.channel.listenerCount, 0);
  });

  test('end() at the prompt: no completion, timers cleared', async () => {
    const r = rig();
    assert.ok(r.pendingTimers() > 0);
    assert.equal(r.host.end(r.port), ERROR_PORT_DISCONNECTED);
    await settle();
    assert.equal(r.pendingTimers(), 0);
    assert.deepEqual(r.completions, []);
  });

  test('the line is ended from inside one of the dialogue\'s own writes: the machine stops after that step, no completion, no stray error', async () => {
    const r = rig({ idleTimeoutSeconds: 0 });
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      // The RAS server ends the port the moment the field warning is written (a caller cut off for not reading).
      r.channel.onWrite = (bytes) => {
        if (bytes.toString('latin1').includes('Please answer')) r.host.end(r.port);
      };
      r.clock.increment(50_000);
      await settle();
      await new Promise((resolve) => setTimeout(resolve, 20)); // xstate reports observer errors on a timer
      assert.deepEqual(uncaught, []);
      assert.deepEqual(r.completions, []);
      assert.equal(r.pendingTimers(), 0);
      assert.equal(r.channel.listenerCount, 0);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  test('PPP frame at the login prompt: reported with the frame bytes', async () => {
    const r = rig();
    await r.type(Buffer.from('7eff7d23c0217d21', 'hex'));
    const [m, d] = r.completions[0];
    assert.equal(m.msgId, SECURITYMSG_ERROR);
    assert.equal(m.error, ERROR_AUTHENTICATION_FAILURE);
    assert.equal(d.outcome?.kind, 'ppp');
    assert.equal(d.pppFrame?.toString('hex'), '7eff7d23c0217d21');
    assert.equal(r.channel.output, 'login: ', 'nothing echoed');
  });

  test('field timeout: warning re-shows the prompt and typed text, then ERROR_REQUEST_TIMEOUT', async () => {
    const r = rig();
    await r.type('bo');
    r.clock.increment(50_000);
    assert.ok(r.channel.output.endsWith('login: bo\r\nPlease answer within 10 seconds\r\nlogin: bo'), JSON.stringify(r.channel.output));
    r.clock.increment(10_000);
    await settle();
    assert.ok(r.channel.output.endsWith('\r\nLogin timed out\r\n'));
    assert.deepEqual(r.completions[0][0], { msgId: SECURITYMSG_ERROR, port: r.port, error: ERROR_REQUEST_TIMEOUT, userName: '', domain: '' });
  });

  test('password field warning does not redraw the password', async () => {
    const r = rig();
    await r.type('bob\rsec');
    r.clock.increment(50_000);
    assert.ok(r.channel.output.endsWith('Please answer within 10 seconds\r\nPassword: '));
  });

  test('denied: the per-reason message, ERROR with the verifier code', async () => {
    const r = rig();
    r.answers.push({ kind: 'policy', rasError: ERROR_ACCT_DISABLED, reason: 'account-disabled' });
    await r.type(`bob\r${SECRET}\r`);
    assert.ok(r.channel.output.endsWith('Account disabled\r\n'));
    assert.deepEqual(r.completions[0][0], { msgId: SECURITYMSG_ERROR, port: r.port, error: ERROR_ACCT_DISABLED, userName: 'bob', domain: '' });
  });

  test('verifier throws: "Service unavailable", ERROR_AUTHENTICATION_FAILURE', async () => {
    const r = rig();
    r.answers.push('throw');
    await r.type(`bob\r${SECRET}\r`);
    assert.ok(r.channel.output.endsWith('Service unavailable, please try again later\r\n'));
    assert.equal(r.completions[0][0].error, ERROR_AUTHENTICATION_FAILURE);
  });

  test('banner with escapes; output in pieces no bigger than sendBufSize', async () => {
    const clock = new SimulatedClock();
    const host = new RasSecurityHost({
      timers: clock,
      now: () => new Date(2026, 0, 2, 3, 4, 5),
      dialogue: resolveDialogueOptions({ banner: 'rasgate \\l (\\L) \\d \\t\ncaller \\N \\n at \\b, \\q \\\\' }),
      verifier: async () => ({ kind: 'bad-credentials' }),
    });
    const channel = new FakeChannel({ lineId: 'tty0', deviceName: '/dev/ttyS0', callerId: { number: '5551234', name: 'ALICE\x1b[2J' }, connectSpeed: 33600 });
    assert.equal(host.begin(host.openPort(channel), 16, 16, () => {}), NO_ERROR);
    assert.equal(channel.output, 'rasgate tty0 (/dev/ttyS0) 2026-01-02 03:04:05\r\ncaller 5551234 ALICE[2J at 33600, \\q \\\r\nlogin: ');
    assert.ok(channel.written.every((w) => w.length <= 16));
  });

  test('password mask and ^C back to the login prompt', async () => {
    const r = rig({ passwordMask: '*' });
    await r.type('bob\rab\x7f');
    assert.ok(r.channel.output.endsWith('Password: **\b \b'));
    await r.type('\x03');
    assert.ok(r.channel.output.endsWith('^C\r\nlogin: '));
  });

  test('7-bit line: parity bits stripped on input', async () => {
    const r = rig({ sevenBit: true });
    await r.type(Buffer.from([0xe2, 0xef, 0xe2, 0x8d]));
    assert.ok(r.channel.output.endsWith('bob\r\nPassword: '));
  });

  test('options are checked with the key named', () => {
    assert.throws(() => resolveDialogueOptions({ maxAttempts: 0 }), (e: unknown) => e instanceof OptionError && e.key === 'dialogue.maxAttempts');
    assert.throws(() => resolveDialogueOptions({ fieldTimeoutSeconds: -1 }), (e: unknown) => e instanceof OptionError && e.key === 'dialogue.fieldTimeoutSeconds');
    assert.throws(() => resolveDialogueOptions({ defaultDomain: 'X'.repeat(16) }), (e: unknown) => e instanceof OptionError && e.key === 'dialogue.defaultDomain');
    assert.throws(() => resolveDialogueOptions({ askDomain: 'maybe' as 'never' }), (e: unknown) => e instanceof OptionError && e.key === 'dialogue.askDomain');
    assert.throws(() => resolveDialogueOptions({ failureDelaysSeconds: [1, -2] }), (e: unknown) => e instanceof OptionError && e.key === 'dialogue.failureDelaysSeconds[1]');
    assert.throws(() => new RasSecurityHost({}), /"verifier" is required/);
  });

  test('default (Node) timers: the dialogue runs and end() clears them', async () => {
    const host = new RasSecurityHost({ verifier: async () => ({ kind: 'bad-credentials' }) });
    const channel = new FakeChannel();
    const completions: SecurityMessage[] = [];
    const port = host.openPort(channel);
    assert.equal(host.begin(port, 64, 64, (m) => void completions.push(m)), NO_ERROR);
    channel.type('bob\r');
    await settle();
    assert.equal(channel.output, 'login: bob\r\nPassword: ');
    assert.equal(host.end(port), ERROR_PORT_DISCONNECTED);
    assert.deepEqual(completions, []);
  });

  test('per-call inspection: one transition log line per step, with line and call, never the password', async () => {
    const lines: string[] = [];
    const logger = createLogger({ noStdout: true, transports: [new winston.transports.Stream({ stream: new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }) })] });
    const host = new RasSecurityHost({
      verifier: async (i) => (i.password === SECRET ? { kind: 'accepted', user: i.user, domain: 'D' } : { kind: 'bad-credentials' }),
      inspectCall: (channel) => transitionLogger({ logger, line: channel.lineId, call: channel.callId }),
    });
    const channel = new FakeChannel({ lineId: 'tty7', callId: 'tty7-1' });
    const done = new Promise<SecurityMessage>((resolve) => host.beginCall(channel, (m) => resolve(m)));
    channel.type(`bob\r${SECRET}\r`);
    assert.equal((await done).msgId, SECURITYMSG_SUCCESS);
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.message === 'transition');
    assert.deepEqual(
      records.map((r) => [r.machine, r.from, r.to, r.event, r.line, r.call]),
      [
        ['dialogue', null, 'session.username', 'xstate.init', 'tty7', 'tty7-1'],
        ['dialogue', 'session.username', 'session.password', 'USER', 'tty7', 'tty7-1'],
        ['dialogue', 'session.password', 'session.verifying', 'PASSWORD', 'tty7', 'tty7-1'],
        ['dialogue', 'session.verifying', 'success', 'xstate.done.actor.verify', 'tty7', 'tty7-1'],
      ],
    );
    assert.ok(!lines.join('').includes(SECRET));
  });

  test('garbage on the line never crashes the dialogue', async () => {
    const r = rig();
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let i = 0; i < 300 && r.completions.length === 0; i++) {
      const buf = Buffer.alloc(1 + Math.floor(rand() * 64));
      for (let j = 0; j < buf.length; j++) buf[j] = Math.floor(rand() * 256);
      r.channel.type(buf);
      if (i % 10 === 0) await settle(1);
    }
    await settle();
    r.clock.increment(300_000);
    await settle();
    assert.equal(r.completions.length, 1);
    assert.equal(r.host.end(r.port), ERROR_PORT_DISCONNECTED);
  });
});
