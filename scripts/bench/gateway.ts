/**
 * Gateway benchmark: the whole daemon in this process (Gateway with TCP lines in
 * raw mode, the local authority, the real dialogue, NTLM legs and call machine, transition logs
 * formatted and thrown away) and loopback callers in the same process.
 *
 *  logins      64 and 256 callers at once, each looping connect -> login: -> user -> Password:
 *              -> password -> result; logins/s, and p50/p99 from the last Enter to the result
 *              text. Baseline: a bare TCP echo round trip on loopback, measured the same way with
 *              the same number of concurrent sockets. Target: p99 < 20 ms at 256.
 *  memory      RSS (and heap) per idle line (200 TCP lines, measured on a second gateway so that
 *              loading the code is not counted), per active call (256 calls held at the password
 *              prompt), and after 10,000 calls versus after 100 (no growth expected: a heap
 *              snapshot diff shows only V8 code objects growing). GC is forced before each
 *              reading. Targets: < 50 KiB per idle line, no growth.
 *
 * Failure delays are 0 in the bench configuration. Run alone: node --import tsx scripts/bench/gateway.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import winston from 'winston';
import { Gateway } from '../../src/gateway/daemon.js';
import { parseConfig } from '../../src/gateway/config.js';
import { createLogger } from '../../src/observe/logger.js';
import { SmbpasswdStore } from '../../src/authority/local/index.js';
import { ntowfv1 } from '../../src/ntlm/crypto.js';

export const name = 'gateway';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const USERS = 32;
const PASSWORD = 'Bench-pw-1';

export function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const ms = (v: number) => `${v.toFixed(2)} ms`;

export async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    ports.push((s.address() as { port: number }).port);
    servers.push(s);
  }
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** Wait on a socket until the text so far matches. */
export function reader(socket: Socket) {
  let text = '';
  let waiter: { re: RegExp; resolve: () => void } | undefined;
  let closed = false;
  const check = () => {
    if (waiter && (waiter.re.test(text) || closed)) {
      const w = waiter;
      waiter = undefined;
      w.resolve();
    }
  };
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => {
    text += d;
    check();
  });
  socket.on('close', () => {
    closed = true;
    check();
  });
  socket.on('error', () => {});
  return {
    until(re: RegExp): Promise<void> {
      return new Promise((resolve) => {
        waiter = { re, resolve };
        check();
      });
    },
    clear() {
      text = '';
    },
    get closed() {
      return closed;
    },
  };
}

export async function oneLogin(port: number, user: string, enterToResult: number[]): Promise<void> {
  const socket = connect({ port, host: '127.0.0.1', noDelay: true });
  const r = reader(socket);
  await r.until(/login: $/);
  socket.write(`${user}\r`);
  await r.until(/Password: $/);
  r.clear();
  const t0 = performance.now();
  socket.write(`${PASSWORD}\r`);
  await r.until(/Welcome|Login incorrect/);
  enterToResult.push(performance.now() - t0);
  socket.destroy();
}

async function echoBaseline(concurrency: number, rounds: number): Promise<number[]> {
  const server = createServer({ noDelay: true }, (s) => {
    s.on('error', () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const samples: number[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      const socket = connect({ port, host: '127.0.0.1', noDelay: true });
      await new Promise((r) => socket.once('connect', r));
      for (let i = 0; i < rounds; i++) {
        const t0 = performance.now();
        socket.write('x\r');
        await new Promise((r) => socket.once('data', r));
        samples.push(performance.now() - t0);
      }
      socket.destroy();
    }),
  );
  server.close();
  return samples.sort((a, b) => a - b);
}

function memory(): { rss: number; heap: number } {
  gc();
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

async function startGateway(dir: string, lineCount: number): Promise<{ gw: Gateway; ports: number[] }> {
  const ports = await freePorts(lineCount);
  const yaml = `lines:\n${ports.map((p, i) => `  - { id: b${i}, listen: tcp://127.0.0.1:${p}, mode: raw, maxCalls: 0 }`).join('\n')}
authority: { file: ./smbpasswd, domain: BENCH }
dialogue: { failureDelaysSeconds: [0], messages: { success: Welcome } }
shutdown: { grace: 0 }
# the bench is one source that holds calls open and drops them: not penalised (scripts/bench/guard.ts measures that)
penalties: { allow: [127.0.0.1] }
`;
  const { config, issues } = parseConfig(yaml, 'bench.yaml', dir);
  if (!config) throw new Error(JSON.stringify(issues));
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const logger = createLogger({ noStdout: true, transports: [new winston.transports.Stream({ stream: sink })] });
  const gw = new Gateway({ loaded: { config, source: 'bench.yaml', baseDir: dir }, logger });
  await gw.start();
  return { gw, ports };
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rasgate-bench-'));
  try {
    const store = new SmbpasswdStore(join(dir, 'smbpasswd'));
    const ntHash = ntowfv1(PASSWORD);
    await store.update((ed) => {
      for (let i = 0; i < USERS; i++) ed.put({ name: `user${i}`, uid: 1000 + i, ntHash, hasLmHash: false, flags: new Set(['U']), lastChange: 0x5f5e1000 });
    });

    // -- memory first: per idle line (200 TCP lines on a second gateway, the code already loaded),
    // then per active call (256 callers held at the password prompt on one of them).
    {
      // A first gateway loads and compiles the code once, so that the figure is per line.
      await (await startGateway(dir, 4)).gw.stop();
      const base = memory();
      const { gw, ports } = await startGateway(dir, 200);
      await new Promise((r) => setTimeout(r, 200));
      const idle = memory();
      process.stdout.write(`memory per idle TCP line (200 lines): RSS ${kib((idle.rss - base.rss) / 200)}, heap ${kib((idle.heap - base.heap) / 200)} (target < 50 KiB)\n`);
      const port = ports[0]!;
      const before = memory();
      const held: Socket[] = [];
      await Promise.all(
        Array.from({ length: 256 }, async (_, i) => {
          const socket = connect({ port, host: '127.0.0.1', noDelay: true });
          const r = reader(socket);
          await r.until(/login: $/);
          socket.write(`user${i % USERS}\r`);
          await r.until(/Password: $/);
          held.push(socket);
        }),
      );
      const during = memory();
      process.stdout.write(`memory per active call (256 held at the password prompt): RSS ${kib((during.rss - before.rss) / 256)}, heap ${kib((during.heap - before.heap) / 256)}\n`);
      for (const sock of held) sock.destroy();
      await gw.stop();
    }

    // -- logins under concurrency -------------------------------------------------------------
    {
      const { gw, ports } = await startGateway(dir, 1);
      const port = ports[0]!;
      for (const concurrency of [64, 256]) {
        const perCaller = concurrency === 64 ? 12 : 4;
        for (let w = 0; w < 3; w++) await Promise.all(Array.from({ length: concurrency }, (_, i) => oneLogin(port, `user${i % USERS}`, []))); // warm-up (JIT)
        const samples: number[] = [];
        const t0 = performance.now();
        await Promise.all(
          Array.from({ length: concurrency }, async (_, i) => {
            for (let k = 0; k < perCaller; k++) await oneLogin(port, `user${i % USERS}`, samples);
          }),
        );
        const seconds = (performance.now() - t0) / 1000;
        samples.sort((a, b) => a - b);
        const echo = await echoBaseline(concurrency, perCaller);
        const p50 = pct(samples, 50);
        const p99 = pct(samples, 99);
        const e50 = pct(echo, 50);
        const e99 = pct(echo, 99);
        process.stdout.write(
          `logins, ${concurrency} callers at once: ${(samples.length / seconds).toFixed(0)} logins/s (${samples.length} in ${seconds.toFixed(2)} s); ` +
            `last Enter -> result p50 ${ms(p50)} p99 ${ms(p99)} (target p99 < 20 ms: ${p99 < 20 ? 'met' : 'NOT met'}); ` +
            `baseline TCP echo p50 ${ms(e50)} p99 ${ms(e99)}; ratio p50 ${(p50 / e50).toFixed(1)}x p99 ${(p99 / e99).toFixed(1)}x\n`,
        );
      }
      const summary = gw.metrics.snapshot();
      process.stdout.write(`  (${summary.loginsAccepted} logins accepted, ${summary.crashes} crashes)\n`);

      // -- growth: after 100 calls vs after 10,000 more ------------------------------------------
      const loop = async (total: number) => {
        let next = 0;
        await Promise.all(
          Array.from({ length: 64 }, async (_, i) => {
            while (next++ < total) await oneLogin(port, `user${i % USERS}`, []);
          }),
        );
      };
      await loop(100);
      await new Promise((r) => setTimeout(r, 200));
      const after100 = memory();
      const t0 = performance.now();
      await loop(10_000);
      const secs = (performance.now() - t0) / 1000;
      await new Promise((r) => setTimeout(r, 200));
      const after10k = memory();
      if (process.env.BENCH_GROWTH_TWICE) {
        await loop(10_000);
        await new Promise((r) => setTimeout(r, 200));
        const after20k = memory();
        process.stdout.write(`  after 20,000: RSS ${kib(after20k.rss)}, heap ${kib(after20k.heap)}\n`);
      }
      const growth = after10k.rss - after100.rss;
      process.stdout.write(
        `growth: RSS after 100 calls ${kib(after100.rss)}, after 10,000 more ${kib(after10k.rss)} (${growth >= 0 ? '+' : ''}${kib(growth)}, ratio ${(after10k.rss / after100.rss).toFixed(3)}); ` +
          `heap ${kib(after100.heap)} -> ${kib(after10k.heap)} (ratio ${(after10k.heap / after100.heap).toFixed(3)}); 10,000 calls in ${secs.toFixed(1)} s\n`,
      );
      await gw.stop();
    }

  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
