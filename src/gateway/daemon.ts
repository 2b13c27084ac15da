/**
 * The gateway daemon: many lines in one process, each answered call run by startCall().
 *
 *  - Isolation: a call's failure ends that call (call-runner.ts); a line's failure (cannot open,
 *    device lost) is logged and retried by the line itself; neither touches another line.
 *  - stop(): stop answering; every call is told (SHUTDOWN): sessions past the dialogue say the
 *    shutdown line and hang up at once; calls still in the login dialogue get `shutdown.grace`
 *    seconds to reach their result (logged as it was), but a login that succeeds now is refused
 *    with the shutdown line; dialogues still running at the end of the grace hear it and are
 *    hung up. No caller is dropped in silence.
 *  - reload() (SIGHUP): re-read the configuration and the user store. Lines whose transport
 *    settings are unchanged keep running with their calls (a new action applies to new calls);
 *    removed or changed lines stop answering and are released when their last call ends; new
 *    lines start. An invalid file is logged and ignored: the running configuration stays. A
 *    replaced authority is closed, and its credential freed, when its last verification ends.
 *  - Its life (starting, running, reloading, stopping) is machines/gateway.ts: reloads run one
 *    at a time, a stop waits for a start or reload in progress, and the machine is logged and
 *    inspected like every other.
 */
import { isDeepStrictEqual } from 'node:util';
import { createActor, fromPromise, type Actor, type InspectionEvent, type Observer } from 'xstate';
import { gatewayMachine } from '../../machines/gateway.js';
import { createAuthority, type Authority } from '../authority/index.js';
import { LocalAuthority, type StoreHealth } from '../authority/local/index.js';
import { acquireCredentialsHandle, freeCredentialsHandle, type CredentialHandle } from '../ntlm/server.js';
import { RasSecurityHost } from '../ras/host.js';
import type { Verifier } from '../ras/verify.js';
import { createLine, SimModems, type CallChannel, type Line, type LineStatus } from '../serial/index.js';
import type { Logger } from '../logging.js';
import { Metrics } from '../observe/metrics.js';
import { combineInspect } from '../observe/inspector.js';
import { transitionLogger } from '../observe/transitions.js';
import { errorSummary } from '../errors.js';
import { makeFolders } from '../files/atomic.js';
import { loadConfigFile, hostIssues, EMBEDDED_SOURCE, formatIssue, ConfigError, type LoadedConfig, type LineConfig, type RasgateConfig } from './config.js';
import { describeLine } from './config/summary.js';
import { createGatewayVerifier } from './verifier.js';
import { startCall, type CallSummary, type RunningCall } from './call-runner.js';
import { UserPolicyFile, policyFilePath } from '../callback/user-policy.js';
import type { LineClock } from '../serial/clock.js';

export interface GatewayOptions {
  loaded: LoadedConfig;
  logger: Logger;
  /** The inspector's observer (serve --inspect). */
  inspect?: Observer<InspectionEvent>;
  /** Called with every finished call (tests, benchmarks). */
  onCallEnd?: (summary: CallSummary) => void;
  /** Wrap the verifier (fault-injection tests). Default: the gateway verifier as is. */
  wrapVerifier?: (verifier: Verifier) => Verifier;
  /** Time of the lines, the simulated modems, the dialogues and the calls. Default: real time; tests pass a SimulatedClock. */
  clock?: LineClock;
}

/** An authority with its credential, and the verifications using it (a replaced one is closed when the last ends). */
interface AuthorityLease {
  authority: Authority;
  credential: CredentialHandle;
  inFlight: number;
  retired: boolean;
}

interface LineEntry {
  config: LineConfig;
  line: Line;
  calls: Set<RunningCall>;
  retiring: boolean;
}

export class Gateway {
  readonly metrics = new Metrics();
  /** The simulated modems of this gateway's `sim://` lines (tests and demos reach them here). */
  readonly simModems: SimModems;
  /** The local accounts' per-user policy (callback), when the authority is local. */
  private userPolicy?: UserPolicyFile;
  private config: RasgateConfig;
  private readonly source: string;
  private readonly log: Logger;
  private lease?: AuthorityLease;
  private host!: RasSecurityHost;
  private readonly lines = new Map<string, LineEntry>();
  private readonly retired = new Set<LineEntry>();
  private readonly verifier: Verifier;
  private readonly life: Actor<typeof gatewayMachine>;
  private startError: unknown;

  constructor(private readonly o: GatewayOptions) {
    this.config = o.loaded.config;
    this.source = o.loaded.source;
    this.simModems = new SimModems(o.clock ? { clock: o.clock } : {});
    this.log = o.logger.child({ area: 'gateway' });
    const verifier = createGatewayVerifier({ lease: () => this.takeLease(), logger: o.logger, inspect: (line, call) => this.ntlmInspect(line, call) });
    this.verifier = o.wrapVerifier ? o.wrapVerifier(verifier) : verifier;
    const machine = gatewayMachine.provide({
      actors: {
        start: fromPromise(() => this.startNow()),
        reload: fromPromise(() => this.reloadNow()),
        stop: fromPromise(({ input }) => this.stopNow(input.reason)),
      },
    });
    const inspect = combineInspect(this.config.log.transitions ? transitionLogger({ logger: o.logger, onTransition: () => this.metrics.transition() }) : undefined, o.inspect);
    this.life = createActor(machine, { id: 'gateway', ...(inspect ? { inspect } : {}) });
    this.life.subscribe({ error: (err) => this.log.error('gateway lifecycle failed', { error: errorSummary(err) }) });
  }

  /** Open the authority and every enabled line. Rejects only when nothing can answer. */
  start(): Promise<void> {
    this.life.start();
    this.life.send({ type: 'START' });
    return this.settle((s) => s.hasTag('running') || s.status === 'done').then(() => {
      if (this.startError !== undefined || !this.life.getSnapshot().hasTag('running')) throw this.startError ?? new Error('the gateway did not start');
    });
  }

  /** Where the daemon is in its life: starting, running, reloading, stopping, stopped. */
  get phase(): string {
    const s = this.life.getSnapshot();
    return s.hasTag('reloading') ? 'reloading' : (['starting', 'running', 'stopping', 'stopped'] as const).find((t) => s.hasTag(t)) ?? 'idle';
  }

  private get stopping(): boolean {
    const s = this.life.getSnapshot();
    return s.hasTag('stopping') || s.status === 'done';
  }

  /** Resolve once the lifecycle reaches a snapshot `ready` accepts. */
  private settle(ready: (s: ReturnType<typeof this.life.getSnapshot>) => boolean): Promise<void> {
    return new Promise((resolve) => {
      if (ready(this.life.getSnapshot())) return resolve();
      const sub = this.life.subscribe({
        next: (s) => {
          if (!ready(s)) return;
          sub.unsubscribe();
          resolve();
        },
        complete: () => resolve(),
      });
    });
  }

  private async startNow(): Promise<void> {
    try {
      // The folder for state kept between runs (lockouts, lines out of service, the control socket).
      makeFolders(this.config.stateDirectory);
      await this.openAuthority(this.config);
      this.host = this.makeHost(this.config);
      const results = await Promise.all(this.config.lines.filter((l) => l.enabled).map((l) => this.startLine(l)));
      if (!results.some(Boolean)) throw new Error('no line could be started (see the log)');
    } catch (err) {
      // The lifecycle goes on to stopping: what did open is released.
      this.startError = err;
      throw err;
    }
    this.log.info('gateway started', { source: this.source, lines: this.config.lines.map((l) => describeLine(l)) });
  }

  /** Accounts in the local store and whether it can be read (undefined for domain authorities). */
  localAccounts(): { file: string; count: number; health: StoreHealth } | undefined {
    const a = this.lease?.authority;
    if (!(a instanceof LocalAuthority) || this.config.authority.type !== 'local') return undefined;
    const health = a.health();
    return { file: this.config.authority.file, count: health.accounts, health };
  }

  status(): { lines: LineStatus[]; calls: number } {
    return { lines: [...this.lines.values()].map((e) => e.line.status()), calls: [...this.lines.values(), ...this.retired].reduce((n, e) => n + e.calls.size, 0) };
  }

  /** SIGHUP. Reloads run one at a time (two quick SIGHUPs must not start a line twice). Resolves when done. */
  reload(): Promise<void> {
    if (!this.life.getSnapshot().hasTag('running')) return Promise.resolve();
    this.life.send({ type: 'RELOAD' });
    return this.settle((s) => !s.hasTag('reloading'));
  }

  private async reloadNow(): Promise<void> {
    try {
      await this.reloadConfig();
    } catch (err) {
      this.log.error('reload failed', { error: errorSummary(err) });
    }
  }

  private async reloadConfig(): Promise<void> {
    let next = this.config;
    if (this.source !== EMBEDDED_SOURCE) {
      try {
        next = loadConfigFile(this.source).config;
        const host = hostIssues(next);
        if (host.length) throw new ConfigError(this.source, host);
      } catch (err) {
        const issues = err instanceof ConfigError ? err.issues.map(formatIssue) : [errorSummary(err).message];
        this.log.error('reload refused: configuration invalid, keeping the running one', { source: this.source, issues });
        return;
      }
    }
    const prev = this.config;
    this.config = next;
    if (!isDeepStrictEqual(prev.authority, next.authority)) {
      const old = this.lease;
      try {
        await this.openAuthority(next);
        // Verifications in flight keep the old credential: it goes when the last of them ends.
        if (old) this.retireLease(old);
      } catch (err) {
        this.log.error('reload: new authority failed, keeping the old one', { error: errorSummary(err) });
        this.config = { ...next, authority: prev.authority };
      }
    } else {
      try {
        await this.lease?.authority.reload?.();
      } catch (err) {
        this.log.error('reload: authority reload failed', { error: errorSummary(err) });
      }
    }
    if (!isDeepStrictEqual(prev.dialogue, next.dialogue)) this.host = this.makeHost(next);
    const wanted = new Map(next.lines.filter((l) => l.enabled).map((l) => [l.id, l]));
    for (const [id, entry] of this.lines) {
      const l = wanted.get(id);
      if (l && sameTransport(l, entry.config)) {
        entry.config = l; // action / ppp / callback apply to new calls
        wanted.delete(id);
      } else {
        this.retire(entry, l ? 'changed' : 'removed');
      }
    }
    await Promise.all([...wanted.values()].map((l) => this.startLine(l)));
    this.log.info('configuration reloaded', { source: this.source, lines: [...this.lines.keys()] });
  }

  /** SIGTERM: see the file comment. Resolves when every call has ended and every line is released. */
  stop(reason = 'shutdown'): Promise<void> {
    if (this.life.getSnapshot().status === 'active') this.life.send({ type: 'STOP', reason });
    return this.settle((s) => s.status === 'done');
  }

  private async stopNow(reason: string): Promise<void> {
    const graceMs = this.config.shutdown.grace * 1000;
    const entries = [...this.lines.values(), ...this.retired];
    for (const e of entries) e.line.pause();
    const calls = entries.flatMap((e) => [...e.calls]);
    this.log.info('shutting down: not answering; dialogues in progress may finish', { reason, calls: calls.length, graceSeconds: this.config.shutdown.grace });
    const left = new Set(calls);
    for (const c of calls) {
      void c.done.then(() => left.delete(c));
      c.shutdown();
    }
    const all = Promise.all(calls.map((c) => c.done));
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'grace'>((r) => (timer = setTimeout(() => r('grace'), graceMs)));
    if ((await Promise.race([all, graceOver])) === 'grace') {
      this.log.warn('grace period over: hanging up', { calls: left.size });
      for (const c of left) c.hangup(`${reason}-grace-over`);
      await Promise.race([all, new Promise((r) => setTimeout(r, 10_000).unref())]);
    }
    clearTimeout(timer);
    await Promise.all(entries.map((e) => e.line.stop().catch((err: unknown) => this.log.warn('line stop failed', { line: e.line.id, error: errorSummary(err) }))));
    if (this.lease) this.retireLease(this.lease);
    this.log.info('stopped', { metrics: this.metrics.snapshot() });
  }

  private async openAuthority(config: RasgateConfig): Promise<void> {
    const authority = await createAuthority(config.authority, { logger: this.o.logger.child({ area: 'authority' }) });
    const a = config.authority;
    this.userPolicy = a.type === 'local' ? new UserPolicyFile(policyFilePath(a), { logger: this.o.logger.child({ area: 'authority' }) }) : undefined;
    const credential = acquireCredentialsHandle({ authority, logger: this.o.logger.child({ area: 'ntlm' }) });
    this.lease = { authority, credential, inFlight: 0, retired: false };
  }

  /** The current credential for one verification; release() when it is over. */
  private takeLease(): { credential: CredentialHandle; release(): void } {
    const lease = this.lease;
    if (!lease) throw new Error('no authority is open');
    lease.inFlight++;
    let released = false;
    return {
      credential: lease.credential,
      release: () => {
        if (released) return;
        released = true;
        lease.inFlight--;
        if (lease.retired && lease.inFlight === 0) this.freeLease(lease);
      },
    };
  }

  private retireLease(lease: AuthorityLease): void {
    if (lease.retired) return;
    lease.retired = true;
    if (lease.inFlight === 0) this.freeLease(lease);
  }

  private freeLease(lease: AuthorityLease): void {
    freeCredentialsHandle(lease.credential);
    void lease.authority.close().catch((err: unknown) => this.log.warn('closing the authority failed', { error: errorSummary(err) }));
  }

  /** The NTLM legs of one call: logged like every machine (line and call ids), and inspected. */
  private ntlmInspect(line: string, call: string): Observer<InspectionEvent> | undefined {
    const log = this.config.log.transitions
      ? transitionLogger({ logger: this.o.logger, line, call, onTransition: () => this.metrics.transition() })
      : undefined;
    return combineInspect(log, this.o.inspect);
  }

  private makeHost(config: RasgateConfig): RasSecurityHost {
    // Dialogue transitions: line and call ids come from the dialogue's own context.
    const dialogueLog = config.log.transitions ? dialogueTransitions(this.o.logger, this.metrics) : undefined;
    const inspect = combineInspect(dialogueLog, this.o.inspect);
    return new RasSecurityHost({
      verifier: this.verifier,
      dialogue: config.dialogue,
      logger: this.o.logger.child({ area: 'dialogue' }),
      ...(inspect ? { inspect } : {}),
      ...(this.o.clock ? { timers: this.o.clock } : {}),
    });
  }

  /** Start one line; false (logged) when it cannot. */
  private async startLine(config: LineConfig): Promise<boolean> {
    let line: Line;
    // Every line runs its machine (modem or TCP): its transitions are logged and inspected here.
    const machineLog = this.config.log.transitions
      ? transitionLogger({ logger: this.o.logger, line: config.id, onTransition: () => this.metrics.transition() })
      : undefined;
    const inspect = combineInspect(machineLog, this.o.inspect);
    try {
      line = createLine(config, { logger: this.o.logger.child({ area: 'line' }), simModems: this.simModems, ...(inspect ? { inspect } : {}), ...(this.o.clock ? { clock: this.o.clock } : {}) });
    } catch (err) {
      this.log.error('line not created', { line: config.id, error: errorSummary(err) });
      return false;
    }
    const entry: LineEntry = { config, line, calls: new Set(), retiring: false };
    line.on('error', (err: unknown) => this.log.error('line error', { line: config.id, error: errorSummary(err) }));
    line.on('call', (channel: CallChannel) => this.answer(entry, channel));
    this.lines.set(config.id, entry);
    try {
      await line.start();
      return true;
    } catch (err) {
      this.log.error('line failed to start', { line: config.id, error: errorSummary(err) });
      return false;
    }
  }

  private answer(entry: LineEntry, channel: CallChannel): void {
    if (this.stopping) {
      void channel.hangup().catch(() => {});
      return;
    }
    let call: RunningCall;
    try {
      call = startCall(channel, {
        host: this.host,
        line: entry.config,
        messages: this.config.dialogue.messages,
        terminal: this.config.dialogue,
        ...(this.userPolicy ? { userPolicy: this.userPolicy } : {}),
        ...(this.o.clock ? { clock: this.o.clock } : {}),
        logger: this.o.logger,
        metrics: this.metrics,
        transitions: this.config.log.transitions,
        inspect: this.o.inspect,
      });
    } catch (err) {
      this.metrics.callNotStarted();
      this.log.error('call could not start: hanging up', { line: entry.config.id, call: channel.callId, error: errorSummary(err) });
      void channel.hangup().catch(() => {});
      return;
    }
    entry.calls.add(call);
    void call.done.then((summary) => {
      entry.calls.delete(call);
      this.o.onCallEnd?.(summary);
      if (entry.retiring && entry.calls.size === 0) this.release(entry);
    });
  }

  private retire(entry: LineEntry, why: string): void {
    this.lines.delete(entry.config.id);
    entry.retiring = true;
    entry.line.pause();
    this.retired.add(entry);
    this.log.info('line retiring: not answering, released after its last call', { line: entry.config.id, why, calls: entry.calls.size });
    if (entry.calls.size === 0) this.release(entry);
  }

  private release(entry: LineEntry): void {
    this.retired.delete(entry);
    void entry.line.stop().catch((err: unknown) => this.log.warn('line stop failed', { line: entry.config.id, error: errorSummary(err) }));
  }
}

/** Transition log for dialogue actors: ids from the dialogue's context (lineId, callId). */
function dialogueTransitions(logger: Logger, metrics: Metrics): Observer<InspectionEvent> {
  return transitionLogger({ logger, idsFromContext: true, onTransition: () => metrics.transition() });
}

/** A line keeps running across a reload when everything but what follows a login is the same. */
function sameTransport(a: LineConfig, b: LineConfig): boolean {
  const { action: _a, ppp: _p, callback: _c, ...ta } = a;
  const { action: _b, ppp: _q, callback: _d, ...tb } = b;
  return isDeepStrictEqual(ta, tb);
}
