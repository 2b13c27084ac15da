/**
 * Guessing-defence benchmark.
 *
 *  timing      an unknown user name and a known one with a wrong password, 200 tries each
 *              (interleaved), against the whole daemon in this process (raw TCP line, local
 *              store, NTLM legs, guard): the server's verification time and the caller's time
 *              from the password's Enter to "Login incorrect", mean and standard deviation.
 *              Failure delay 0 here (it is the same timer for both); counted, never locked.
 *  guesses     guesses per hour one source gets to the authority. First the real rate, measured
 *              against the daemon with no defence (one guess per connection, 4 connections at
 *              once as maxCallsPerSource allows; the caller hangs up when no success came 50 ms
 *              after Enter, since the refusal text now waits for the failure delay), then one
 *              simulated hour (SimulatedClock) of that attacker against the real Guard at that
 *              rate: penalties off vs on, lockout off vs on, one account and a spray of names.
 *  memory      the guard's tables filled with 100,000 distinct sources (and names): heap after
 *              GC, with the default caps and with caps that hold them all.
 *
 * Run alone: node --import tsx scripts/bench/guard.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { SimulatedClock } from 'xstate';
import { Gateway } from '../../src/gateway/daemon.js';
import { parseConfig } from '../../src/gateway/config.js';
import { nullLogger } from '../../src/logging.js';
import { SmbpasswdStore } from '../../src/authority/local/index.js';
import { ntowfv1 } from '../../src/ntlm/crypto.js';
import { Guard, type GuardSettings } from '../../src/guard/guard.js';
import { lockoutOptionsField, penaltyOptionsField } from '../../src/guard/options.js';
import { resolveOptions, type Input } from '../../src/options/fields.js';
import type { Verifier } from '../../src/ras/verify.js';

export const name = 'guard';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const PASSWORD = 'Bench-guard-1';
const ms = (v: number) => `${v.toFixed(2)} ms`;

function meanSd(xs: number[]): { mean: number; sd: number; p50: number; p95: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
  const s = [...xs].sort((a, b) => a - b);
  return { mean, sd, p50: s[Math.floor(s.length / 2)]!, p95: s[Math.floor(s.length * 0.95)]! };
}

/** Text received on a socket, with a wait for a pattern (or the close). */
function reader(socket: Socket) {
  let text = '';
  let closed = false;
  let waiter: (() => void) | undefined;
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => {
    text += d;
    waiter?.();
  });
  socket.on('close', () => {
    closed = true;
    waiter?.();
  });
  socket.on('error', () => undefined);
  return {
    get text() {
      return text;
    },
    until(re: RegExp, timeoutMs = 10_000): Promise<boolean> {
      return new Promise((resolve) => {
        const t = setTimeout(() => done(false), timeoutMs);
        const done = (v: boolean) => {
          clearTimeout(t);
          waiter = undefined;
          resolve(v);
        };
        waiter = () => {
          if (re.test(text)) done(true);
          else if (closed) done(false);
        };
        waiter();
      });
    },
  };
}

async function gateway(dir: string, extra: string, wrapVerifier?: (v: Verifier) => Verifier): Promise<{ gw: Gateway; port: number }> {
  const yaml = `lines: [{ id: g0, listen: tcp://127.0.0.1:0, mode: raw, maxCalls: 0 }]
authority: { file: ./smbpasswd, domain: BENCH }
shutdown: { grace: 0 }
audit: { enabled: false }
${extra}`;
  const { config, issues } = parseConfig(yaml, 'bench.yaml', dir);
  if (!config) throw new Error(JSON.stringify(issues));
  let port = 0;
  const logger = {
    ...nullLogger(),
    child: () => logger,
    info: (msg: string, meta?: Record<string, unknown>) => {
      if (msg === 'listening' && typeof meta?.listen === 'string') port = Number(meta.listen.split(':').at(-1));
    },
  } as unknown as ReturnType<typeof nullLogger>;
  const gw = new Gateway({ loaded: { config, source: 'bench.yaml', baseDir: dir }, logger, ...(wrapVerifier ? { wrapVerifier } : {}) });
  await gw.start();
  return { gw, port };
}

/** One refused try: the time from Enter to "Login incorrect" as the caller sees it. */
async function refusedTry(port: number, user: string): Promise<number> {
  const socket = connect({ port, host: '127.0.0.1', noDelay: true });
  const r = reader(socket);
  await r.until(/login: $/);
  socket.write(`${user}\r`);
  await r.until(/Password: $/);
  const t0 = performance.now();
  socket.write('not-the-password\r');
  await r.until(/Login incorrect/);
  const t = performance.now() - t0;
  socket.destroy();
  return t;
}

async function timing(dir: string): Promise<void> {
  const server: Record<string, number[]> = { known: [], unknown: [] };
  let current: 'known' | 'unknown' = 'known';
  const wrap = (v: Verifier): Verifier => async (input, signal) => {
    const t0 = performance.now();
    const out = await v(input, signal);
    server[current]!.push(performance.now() - t0);
    return out;
  };
  const { gw, port } = await gateway(dir, 'dialogue: { maxAttempts: 1, failureDelaysSeconds: [0] }\nlockout: { maxDenials: 10000 }\npenalties: { allow: [127.0.0.1] }\n', wrap);
  try {
    for (let i = 0; i < 30; i++) await refusedTry(port, i % 2 ? 'kim' : 'nosuchuser'); // warm-up (JIT)
    server.known = [];
    server.unknown = [];
    const client: Record<string, number[]> = { known: [], unknown: [] };
    for (let i = 0; i < 400; i++) {
      current = i % 2 ? 'known' : 'unknown';
      client[current]!.push(await refusedTry(port, current === 'known' ? 'kim' : `nosuchuser${i % 7}`));
    }
    for (const who of ['known', 'unknown'] as const) {
      const s = meanSd(server[who]!);
      const c = meanSd(client[who]!);
      process.stdout.write(
        `refusal, ${who === 'known' ? 'known user, wrong password' : 'unknown user name       '} (${client[who]!.length} tries): ` +
          `server verification mean ${ms(s.mean)} sd ${ms(s.sd)} p50 ${ms(s.p50)} p95 ${ms(s.p95)}; ` +
          `caller Enter -> "Login incorrect" mean ${ms(c.mean)} sd ${ms(c.sd)} p50 ${ms(c.p50)} p95 ${ms(c.p95)}\n`,
      );
    }
    const k = meanSd(server.known!);
    const u = meanSd(server.unknown!);
    const se = Math.sqrt(k.sd ** 2 / server.known!.length + u.sd ** 2 / server.unknown!.length);
    process.stdout.write(`  difference of the server means ${ms(k.mean - u.mean)} (${((k.mean - u.mean) / se).toFixed(1)} standard errors); the refusal text is the same ("Login incorrect")\n`);
  } finally {
    await gw.stop();
  }
}

/** The real rate of one source with no defence: guesses/s with 4 connections at once. */
async function realRate(dir: string): Promise<{ perSecond: number; cycleMs: number }> {
  const { gw, port } = await gateway(dir, 'lockout: { maxDenials: 0 }\npenalties: { enabled: false }\n');
  try {
    let guesses = 0;
    const until = performance.now() + 3000;
    const slot = async () => {
      while (performance.now() < until) {
        const socket = connect({ port, host: '127.0.0.1', noDelay: true });
        const r = reader(socket);
        await r.until(/login: $/);
        socket.write('kim\r');
        await r.until(/Password: $/);
        socket.write(`guess-${guesses}\r`);
        // No success text within 50 ms: a refusal (its text would come after the failure delay).
        await r.until(/Login accepted/, 50);
        socket.destroy();
        guesses++;
      }
    };
    const t0 = performance.now();
    await Promise.all([slot(), slot(), slot(), slot()]);
    const seconds = (performance.now() - t0) / 1000;
    return { perSecond: guesses / seconds, cycleMs: (4 * seconds * 1000) / guesses };
  } finally {
    await gw.stop();
  }
}

function settings(lockout: Input<GuardSettings['lockout']>, penalties: Input<GuardSettings['penalties']>): GuardSettings {
  return { lockout: resolveOptions(lockoutOptionsField, lockout, 'lockout'), penalties: resolveOptions(penaltyOptionsField, penalties, 'penalties') };
}

/**
 * One simulated hour of the attacker (4 slots, each a connection every `cycleMs`) against the
 * real Guard: guesses that reached the authority.
 */
async function simulatedHour(s: GuardSettings, cycleMs: number, spray: boolean): Promise<{ reached: number; lockedOut: number; refused: number }> {
  const clock = new SimulatedClock();
  const start = Date.UTC(2026, 0, 1);
  clock.set(start);
  const guard = new Guard({ settings: s, clock });
  let reached = 0;
  const verify = guard.wrapVerifier(async () => {
    reached++;
    return { kind: 'bad-credentials' };
  });
  const caller = { kind: 'tcp' as const, address: '198.51.100.23' };
  const slots = [0, 1, 2, 3].map((i) => start + (i * cycleMs) / 4);
  let lockedOut = 0;
  let refused = 0;
  let n = 0;
  const signal = new AbortController().signal;
  for (;;) {
    const i = slots.indexOf(Math.min(...slots));
    const at = slots[i]!;
    if (at >= start + 3_600_000) break;
    if (at > clock.now()) clock.increment(at - clock.now());
    if (!guard.screen('g0', caller).answer) {
      refused++;
      slots[i] = at + Math.max(1, cycleMs / 10); // a refused connection is one line and a close
      continue;
    }
    const call = `g0-${++n}`;
    guard.callStarted({ line: 'g0', call, caller });
    const out = await verify({ user: spray ? `user${n}` : 'kim', domain: '', password: 'x', lineId: 'g0', callId: call }, signal);
    if (out.kind === 'refused-locked') lockedOut++;
    guard.callEnded({ line: 'g0', call, outcome: out.kind === 'refused-locked' ? 'refused-locked' : 'bad-credentials' });
    slots[i] = at + cycleMs;
  }
  await guard.stop();
  return { reached, lockedOut, refused };
}

async function guesses(dir: string): Promise<void> {
  const { perSecond, cycleMs } = await realRate(dir);
  process.stdout.write(`real rate, no defence (lockout and penalties off): ${perSecond.toFixed(0)} guesses/s from one source (4 connections at once, ${ms(cycleMs)} a connection) = ${Math.round(perSecond * 3600).toLocaleString('en')} guesses/hour\n`);
  const rows: Array<[string, GuardSettings]> = [
    ['no defence', settings({ maxDenials: 0 }, { enabled: false })],
    ['defaults, penalties off', settings({}, { enabled: false })],
    ['defaults (penalties on)', settings({}, {})],
    ['penalties only (no lockout)', settings({ maxDenials: 0 }, {})],
  ];
  const results = new Map<string, { one: number; spray: number }>();
  for (const [label, s] of rows) {
    const one = await simulatedHour(s, cycleMs, false);
    const spray = await simulatedHour(s, cycleMs, true);
    results.set(label, { one: one.reached, spray: spray.reached });
    process.stdout.write(`  one simulated hour, ${label.padEnd(28)} one account: ${one.reached.toLocaleString('en').padStart(9)} guesses reached the authority (${one.lockedOut.toLocaleString('en')} refused as locked); a new name each guess: ${spray.reached.toLocaleString('en').padStart(9)}\n`);
  }
  const off = results.get('defaults, penalties off')!;
  const on = results.get('defaults (penalties on)')!;
  const none = results.get('no defence')!;
  process.stdout.write(
    `  guesses/hour against one account with defaults, penalties off vs on: ${off.one} vs ${on.one} (ratio ${(off.one / on.one).toFixed(1)}: the lockout bounds one account either way); ` +
      `against every name one source tries: ${off.spray.toLocaleString('en')} vs ${on.spray.toLocaleString('en')} (ratio ${(off.spray / on.spray).toFixed(0)}); no defence vs defaults, one account: ratio ${Math.round(none.one / on.one).toLocaleString('en')}\n`,
  );
}

function heap(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

async function memory(): Promise<void> {
  const N = 100_000;
  for (const [label, caps] of [
    ['default caps (maxSources 65,536, maxAccounts 10,000)', {}],
    ['caps that hold them all', { lockout: { maxAccounts: N }, penalties: { maxSources: N } }],
  ] as const) {
    const clock = new SimulatedClock();
    clock.set(Date.UTC(2026, 0, 1));
    const before = heap();
    const guard = new Guard({ settings: settings(caps.lockout ?? {}, caps.penalties ?? {}), clock });
    const verify = guard.wrapVerifier(async () => ({ kind: 'bad-credentials' }));
    const signal = new AbortController().signal;
    for (let i = 0; i < N; i++) {
      const caller = { kind: 'tcp' as const, address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` };
      const call = `m${i}`;
      guard.callStarted({ line: 'g0', call, caller });
      // 4 refused logins each: every source's penalty is active (20 s > 15 s); every name counted.
      for (let k = 0; k < 4; k++) await verify({ user: `name${i}`, domain: '', password: 'x', lineId: 'g0', callId: call }, signal);
      guard.callEnded({ line: 'g0', call, outcome: 'bad-credentials' });
    }
    const after = heap();
    const sizes = guard.sizes();
    const held = sizes.sources.active + sizes.sources.pending;
    process.stdout.write(
      `memory, ${N.toLocaleString('en')} distinct sources and names, ${label}: heap +${((after - before) / 1024 / 1024).toFixed(1)} MiB; ` +
        `${held.toLocaleString('en')} sources held (${sizes.sources.active.toLocaleString('en')} active), ${(sizes.accounts.counting + sizes.accounts.locked).toLocaleString('en')} names; ` +
        `about ${Math.round((after - before) / (held + sizes.accounts.counting + sizes.accounts.locked))} bytes an entry\n`,
    );
    await guard.stop();
  }
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rasgate-bench-guard-'));
  try {
    const store = new SmbpasswdStore(join(dir, 'smbpasswd'));
    await store.update((ed) => ed.put({ name: 'kim', uid: 1000, ntHash: ntowfv1(PASSWORD), hasLmHash: false, flags: new Set(['U']), lastChange: 0x5f5e1000 }));
    await timing(dir);
    await guesses(dir);
    await memory();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
