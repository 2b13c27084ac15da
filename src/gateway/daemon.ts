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
 *  - Operator paths (src/gateway/operator.ts): statusReport(), setLineOutOfService(),
 *    hangupCall(), authTest(); the control socket and the console both call them, each action
 *    logged with the operator's name. Lines out of service are kept in the state directory.
 */
import { isDeepStrictEqual } from 'node:util';
import { createActor, fromPromise, type Actor, type InspectionEvent, type Observer } from 'xstate';
import { gatewayMachine } from '../../machines/gateway.js';
import { createAuthority, type Authority } from '../authority/index.js';
import { LocalAuthority, type StoreHealth } from '../authority/local/index.js';
import { acquireCredentialsHandle, freeCredentialsHandle, type CredentialHandle } from '../ntlm/server.js';
import { RasSecurityHost } from '../ras/host.js';
import type { Verifier } from '../ras/verify.js';
import { createLine, SimModems, TcpLine, type CallChannel, type Line, type LineStatus } from '../serial/index.js';
import type { Logger } from '../logging.js';
import { Metrics } from '../observe/metrics.js';
import { combineInspect, labelActors } from '../observe/inspector.js';
import { transitionLogger } from '../observe/transitions.js';
import { errorSummary } from '../errors.js';
import { makeFolders } from '../files/atomic.js';
import { describeCause } from '../files/errors.js';
import { DNLEN, PWLEN, UNLEN, rasErrorName } from '../ras/codes.js';
import { parseLogin } from '../ras/login.js';
import { OUTCOME_RAS_ERRORS } from '../ras/message.js';
import { loadOutOfService, saveOutOfService, type OutOfService } from './out-of-service.js';
import { OperatorError, type AuthTestResult, type GatewayStatus, type HangupResult, type LineChange, type LineReport } from './operator.js';
import { AuditTrail, auditFromConfig, operatorFields, type Audit, type Operator } from '../audit/index.js';
import { Guard, statePath, type AccountEntry, type GuardSettings, type LinePause, type PenaltyEntry } from '../guard/index.js';
import type { Caller } from '../serial/types.js';
import type { LineClock } from '../serial/clock.js';
import { say } from './actions/say.js';
import { loadConfigFile, hostIssues, EMBEDDED_SOURCE, formatIssue, ConfigError, type LoadedConfig, type LineConfig, type RasgateConfig } from './config.js';
import { describeLine } from './config/summary.js';
import { createGatewayVerifier } from './verifier.js';
import { measuredAuthority } from './authority-metrics.js';
import { startCall, type ActiveCallInfo, type CallSummary, type RunningCall } from './call-runner.js';
import { formatTcpUrl } from '../options/address.js';
import { UserPolicyFile, policyFilePath } from '../callback/user-policy.js';

export interface GatewayOptions {
  loaded: LoadedConfig;
  logger: Logger;
  /** The inspector's observer (serve --inspect). */
  inspect?: Observer<InspectionEvent>;
  /** Called with every finished call (tests, benchmarks). */
  onCallEnd?: (summary: CallSummary) => void;
  /** Wrap the verifier (fault-injection tests). Default: the gateway verifier as is. */
  wrapVerifier?: (verifier: Verifier) => Verifier;
  /** Where audit events go instead of the configured trail (tests, benchmarks). */
  audit?: Audit;
  /**
   * Time for the lines, the simulated modems, the dialogues, the calls and the guard (xstate's SimulatedClock in tests; set it to
   * a wall-clock epoch: the guard's locks are kept as epoch times). Default: real time.
   */
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
  /** The same verification for `rasgate auth test` (not counted as a caller's login). */
  private readonly testVerifier: Verifier;
  private authTests = 0;
  private readonly life: Actor<typeof gatewayMachine>;
  private startError: unknown;
  private readonly startedAt = new Date().toISOString();
  /** Lines an operator took out of service (kept in the state directory). */
  private outOfService = new Map<string, OutOfService>();
  /** The guessing defence (lockout, penalties, line pauses): one for the life of the daemon, reloads keep it. */
  readonly guard: Guard;
  /** The audit trail (replaced when a reload changes it). */
  audit: Audit;

  constructor(private readonly o: GatewayOptions) {
    this.config = o.loaded.config;
    this.source = o.loaded.source;
    this.simModems = new SimModems(o.clock ? { clock: o.clock } : {});
    this.log = o.logger.child({ area: 'gateway' });
    this.audit = o.audit ?? auditFromConfig(this.config.audit, o.logger);
    this.guard = new Guard({
      settings: guardSettings(this.config),
      stateFile: statePath(this.config.stateDirectory),
      audit: { record: (e) => this.audit.record(e) },
      logger: o.logger,
      ...(o.clock ? { clock: o.clock } : {}),
      onLinePause: (p) => this.pauseLine(p),
      onLineResume: (line) => this.resumeLine(line),
    });
    const verifier = createGatewayVerifier({
      lease: () => this.takeLease(),
      logger: o.logger,
      inspect: (line, call) => this.ntlmInspect(line, call),
      onResult: (r) => this.metrics.loginResult(r.outcome.kind, r.seconds, r.sspiStatus),
    });
    // The guard is outermost: a locked name never reaches the authority, every verdict is counted.
    this.verifier = this.guard.wrapVerifier(o.wrapVerifier ? o.wrapVerifier(verifier) : verifier);
    this.metrics.useGuard({ lockoutsActive: () => this.lockedCount(), penaltiesActive: () => this.guard.activePenalties().length });
    // An operator's password test is not a caller's guess: the guard neither counts nor refuses it.
    this.testVerifier = createGatewayVerifier({ lease: () => this.takeLease(), logger: o.logger });
    this.metrics.useLines({ lines: () => this.statusReport().lines.map((l) => ({ id: l.id, state: l.outOfService ? 'disabled' : l.state })) });
    const machine = gatewayMachine.provide({
      actors: {
        start: fromPromise(() => this.startNow()),
        reload: fromPromise(() => this.reloadNow()),
        stop: fromPromise(({ input }) => this.stopNow(input.reason)),
      },
    });
    const inspect = combineInspect(transitionLogger({ logger: o.logger, level: this.transitionLevel, onTransition: (m) => this.metrics.transition(m) }), o.inspect);
    this.life = createActor(machine, { id: 'gateway', ...(inspect ? { inspect } : {}) });
    this.life.subscribe({ error: (err) => this.log.error('gateway lifecycle failed', { error: errorSummary(err) }) });
  }

  /** Transitions go at info with `log.transitions: true`, else at debug (a call stays a handful of records). */
  private get transitionLevel(): 'info' | 'debug' {
    return this.config.log.transitions ? 'info' : 'debug';
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
      const kept = loadOutOfService(this.config.stateDirectory);
      this.outOfService = kept.lines;
      if (kept.problem) this.log.error('lines out of service could not be read: every line answers until an operator acts', { problem: kept.problem });
      await this.openAuthority(this.config);
      this.guard.start();
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

  /** The port a running TCP line is bound to (the kernel's choice for port 0); undefined for other lines, or one not listening. */
  port(lineId: string): number | undefined {
    const line = this.lines.get(lineId)?.line;
    return line instanceof TcpLine ? line.port : undefined;
  }

  /** Lines with their states and who has them out of service, calls in progress with who and since when. */
  statusReport(): GatewayStatus {
    const running = new Map([...this.lines].map(([id, e]) => [id, e]));
    const lines: LineReport[] = this.config.lines.map((config) => {
      const kind = config.kind === 'tcp' ? 'tcp' : config.simulated ? 'sim' : 'modem';
      const entry = running.get(config.id);
      const s = entry?.line.status();
      const r: LineReport = { id: config.id, kind, state: s?.state ?? (config.enabled ? 'not-running' : 'off'), activeCalls: s?.activeCalls ?? 0 };
      const out = this.outOfService.get(config.id);
      if (out) r.outOfService = out;
      if (s?.lastError) r.lastError = s.lastError;
      return r;
    });
    const calls = this.activeCalls();
    const count = (read: (() => number) | undefined) => {
      try {
        return Number(read?.()) || 0;
      } catch {
        return 0;
      }
    };
    return {
      at: new Date().toISOString(),
      phase: this.phase,
      startedAt: this.startedAt,
      source: this.source,
      lines,
      calls,
      lockouts: count(() => this.lockedCount()),
      penalties: count(() => this.guard.activePenalties().length),
    };
  }

  /**
   * Take a configured line out of service (`out`: true) or put it back, for `operator`. Kept in
   * the state directory first (a write that fails refuses the change); then a modem line stops
   * answering and a TCP line refuses new callers with one line of text. Calls in progress go on.
   */
  setLineOutOfService(id: string, out: boolean, operator: Operator, reason?: string): LineChange {
    const config = this.config.lines.find((l) => l.id === id);
    if (!config) throw new OperatorError('NO_SUCH_LINE', `no line "${String(id).slice(0, 100)}" (lines: ${this.config.lines.map((l) => l.id).join(', ')})`);
    if (this.stopping) throw new OperatorError('NOT_RUNNING', 'the gateway is stopping');
    const was = this.outOfService.has(id);
    const entry = this.lines.get(id);
    const activeCalls = entry?.calls.size ?? 0;
    if (was === out) return { line: id, outOfService: out, changed: false, activeCalls };
    const next = new Map(this.outOfService);
    if (out) next.set(id, { since: new Date().toISOString(), by: operator.by, ...(reason ? { reason: reason.slice(0, 200) } : {}) });
    else next.delete(id);
    try {
      saveOutOfService(this.config.stateDirectory, next);
    } catch (err) {
      this.log.error('operator: line state not saved, nothing changed', { ...operatorFields(operator), line: id, error: errorSummary(err) });
      throw new OperatorError('STATE_WRITE_FAILED', `could not save the change in ${this.config.stateDirectory}: ${describeCause(err)}; nothing changed`, { cause: err });
    }
    this.outOfService = next;
    if (entry) this.applyOutOfService(entry);
    this.metrics.operatorAction(out ? 'line-disable' : 'line-enable');
    this.audit.record({ event: 'operator', action: out ? 'line-disable' : 'line-enable', target: id, result: 'done', ...(out && reason ? { reason: reason.slice(0, 200) } : {}), ...operator });
    this.log.info(out ? 'operator: line taken out of service' : 'operator: line back in service', { ...operatorFields(operator), line: id, ...(out && reason ? { reason } : {}), activeCalls });
    return { line: id, outOfService: out, changed: true, activeCalls };
  }

  private applyOutOfService(entry: LineEntry): void {
    if (entry.retiring || this.stopping) return;
    entry.line.setOutOfService(this.outOfService.has(entry.config.id) ? this.config.dialogue.messages.outOfService : undefined);
  }

  /** Hang up a call in progress for `operator` (its outcome: operator-hangup). Resolves when it ended, or after `waitMs`. */
  async hangupCall(callId: string, operator: Operator, waitMs = 10_000): Promise<HangupResult> {
    for (const e of [...this.lines.values(), ...this.retired]) {
      for (const c of e.calls) {
        if (c.callId !== callId) continue;
        this.metrics.operatorAction('hangup');
        this.audit.record({ event: 'operator', action: 'hangup', target: callId, result: 'done', ...operator });
        this.log.info('operator: hanging up a call', { ...operatorFields(operator), line: e.config.id, call: callId });
        c.hangup('operator');
        let timer: NodeJS.Timeout | undefined;
        const summary = await Promise.race([c.done, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), waitMs)))]);
        clearTimeout(timer);
        return { call: callId, line: e.config.id, ...(summary ? { outcome: summary.outcome } : {}) };
      }
    }
    throw new OperatorError('NO_SUCH_CALL', `no call "${String(callId).slice(0, 100)}" in progress`);
  }

  /**
   * Check a user name and password through the configured authority exactly as a line would
   * (our NTLM client against the acceptor), without a call: `rasgate auth test`. The name is
   * split as the dialogue splits it (`DOMAIN\user`, `user@DOMAIN`) unless `domain` is given.
   */
  async authTest(userText: string, domainGiven: string | undefined, password: string, operator: Operator): Promise<AuthTestResult> {
    if (!this.life.getSnapshot().hasTag('running')) throw new OperatorError('NOT_RUNNING', `the gateway is ${this.phase}`);
    if (typeof userText !== 'string' || userText === '' || userText.length > UNLEN + DNLEN + 1) throw new OperatorError('BAD_REQUEST', `a user name of 1 to ${UNLEN} characters is needed`);
    if (typeof password !== 'string' || password.length > PWLEN) throw new OperatorError('BAD_REQUEST', `a password of at most ${PWLEN} characters is needed`);
    if (domainGiven !== undefined && (typeof domainGiven !== 'string' || domainGiven.length > DNLEN)) throw new OperatorError('BAD_REQUEST', `a domain of at most ${DNLEN} characters is needed`);
    const d = this.config.dialogue;
    const parsed = domainGiven !== undefined ? { user: userText, domain: domainGiven } : parseLogin(userText, d.splitDomainForms);
    const user = parsed.user;
    const domain = parsed.domain ?? d.defaultDomain;
    const callId = `auth-test-${++this.authTests}`;
    const started = performance.now();
    const outcome = await this.testVerifier({ lineId: 'operator', callId, user, domain, password }, AbortSignal.timeout(60_000));
    const ms = Math.round(performance.now() - started);
    const rasError = outcome.kind === 'accepted' ? 0 : 'rasError' in outcome && typeof outcome.rasError === 'number' ? outcome.rasError : OUTCOME_RAS_ERRORS[outcome.kind] ?? 0;
    const result: AuthTestResult = {
      outcome: outcome.kind,
      rasError,
      ...(rasError ? { rasErrorName: rasErrorName(rasError) } : {}),
      ...('reason' in outcome && outcome.reason ? { reason: outcome.reason } : {}),
      user: 'user' in outcome && outcome.user ? outcome.user : user,
      domain: 'domain' in outcome && outcome.domain !== undefined ? outcome.domain : domain,
      ms,
    };
    this.metrics.operatorAction('auth-test');
    this.audit.record({ event: 'operator', action: 'auth-test', target: domain ? `${domain}\\${user}` : user, result: result.outcome, ...operator });
    this.log.info('operator: auth test', { ...operatorFields(operator), user, domain, outcome: result.outcome, rasError: result.rasError });
    return result;
  }

  /** The calls in progress on every line (the console's lines page). */
  activeCalls(): ActiveCallInfo[] {
    return [...this.lines.values(), ...this.retired].flatMap((e) => [...e.calls].map((c) => c.info()));
  }

  /** The lines an operator took out of service (kept in the state directory). */
  outOfServiceLines(): string[] {
    return [...this.outOfService.keys()];
  }

  /** Each line's transport as configured: the console tells a TCP line's listening state by it. */
  lineTransports(): { id: string; kind: 'tcp' | 'device'; address: string }[] {
    return [...this.lines.values()].map(({ config: c }) => ({ id: c.id, kind: c.kind, address: c.kind === 'tcp' ? formatTcpUrl(c.listen) : c.simulated ? `sim://${c.simulated.name}` : c.device }));
  }

  /**
   * The current credential, lent for one NTLM context outside a call (the console's sign-in
   * through the same authority as the lines); release() when the context ends.
   */
  lendCredential(): { credential: CredentialHandle; release(): void } {
    return this.takeLease();
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
    // Locks, penalties and pauses stay; only their settings change.
    this.guard.reconfigure(guardSettings(next));
    if (!this.o.audit && !isDeepStrictEqual(prev.audit, next.audit)) {
      const old = this.audit;
      this.audit = auditFromConfig(next.audit, this.o.logger);
      if (old instanceof AuditTrail) void old.close();
    }
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
    await this.guard.stop().catch((err: unknown) => this.log.error('lockout state not saved at stop', { error: errorSummary(err) }));
    if (this.audit instanceof AuditTrail) await this.audit.close();
    this.log.info('stopped', { metrics: this.metrics.snapshot() });
  }

  private async openAuthority(config: RasgateConfig): Promise<void> {
    const authority = await createAuthority(config.authority, { logger: this.o.logger.child({ area: 'authority' }) });
    const a = config.authority;
    this.userPolicy = a.type === 'local' ? new UserPolicyFile(policyFilePath(a), { logger: this.o.logger.child({ area: 'authority' }) }) : undefined;
    // The acceptor asks it through the metrics; the lease keeps the authority itself (localAccounts(), close()).
    const credential = acquireCredentialsHandle({ authority: measuredAuthority(authority, this.metrics), logger: this.o.logger.child({ area: 'ntlm' }) });
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
    const log = transitionLogger({ logger: this.o.logger, line, call, level: this.transitionLevel, onTransition: (m) => this.metrics.transition(m) });
    return combineInspect(log, labelActors(this.o.inspect, { line, call }));
  }

  private makeHost(config: RasgateConfig): RasSecurityHost {
    // Dialogue transitions: line and call ids come from the dialogue's own context.
    const dialogueLog = dialogueTransitions(this.o.logger, this.metrics, config.log.transitions ? 'info' : 'debug');
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
    const machineLog = transitionLogger({ logger: this.o.logger, line: config.id, level: this.transitionLevel, onTransition: (m) => this.metrics.transition(m) });
    const inspect = combineInspect(machineLog, labelActors(this.o.inspect, { line: config.id }));
    try {
      line = createLine(config, { logger: this.o.logger.child({ area: 'line' }), simModems: this.simModems, screen: this.guard.screen, ...(inspect ? { inspect } : {}), ...(this.o.clock ? { clock: this.o.clock } : {}) });
    } catch (err) {
      this.log.error('line not created', { line: config.id, error: errorSummary(err) });
      return false;
    }
    const entry: LineEntry = { config, line, calls: new Set(), retiring: false };
    line.on('error', (err: unknown) => this.log.error('line error', { line: config.id, error: errorSummary(err) }));
    line.on('call', (channel: CallChannel) => this.answer(entry, channel));
    this.lines.set(config.id, entry);
    this.applyOutOfService(entry);
    try {
      await line.start();
      // A modem line's start() answers again (RESUME): out of service is put back after it.
      this.applyOutOfService(entry);
      // A pause that outlived a restart or a reload (the guard restored it) holds this line too.
      if (this.guard.pausedLines().some((p) => p.line === config.id)) line.pause();
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
    const caller = callerOf(entry.config, channel);
    const refusal = this.guard.refusalFor(entry.config.id, caller);
    if (refusal !== undefined) {
      this.refuse(entry, channel, caller, refusal);
      return;
    }
    this.guard.callStarted({ line: entry.config.id, call: channel.callId, caller });
    const source = this.guard.sourceOf(channel.callId);
    this.audit.record({ event: 'call-start', line: entry.config.id, call: channel.callId, device: channel.deviceName, ...(source ? { source } : {}) });
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
        transitionLevel: this.transitionLevel,
        inspect: this.o.inspect,
      });
    } catch (err) {
      this.metrics.callNotStarted();
      this.guard.callEnded({ line: entry.config.id, call: channel.callId, outcome: 'internal-error' });
      this.log.error('call could not start: hanging up', { line: entry.config.id, call: channel.callId, error: errorSummary(err) });
      void channel.hangup().catch(() => {});
      return;
    }
    entry.calls.add(call);
    void call.done.then((summary) => {
      entry.calls.delete(call);
      this.callEnded(summary, source);
      if (entry.retiring && entry.calls.size === 0) this.release(entry);
    });
  }

  /** The end of a call for the guard and the audit trail; never throws. */
  private callEnded(summary: CallSummary, source: string | undefined): void {
    try {
      const attempts = this.guard.callEnded({ line: summary.line, call: summary.call, outcome: summary.outcome });
      this.audit.record({
        event: 'call-end',
        line: summary.line,
        call: summary.call,
        ...(source ? { source } : {}),
        result: summary.outcome,
        ...(summary.reason ? { reason: summary.reason } : {}),
        ...(summary.rasError ? { rasError: summary.rasError } : {}),
        ...(summary.user ? { user: summary.user } : {}),
        ...(summary.domain ? { domain: summary.domain } : {}),
        attempts: Math.max(attempts, summary.users?.length ?? 0),
        durationMs: summary.durationMs,
        bytesIn: summary.bytesIn,
        bytesOut: summary.bytesOut,
        ...(summary.callback ? { callback: summary.callback } : {}),
      });
      this.o.onCallEnd?.(summary);
    } catch (err) {
      this.log.error('call accounting failed', { line: summary.line, call: summary.call, error: errorSummary(err) });
    }
  }

  /** A call from a penalised source: one line, hang up, ended as refused-penalty (no dialogue). */
  private refuse(entry: LineEntry, channel: CallChannel, caller: Caller, text: string): void {
    const started = performance.now();
    this.metrics.callStarted(entry.config.id);
    this.guard.callStarted({ line: entry.config.id, call: channel.callId, caller });
    const source = this.guard.sourceOf(channel.callId);
    this.audit.record({ event: 'call-start', line: entry.config.id, call: channel.callId, device: channel.deviceName, ...(source ? { source } : {}) });
    this.log.warn('call refused: the source is penalised', { line: entry.config.id, call: channel.callId, source });
    let bytesOut = 0;
    try {
      if (text && !channel.ended) bytesOut = Buffer.byteLength(`\r\n${text}\r\n`, 'latin1');
      say(channel, text);
    } catch (err) {
      this.log.warn('refusal not said', { line: entry.config.id, call: channel.callId, error: errorSummary(err) });
    }
    void channel
      .hangup()
      .catch(() => undefined)
      .then(() => {
        const summary: CallSummary = { line: entry.config.id, call: channel.callId, outcome: 'refused-penalty', reason: 'source-penalised', rasError: OUTCOME_RAS_ERRORS['refused-penalty']!, durationMs: Math.round(performance.now() - started), bytesIn: 0, bytesOut };
        if (channel.peer) summary.peer = channel.peer;
        this.metrics.record(summary);
        this.callEnded(summary, source);
      });
  }

  /** The guard paused a line (too many failed calls): it stops answering; calls in progress go on. */
  private pauseLine(pause: LinePause): void {
    this.lines.get(pause.line)?.line.pause();
  }

  /** The pause is over: the line answers again (unless the gateway is stopping or the line went). */
  private resumeLine(id: string): void {
    const entry = this.lines.get(id);
    if (!entry || this.stopping) return;
    entry.line.start().catch((err: unknown) => this.log.error('line did not answer again after its pause', { line: id, error: errorSummary(err) }));
  }

  // --- the guessing defence, for the control socket and the console ------------------------

  /** Locked and counted user names (locked first). */
  lockouts(): AccountEntry[] {
    return this.guard.lockouts();
  }

  /** Names locked now (the rest of lockouts() are counts that have not reached the limit). */
  private lockedCount(): number {
    return this.guard.lockouts().filter((e) => e.lockedAt !== undefined).length;
  }

  /** Sources refused at once until their penalty ends. */
  activePenalties(): PenaltyEntry[] {
    return this.guard.activePenalties();
  }

  /** Lines paused for too many failed calls. */
  pausedLines(): LinePause[] {
    return this.guard.pausedLines();
  }

  /**
   * `rasgate user unlock` for a running daemon: ends the lockout of `name` and, with the local
   * store, clears its L flag. Resolves with what it changed.
   */
  async unlock(name: string, who: Operator): Promise<{ lockout: boolean; flag: boolean }> {
    const lockout = this.guard.unlock(name, who);
    const a = this.lease?.authority;
    if (!(a instanceof LocalAuthority)) return { lockout, flag: false };
    // Read the file now (the store's own recheck may be up to a second behind an edit).
    a.store.reload();
    if (!a.store.lookup(name)?.flags.has('L')) return { lockout, flag: false };
    const flag = await a.store.update((ed) => {
      const e = ed.get(name);
      if (!e?.flags.has('L')) return false;
      ed.put({ ...e, flags: new Set([...e.flags].filter((f) => f !== 'L')) });
      return true;
    });
    if (flag) this.audit.record({ event: 'operator', action: 'user-unlock', target: name, result: 'done', ...who });
    return { lockout, flag };
  }


  /** End the penalty of a source (as activePenalties() names it). */
  clearPenalty(source: string, who: Operator): boolean {
    return this.guard.clearPenalty(source, who);
  }

  /** Let a line paused for too many failed calls answer again now. */
  endLinePause(line: string, who: Operator): boolean {
    return this.guard.resumeLine(line, who);
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

/** The guard's settings from the configuration. */
function guardSettings(config: RasgateConfig): GuardSettings {
  return { lockout: config.lockout, penalties: config.penalties };
}


/** Who called, as the guard counts it: the peer address (TCP) or the caller ID number (modem). */
function callerOf(line: LineConfig, channel: CallChannel): Caller {
  if (line.kind === 'tcp') return { kind: 'tcp', address: channel.peer ?? 'unknown' };
  return { kind: 'modem', ...(channel.callerId?.number ? { number: channel.callerId.number } : {}) };
}

/** Transition log for dialogue actors: ids from the dialogue's context (lineId, callId). */
function dialogueTransitions(logger: Logger, metrics: Metrics, level: string): Observer<InspectionEvent> {
  return transitionLogger({ logger, idsFromContext: true, level, onTransition: (m) => metrics.transition(m) });
}

/** A line keeps running across a reload when everything but what follows a login is the same. */
function sameTransport(a: LineConfig, b: LineConfig): boolean {
  const { action: _a, ppp: _p, callback: _c, ...ta } = a;
  const { action: _b, ppp: _q, callback: _d, ...tb } = b;
  return isDeepStrictEqual(ta, tb);
}
