/**
 * Console benchmark: do open consoles slow logins? The whole daemon in this process (as
 * scripts/bench/gateway.ts: TCP lines in raw mode, the local authority, the real dialogue, NTLM
 * legs and call machine, transition logs formatted and thrown away) with the console attached to
 * its machines, and loopback callers looping connect -> login -> result.
 *
 *  rounds      32 callers at once, 24 logins each; first with no console open, then with 20
 *              consoles open (each signed in with NTLM on its own connection and holding the
 *              /events stream a browser page holds, reading every frame), alternating, three
 *              rounds each. Reported: logins/s and p50/p99 from the last Enter to the result, the
 *              medians of the rounds, and the ratio with 20 consoles to none (target: p99 ratio
 *              < 1.5, throughput ratio > 0.8); and this process's CPU time per login, which a
 *              busy shared machine disturbs less than wall time.
 *
 * Run alone: node --import tsx scripts/bench/console.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import winston from 'winston';
import type { InspectionEvent, Observer } from 'xstate';
import { Gateway } from '../../src/gateway/daemon.js';
import { parseConfig } from '../../src/gateway/config.js';
import { createLogger } from '../../src/observe/logger.js';
import { SmbpasswdStore } from '../../src/authority/local/index.js';
import { ntowfv1 } from '../../src/ntlm/crypto.js';
import { RecentCalls, gatewaySource, startConsole } from '../../src/observe/console/index.js';
import { ntlmSession, type NtlmSession } from '../interop/ntlm-http-session.js';
import { freePorts, oneLogin, pct } from './gateway.js';

export const name = 'console';

const USERS = 32;
const PASSWORD = 'Bench-pw-1';
const OPERATOR = { name: 'operator', password: 'Operator-pw-2' };
const CALLERS = 32;
const PER_CALLER = 24;
const CONSOLES = 20;

const ms = (v: number) => `${v.toFixed(2)} ms`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Round {
  perSecond: number;
  p50: number;
  p99: number;
  /** This process's CPU time (user + system) per login: steadier than wall time on a shared machine. */
  cpuPerLogin: number;
}

async function round(port: number): Promise<Round> {
  const samples: number[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CALLERS }, async (_, i) => {
    for (let k = 0; k < PER_CALLER; k++) await oneLogin(port, `user${i % USERS}`, samples);
  }));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  samples.sort((a, b) => a - b);
  return { perSecond: samples.length / seconds, p50: pct(samples, 50), p99: pct(samples, 99), cpuPerLogin: (cpu.user + cpu.system) / 1000 / samples.length };
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rasgate-bench-console-'));
  const consoles: NtlmSession[] = [];
  try {
    const store = new SmbpasswdStore(join(dir, 'smbpasswd'));
    await store.update((ed) => {
      for (let i = 0; i < USERS; i++) ed.put({ name: `user${i}`, uid: 1000 + i, ntHash: ntowfv1(PASSWORD), hasLmHash: false, flags: new Set(['U']), lastChange: 0x5f5e1000 });
      ed.put({ name: OPERATOR.name, uid: 999, ntHash: ntowfv1(OPERATOR.password), hasLmHash: false, flags: new Set(['U']), lastChange: 0x5f5e1000 });
    });
    const [port] = await freePorts(1);
    const yaml = `lines: [{ id: b0, listen: tcp://127.0.0.1:${port}, mode: raw, maxCalls: 0 }]
authority: { file: ./smbpasswd, domain: BENCH }
dialogue: { failureDelaysSeconds: [0], messages: { success: Welcome } }
shutdown: { grace: 0 }
`;
    const { config, issues } = parseConfig(yaml, 'bench.yaml', dir);
    if (!config) throw new Error(JSON.stringify(issues));
    const logger = createLogger({ noStdout: true, transports: [new winston.transports.Stream({ stream: new Writable({ write: (_c, _e, cb) => cb() }) })] });
    const forward: { to?: Observer<InspectionEvent> } = {};
    const recent = new RecentCalls(50);
    const gw = new Gateway({ loaded: { config, source: 'bench.yaml', baseDir: dir }, logger, inspect: { next: (ev) => forward.to?.next?.(ev) }, onCallEnd: (s) => recent.add(s) });
    await gw.start();
    const con = await startConsole({ host: '127.0.0.1', port: 0, logger, source: gatewaySource(gw, recent), signIn: { credential: () => gw.lendCredential() }, maxClients: CONSOLES + 4 });
    forward.to = con.observer;

    // Warm-up (JIT), then alternate: none, 20, none, 20, none, 20.
    for (let w = 0; w < 3; w++) await round(port!);
    const none: Round[] = [];
    const open: Round[] = [];
    let frames = 0;
    for (let r = 0; r < 3; r++) {
      none.push(await round(port!));
      for (let i = 0; i < CONSOLES; i++) {
        const s = ntlmSession(con.url, OPERATOR.name, OPERATOR.password);
        const signed = await s.signIn();
        if (signed.status !== 200) throw new Error(`console sign-in: ${signed.status}`);
        const status = await s.stream('/events', (text) => (frames += text.split('\n\n').length - 1));
        if (status !== 200) throw new Error(`/events: ${status}`);
        consoles.push(s);
      }
      open.push(await round(port!));
      for (const s of consoles.splice(0)) s.close();
    }
    const med = (rs: Round[]): Round => ({ perSecond: median(rs.map((x) => x.perSecond)), p50: median(rs.map((x) => x.p50)), p99: median(rs.map((x) => x.p99)), cpuPerLogin: median(rs.map((x) => x.cpuPerLogin)) });
    const base = med(none);
    const with20 = med(open);
    const ratioRate = with20.perSecond / base.perSecond;
    const ratioP99 = with20.p99 / base.p99;
    process.stdout.write(
      `logins, ${CALLERS} callers at once, no console open: ${base.perSecond.toFixed(0)} logins/s, last Enter -> result p50 ${ms(base.p50)} p99 ${ms(base.p99)}, CPU ${ms(base.cpuPerLogin)} per login\n` +
        `logins, ${CALLERS} callers at once, ${CONSOLES} consoles open (signed in, /events read: ${frames} frames): ${with20.perSecond.toFixed(0)} logins/s, p50 ${ms(with20.p50)} p99 ${ms(with20.p99)}, CPU ${ms(with20.cpuPerLogin)} per login\n` +
        `ratio ${CONSOLES} consoles / none: throughput ${ratioRate.toFixed(2)}, p50 ${(with20.p50 / base.p50).toFixed(2)}, p99 ${ratioP99.toFixed(2)}, CPU per login ${(with20.cpuPerLogin / base.cpuPerLogin).toFixed(2)} ` +
        `(target throughput > 0.8 and p99 < 1.5: ${ratioRate > 0.8 && ratioP99 < 1.5 ? 'met' : 'NOT met'}; medians of 3 alternating rounds of ${CALLERS * PER_CALLER} logins)\n`,
    );
    await con.close();
    await gw.stop();
  } finally {
    for (const s of consoles) s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
