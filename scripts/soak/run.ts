/**
 * One soak run: a real gateway (gateway-process.ts, its own process) with TCP lines (telnet and
 * raw) and simulated modems on loopback, the local authority with a few users, and `workers`
 * callers looping over the behaviours of callers.ts in a seeded random mix for `seconds`.
 * The guard runs as deployed (every call counted, account lockout, per-source penalties, the
 * audit trail): hostile callers guess from sources of their own and are locked out and penalised
 * now and then, ordinary callers come from allowed sources and must always get in (configYaml).
 * Then the callers stop, the gateway must come back to its idle baseline, and it is stopped.
 * The figures and the verdict are made by report.ts.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SmbpasswdStore } from '../../src/authority/local/index.js';
import { ntowfv1 } from '../../src/ntlm/crypto.js';
import type { CallSummary } from '../../src/gateway/call-runner.js';
import { prng } from '../../test/helpers/prng.js';
import { BEHAVIOURS, runBehaviour, type Behaviour, type CallerContext, type Outcome, type Target, type Users } from './callers.js';
import type { FromGateway, GatewayProcessArgs, LogCounts, QueueReading, Sample, Stall, ToGateway } from './protocol.js';

const HERE = dirname(fileURLToPath(import.meta.url));

export interface SoakOptions {
  /** How long the callers call. */
  seconds: number;
  /** Lines in the gateway (TCP telnet, TCP raw and simulated modems). Default 256. */
  lines?: number;
  /** Share of the lines that are simulated modems. Default 0.5. */
  simShare?: number;
  /** Callers at once. Default 64. */
  workers?: number;
  seed?: number;
  /** Gateway samples (each after a forced GC), ms. Default 5000. */
  sampleMs?: number;
  /** Samples before this are warm-up, left out of the slopes. Default a quarter of the run, at most 120 s. */
  warmupSeconds?: number;
  /** RSS rises longest at first (the allocator's arenas): its own warm-up. Default half the run, at most 300 s. */
  rssWarmupSeconds?: number;
  /** Relative weights of the behaviours. */
  weights?: Partial<Record<Behaviour, number>>;
  /** Progress lines (default: none). */
  progress?: (line: string) => void;
  /** Keep the gateway's whole log in this file (investigating a finding). */
  logFile?: string;
  /** Heap snapshots of the gateway: `PREFIX-warm.heapsnapshot` at the end of warm-up and
   * `PREFIX-idle.heapsnapshot` once it is back to idle after the callers (to compare). */
  heapSnapshot?: string;
}

/** The soak's dialogue: timeouts short enough that they fire many times during a run. */
export const SOAK_DIALOGUE = { fieldTimeoutSeconds: 10, fieldWarningSeconds: 5, loginTimeoutSeconds: 40, loginWarningSeconds: 10, maxAttempts: 3, failureDelaysSeconds: [0.2, 0.5, 1] };
/** TCP lines' maxCalls in the soak configuration (the documented default). */
export const SOAK_MAX_CALLS = 64;

export const DEFAULT_WEIGHTS: Record<Behaviour, number> = { 'login-ok': 30, 'login-wrong': 15, 'hangup-mid': 20, 'stop-reading': 10, garbage: 20, hog: 5 };
/** At most one hog at a time, and one start per this many ms (each is maxCalls + 8 connections). */
const HOG_EVERY_MS = 20_000;
/** A modem line re-initialises after a call (DTR drop, init chat): dial it again after this. */
const SIM_COOLDOWN_MS = 3000;
/** The idle baseline: resources and fds unchanged for this long. */
const BASELINE_STEADY_MS = 5000;
/** The gateway's main thread making no progress this long is a stall (its stack is caught). */
export const STALL_MS = 10_000;

export interface SoakRun {
  options: Required<Omit<SoakOptions, 'weights' | 'progress' | 'logFile' | 'heapSnapshot'>> & { weights: Record<Behaviour, number> };
  lineKinds: Record<string, number>;
  /** Idle gateway before the callers (after a forced GC). */
  baseline: Sample;
  samples: Sample[];
  /** Sample times (ms, gateway clock) where the callers started and stopped. */
  callersFrom: number;
  callersUntil: number;
  /** After the callers stopped: the reading that matched the baseline, or the last one tried. */
  drained: { sample: Sample; matched: boolean; waitedMs: number };
  summaries: CallSummary[];
  outcomes: Outcome[];
  faults: Array<{ kind: string; message: string; stack?: string }>;
  /** Main-thread stalls the watchdog caught (with their stacks). */
  stalls: Stall[];
  /** The parent heard nothing from the gateway for this long at most (ms). */
  longestSilenceMs: number;
  queues: QueueReading;
  logs: LogCounts;
  stopped?: Extract<FromGateway, { t: 'stopped' }>;
  exit: { code: number | null; signal: string | null; expected: boolean };
  stderr: string[];
}

const USERS: Users = {
  domain: 'SOAK',
  accounts: [
    { name: 'alice', password: 'Alice-soak-1' },
    { name: 'bob', password: 'b0b pass phrase' },
    { name: 'carol', password: 'Carol\u00e9-2' },
    { name: 'dave', password: 'D4ve!#%&' },
  ],
  victims: [
    { name: 'eve', password: 'Eve-is-guessed-3' },
    { name: 'mallory', password: 'M4llory guessed' },
  ],
};

async function addUsers(file: string): Promise<void> {
  const store = new SmbpasswdStore(file);
  // A last-change time: LCT 0 would mean "must change the password at next logon".
  const lastChange = Math.floor(Date.now() / 1000);
  await store.update((ed) => {
    [...USERS.accounts, ...USERS.victims].forEach((a, i) => ed.put({ name: a.name, uid: 2000 + i, ntHash: ntowfv1(a.password), hasLmHash: false, flags: new Set(['U']), lastChange }));
  });
}

/**
 * Where callers come from. Ordinary callers (login-ok, the hog's probe) come from addresses and
 * caller numbers the penalties allow; hostile callers from a small pool per caller that they
 * share with nobody ordinary, so that their sources are penalised now and then and the refusal
 * is exercised, while the hostile dialogue paths stay exercised too (a single hostile address
 * per caller would be refused most of the time).
 */
export const ORDINARY_NETS = [10, 11];
export const HOSTILE_NET = 12;
/** Hostile addresses per caller. */
export const HOSTILE_POOL = 4;
/** Caller numbers on modem lines (a prefix and four digits): ordinary ones are allowed, hostile ones are not. */
export const NUMBER_PREFIXES = { ordinary: '5551', hostile: '5559' };

/** Every line and far side listens on port 0: the gateway process reports the ports it was given. */
function configYaml(lines: Array<Omit<Target, 'port'>>): string {
  const d = SOAK_DIALOGUE;
  const items = lines.map((t) =>
    t.kind === 'sim'
      ? `  - { id: ${t.lineId}, device: "sim://soak-${t.lineId}?far=tcp://127.0.0.1:0", modem: { answerOnRing: 2, callerId: AT+VCID=1 } }`
      : `  - { id: ${t.lineId}, listen: tcp://127.0.0.1:0, mode: ${t.kind}, maxCalls: ${SOAK_MAX_CALLS} }`,
  );
  return `# written by scripts/soak/run.ts
lines:
${items.join('\n')}
authority: { type: local, file: ./smbpasswd, domain: ${USERS.domain} }
dialogue:
  fieldTimeoutSeconds: ${d.fieldTimeoutSeconds}
  fieldWarningSeconds: ${d.fieldWarningSeconds}
  loginTimeoutSeconds: ${d.loginTimeoutSeconds}
  loginWarningSeconds: ${d.loginWarningSeconds}
  maxAttempts: ${d.maxAttempts}
  failureDelaysSeconds: [${d.failureDelaysSeconds.join(', ')}]
log: { level: info }
console: { enabled: false }
shutdown: { grace: 2 }
# The guard as deployed (accounting of every call, lockout, penalties, the audit trail), except:
# ordinary callers' sources are allowed (they are many distinct peers, kept apart from the
# hostile ones); locks last a minute so that names are locked and unlocked again during a run;
# no line pauses (a modem line shared by ordinary and hostile callers would stop answering both).
lockout: { maxDenials: 10, lockMinutes: 1 }
penalties:
  allow: [${ORDINARY_NETS.map((n) => `127.${n}.0.0/16`).join(', ')}, "${NUMBER_PREFIXES.ordinary}????"]
  line: { maxFailedCalls: 0 }
`;
}

/** The gateway process and its messages. */
class GatewayChild {
  readonly proc: ChildProcess;
  readonly samples: Sample[] = [];
  readonly summaries: CallSummary[] = [];
  readonly faults: SoakRun['faults'] = [];
  readonly stderr: string[] = [];
  queues: QueueReading = { maxSocket: 0, maxTotal: 0 };
  logs: LogCounts = { levels: {}, messages: {} };
  stopped?: Extract<FromGateway, { t: 'stopped' }>;
  ready?: Promise<Record<string, number>>;
  /** When the last message came, and the longest time without one (while running). */
  lastMessageAt = performance.now();
  longestSilenceMs = 0;
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  private stopAsked = false;
  private nextId = 1;
  private readonly waiting = new Map<number, (s: Sample) => void>();
  private readonly readyWaiters: Array<(ports: Record<string, number>) => void> = [];
  private stoppedWaiter?: () => void;

  constructor(args: GatewayProcessArgs) {
    this.proc = fork(join(HERE, 'gateway-process.ts'), [JSON.stringify(args)], {
      execArgv: ['--import', 'tsx', '--expose-gc'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const keep = (chunk: Buffer) => {
      this.stderr.push(...String(chunk).split('\n').filter(Boolean));
      this.stderr.splice(0, Math.max(0, this.stderr.length - 50));
    };
    this.proc.stdout!.on('data', keep);
    this.proc.stderr!.on('data', keep);
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve({ code, signal })));
    this.ready = new Promise((resolve, reject) => {
      this.readyWaiters.push(resolve);
      void this.exited.then((e) => reject(new Error(`gateway process exited before it was ready (${JSON.stringify(e)}): ${this.stderr.join('\n')}`)));
    });
    this.proc.on('message', (m: FromGateway) => this.onMessage(m));
  }

  /** Note the time since the last message (call periodically while the gateway should be talking). */
  silence(): number {
    const ms = performance.now() - this.lastMessageAt;
    this.longestSilenceMs = Math.max(this.longestSilenceMs, ms);
    return ms;
  }

  private onMessage(m: FromGateway): void {
    this.silence();
    this.lastMessageAt = performance.now();
    switch (m.t) {
      case 'ready':
        for (const r of this.readyWaiters.splice(0)) r(m.ports);
        break;
      case 'sample': {
        this.samples.push(m.sample);
        this.queues = { maxSocket: Math.max(this.queues.maxSocket, m.queues.maxSocket), maxTotal: Math.max(this.queues.maxTotal, m.queues.maxTotal) };
        this.logs = m.logs;
        const w = m.id !== undefined ? this.waiting.get(m.id) : undefined;
        if (w) {
          this.waiting.delete(m.id!);
          w(m.sample);
        }
        break;
      }
      case 'call':
        this.summaries.push(m.summary);
        break;
      case 'fault':
        this.faults.push({ kind: m.kind, message: m.message, ...(m.stack ? { stack: m.stack } : {}) });
        break;
      case 'stopped':
        this.stopped = m;
        this.stoppedWaiter?.();
        break;
    }
  }

  private tell(m: ToGateway): boolean {
    if (!this.proc.connected) return false;
    this.proc.send(m);
    return true;
  }

  /** A sample now (undefined if the process is gone or does not answer in time); with a heap snapshot first. */
  sample(timeoutMs = 30_000, heapSnapshot?: string): Promise<Sample | undefined> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      if (!this.tell(heapSnapshot ? { t: 'heap-snapshot', id, file: heapSnapshot } : { t: 'sample', id })) return resolve(undefined);
      const t = setTimeout(() => {
        this.waiting.delete(id);
        resolve(undefined);
      }, timeoutMs);
      this.waiting.set(id, (s) => {
        clearTimeout(t);
        resolve(s);
      });
      void this.exited.then(() => resolve(undefined));
    });
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Ask the gateway to stop; kill it if it does not exit in time. */
  async stop(timeoutMs = 60_000): Promise<{ code: number | null; signal: string | null; expected: boolean }> {
    const wasAlive = this.alive;
    this.stopAsked = true;
    if (this.tell({ t: 'stop' })) {
      await Promise.race([new Promise<void>((r) => (this.stoppedWaiter = r)), this.exited, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    }
    const killer = setTimeout(() => this.proc.kill('SIGKILL'), 20_000);
    const e = await this.exited;
    clearTimeout(killer);
    return { ...e, expected: wasAlive && this.stopAsked && e.code === 0 };
  }
}

/** Each caller its own loopback source address (127.0.0.0/8 is all loopback on Linux). */
function sourceAddress(net: number, i: number): string {
  return `127.${net}.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

function readStalls(file: string): Stall[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Stall);
}

function sameResources(a: Sample, b: Sample): boolean {
  const keys = new Set([...Object.keys(a.resources), ...Object.keys(b.resources)]);
  return [...keys].every((k) => (a.resources[k] ?? 0) === (b.resources[k] ?? 0)) && a.fds === b.fds;
}

export async function runSoak(opts: SoakOptions): Promise<SoakRun> {
  const o = {
    seconds: opts.seconds,
    lines: opts.lines ?? 256,
    simShare: opts.simShare ?? 0.5,
    workers: opts.workers ?? 64,
    seed: opts.seed ?? 1,
    sampleMs: opts.sampleMs ?? 5000,
    warmupSeconds: opts.warmupSeconds ?? Math.min(120, opts.seconds / 4),
    rssWarmupSeconds: opts.rssWarmupSeconds ?? Math.max(opts.warmupSeconds ?? 0, Math.min(300, opts.seconds / 2)),
    weights: { ...DEFAULT_WEIGHTS, ...opts.weights },
  };
  const say = opts.progress ?? (() => undefined);
  const dir = mkdtempSync(join(tmpdir(), 'rasgate-soak-'));
  let child: GatewayChild | undefined;
  try {
    await addUsers(join(dir, 'smbpasswd'));
    const sims = Math.round(o.lines * o.simShare);
    const raws = Math.round((o.lines - sims) / 4);
    const lines = Array.from({ length: o.lines }, (_, i) => {
      const kind: Target['kind'] = i < sims ? 'sim' : i < sims + raws ? 'raw' : 'telnet';
      return { kind, lineId: `${kind === 'sim' ? 'm' : kind === 'raw' ? 'r' : 't'}${i}` };
    });
    const configFile = join(dir, 'soak.yaml');
    writeFileSync(configFile, configYaml(lines));

    say(`gateway: ${o.lines} lines (${o.lines - sims - raws} telnet, ${raws} raw, ${sims} simulated modems); waiting for every line to be idle`);
    const stallFile = join(dir, 'stalls.jsonl');
    child = new GatewayChild({ configFile, sampleMs: o.sampleMs, queueMs: 250, stallMs: STALL_MS, stallFile, ...(opts.logFile ? { logFile: opts.logFile } : {}) });
    const ports = await child.ready;
    const targets: Target[] = lines.map((l) => ({ ...l, port: ports![l.lineId]! }));
    const callerContext = (w: number, rand: () => number, signal: AbortSignal): CallerContext => ({
      rand,
      users: USERS,
      fieldTimeoutMs: SOAK_DIALOGUE.fieldTimeoutSeconds * 1000,
      loginTimeoutMs: SOAK_DIALOGUE.loginTimeoutSeconds * 1000,
      maxCalls: SOAK_MAX_CALLS,
      localAddress: sourceAddress(ORDINARY_NETS[0]!, w),
      probeAddress: sourceAddress(ORDINARY_NETS[1]!, w),
      hostileAddress: () => sourceAddress(HOSTILE_NET, w * HOSTILE_POOL + Math.floor(rand() * HOSTILE_POOL)),
      numberPrefixes: NUMBER_PREFIXES,
      signal,
    });
    // One ordinary call before the baseline: what the first call opens for good (the audit
    // trail's file of the day) belongs to the idle gateway, not to the callers.
    const primerTarget = targets.find((t) => t.kind !== 'sim') ?? targets[0]!;
    const primer = await runBehaviour('login-ok', primerTarget, callerContext(o.workers, prng(o.seed), new AbortController().signal));
    if (primer.outcome !== 'accepted') throw new Error(`the first ordinary login on ${primerTarget.lineId} was not accepted (${primer.outcome}${primer.seen ? `: ${primer.seen}` : ''}): ${child.stderr.join('\n')}`);
    // The idle baseline: readings alike for BASELINE_STEADY_MS (line init, the first health
    // checks and what the primer call left for a while, such as a closed socket's 2 s guard timer, settle).
    let baseline = await child.sample();
    let steadySince = performance.now();
    for (const giveUp = performance.now() + 60_000; baseline && performance.now() < giveUp && performance.now() - steadySince < BASELINE_STEADY_MS; ) {
      await new Promise((r) => setTimeout(r, 500));
      const next = await child.sample();
      if (next && sameResources(next, baseline)) continue;
      baseline = next;
      steadySince = performance.now();
    }
    if (!baseline) throw new Error(`no baseline sample: ${child.stderr.join('\n')}`);
    say(`idle baseline: RSS ${mib(baseline.rss)}, heap ${mib(baseline.heapUsed)}, resources ${JSON.stringify(baseline.resources)}, fds ${baseline.fds}`);

    // -- callers --------------------------------------------------------------------------
    const outcomes: Outcome[] = [];
    const abort = new AbortController();
    // Every connection listens to it (a hog opens maxCalls + 8 at once).
    setMaxListeners(0, abort.signal);
    const tcp = targets.filter((t) => t.kind !== 'sim');
    const simFreeAt = new Map(targets.filter((t) => t.kind === 'sim').map((t) => [t, 0]));
    let hogActive = false;
    let lastHog = -Infinity;
    const total = BEHAVIOURS.reduce((n, b) => n + o.weights[b], 0);
    const enabled = BEHAVIOURS.filter((b) => o.weights[b] > 0);
    const startedAt = performance.now();
    const until = startedAt + o.seconds * 1000;

    const worker = async (w: number) => {
      const rand = prng(o.seed * 7919 + w);
      const ctx = callerContext(w, rand, abort.signal);
      // Each worker's first behaviour goes round the list, so that even a short run has them all.
      let first: Behaviour | undefined = enabled[w % enabled.length];
      while (!abort.signal.aborted && performance.now() < until) {
        let r = rand() * total;
        let behaviour = first ?? BEHAVIOURS.find((b) => (r -= o.weights[b]) < 0) ?? 'login-ok';
        first = undefined;
        if (behaviour === 'hog' && (hogActive || performance.now() - lastHog < HOG_EVERY_MS || tcp.length === 0)) behaviour = 'login-ok';
        let sim: Target | undefined;
        if (behaviour !== 'hog' && (rand() < o.simShare || tcp.length === 0)) {
          const now = performance.now();
          sim = [...simFreeAt].find(([, at]) => at <= now)?.[0];
          if (sim) simFreeAt.set(sim, Infinity);
        }
        const target = sim ?? tcp[Math.floor(rand() * tcp.length)];
        if (!target) {
          // Every modem line is busy and there is no TCP line: wait for one.
          await new Promise((res) => setTimeout(res, 200));
          continue;
        }
        if (behaviour === 'hog') {
          hogActive = true;
          lastHog = performance.now();
        }
        try {
          outcomes.push(await runBehaviour(behaviour, target, ctx));
        } catch (err) {
          outcomes.push({ behaviour, variant: 'exception', kind: target.kind, outcome: `caller-error: ${String(err)}`, unexpected: true, connections: 0 });
        } finally {
          if (behaviour === 'hog') hogActive = false;
          if (sim) simFreeAt.set(sim, performance.now() + SIM_COOLDOWN_MS);
        }
        await new Promise((res) => setTimeout(res, Math.floor(rand() * 100)));
      }
    };

    const tick = setInterval(() => {
      const s = child!.samples.at(-1);
      const elapsed = (performance.now() - startedAt) / 1000;
      if (s) say(`${elapsed.toFixed(0)} s: ${child!.summaries.length} calls ended, ${s.activeCalls} active; RSS ${mib(s.rss)}, heap ${mib(s.heapUsed)}, resources ${sum(s.resources)}, fds ${s.fds}; faults ${child!.faults.length}${child!.alive ? '' : '; GATEWAY PROCESS GONE'}`);
    }, Math.max(10_000, Math.min(30_000, o.seconds * 250)));
    // The callers stop when the time is over, or at once when the gateway process is gone or silent.
    void child.exited.then(() => abort.abort());
    const watch = setInterval(() => {
      if (child!.silence() > STALL_MS + Math.max(5000, 2 * o.sampleMs)) {
        say(`the gateway said nothing for ${(child!.silence() / 1000).toFixed(0)} s: stopping the callers`);
        abort.abort();
      }
    }, 1000);
    const stopAt = setTimeout(() => abort.abort(), o.seconds * 1000);
    const warmSnapshot = opts.heapSnapshot
      ? setTimeout(() => void child!.sample(120_000, `${opts.heapSnapshot}-warm.heapsnapshot`).then(() => say(`heap snapshot: ${opts.heapSnapshot}-warm.heapsnapshot`)), o.warmupSeconds * 1000)
      : undefined;
    await Promise.all(Array.from({ length: o.workers }, (_, w) => worker(w)));
    clearTimeout(stopAt);
    clearTimeout(warmSnapshot);
    abort.abort();
    clearInterval(tick);
    clearInterval(watch);
    child.silence();
    const callersUntilSample = await child.sample();
    const callersUntil = callersUntilSample?.at ?? child.samples.at(-1)?.at ?? 0;
    // Sample times are the gateway process's clock: the callers started right after the baseline.
    const callersFrom = baseline.at;
    say(`callers stopped after ${((performance.now() - startedAt) / 1000).toFixed(0)} s; waiting for the gateway to come back to its idle baseline`);

    // -- back to the baseline -----------------------------------------------------------------
    const drainFrom = performance.now();
    let last = callersUntilSample ?? baseline;
    let matched = false;
    while (child.alive && performance.now() - drainFrom < 90_000) {
      const s = await child.sample();
      if (!s) break;
      last = s;
      if (s.activeCalls === 0 && s.openCalls === 0 && sameResources(s, baseline)) {
        matched = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    const drained = { sample: last, matched, waitedMs: Math.round(performance.now() - drainFrom) };
    if (opts.heapSnapshot) {
      await child.sample(120_000, `${opts.heapSnapshot}-idle.heapsnapshot`);
      say(`heap snapshot: ${opts.heapSnapshot}-idle.heapsnapshot`);
    }

    const exit = await child.stop();
    return {
      options: o,
      lineKinds: { telnet: targets.filter((t) => t.kind === 'telnet').length, raw: raws, sim: sims },
      baseline,
      samples: child.samples.filter((s) => s.at >= callersFrom && s.at <= callersUntil),
      callersFrom,
      callersUntil,
      drained,
      summaries: child.summaries,
      outcomes,
      faults: child.faults,
      stalls: readStalls(stallFile),
      longestSilenceMs: Math.round(child.longestSilenceMs),
      queues: child.queues,
      logs: child.logs,
      ...(child.stopped ? { stopped: child.stopped } : {}),
      exit,
      stderr: child.stderr,
    };
  } finally {
    if (child?.alive) child.proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

export const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`;
export const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);
