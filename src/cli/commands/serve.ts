/**
 * `rasgate serve [--config FILE] [--inspect[=PORT]]`: run the gateway until SIGTERM / SIGINT.
 * Configuration: --config, $RASGATE_CONFIG, ./rasgate.yaml, else the embedded default; an
 * invalid file is refused with every problem listed (as check-config prints them).
 * Signals: SIGTERM/SIGINT stop gracefully (exit 0); SIGHUP reloads configuration and user store.
 */
import { ConfigError, formatIssue, formatTcpUrl, hostIssues, loadConfig, EMBEDDED_SOURCE, type LoadedConfig } from '../../gateway/config.js';
import { Gateway } from '../../gateway/daemon.js';
import { gatewayConsoleActions, gatewayConsoleHooks, gatewayGuardView } from '../../gateway/console.js';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { closeLogger, createLogger, defaultLogFormat, underJournald, type WinstonLogger } from '../../observe/logger.js';
import { metricsRoutes, startMetricsServer, type RunningMetricsServer } from '../../observe/metrics-http.js';
import { startControlServer, type RunningControl } from '../../control/server.js';
import { combineInspect, startInspector, type RunningInspector } from '../../observe/inspector.js';
import { RecentCalls, gatewaySource, startConsole, type RunningConsole } from '../../observe/console/index.js';
import type { InspectionEvent, Observer } from 'xstate';
import { RasgateError, errorStack, errorSummary } from '../../errors.js';

interface ServeArgs {
  config?: string;
  inspect?: number | true;
}

function parseArgs(argv: string[]): ServeArgs | string {
  const out: ServeArgs = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--config' || a === '-c') {
      const v = argv[++i];
      if (!v) return '--config needs a FILE';
      out.config = v;
    } else if (a.startsWith('--config=')) out.config = a.slice(9);
    else if (a === '--inspect') out.inspect = true;
    else if (a.startsWith('--inspect=')) {
      const port = Number(a.slice(10));
      if (!Number.isInteger(port) || port < 0 || port > 65535) return `--inspect=PORT: "${a.slice(10)}" is not a port`;
      out.inspect = port;
    } else return `unknown argument "${a}"`;
  }
  return out;
}

/** Errors that one call or connection can raise without leaving the process in doubt. */
const CONTAINED_ERRNO = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNREFUSED', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END']);

export function isContainedError(err: unknown): boolean {
  if (err instanceof RasgateError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CONTAINED_ERRNO.has(code);
}

export const USAGE = `usage: rasgate serve [--config FILE] [--inspect[=PORT]]
  Run the gateway until SIGTERM or SIGINT (SIGHUP reloads the configuration and the user store).
  --config FILE, -c FILE  the configuration (default: $RASGATE_CONFIG, ./rasgate.yaml, else the
                          embedded default: a TCP line on 127.0.0.1:2323 and the console on :8023)
  --inspect[=PORT]        relay every machine to the Stately inspector on loopback
                          (default port: inspector.port, 8081)
`;

/** The repository (or installed package) this command runs from: src/cli/commands -> the root. */
const HERE = dirname(fileURLToPath(import.meta.url));
const PACKAGE_ROOT = resolve(HERE, basename(resolve(HERE, '../../..')) === 'dist' ? '../../../..' : '../../..');

/**
 * `rasgate` as a command that works from any directory: the built bin by its absolute path, or
 * npm exec with the package's folder (never a bare `npx rasgate`, which outside the repository
 * would fetch whatever the registry has under that name).
 */
export function rasgateCommand(root = PACKAGE_ROOT): string {
  const bin = join(root, 'dist/src/cli/main.js');
  const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);
  return existsSync(bin) ? `node ${quote(bin)}` : `npm exec --prefix ${quote(root)} rasgate --`;
}

export function firstStartHint(loaded: LoadedConfig, file: string, command = rasgateCommand()): string {
  const tcp = loaded.config.lines.find((l) => l.kind === 'tcp' && l.enabled);
  const sim = loaded.config.lines.find((l) => l.kind === 'device' && l.simulated?.far && l.enabled);
  const cfg = loaded.source === EMBEDDED_SOURCE ? '' : ` --config ${resolve(loaded.source)}`;
  const store = resolve(file);
  const lines = ['', `rasgate: no accounts yet. Add one, in another terminal (from any directory):`, '', `    ${command} user add NAME${cfg}`, '', `It writes the account to ${store}.`, 'Then call in:', ''];
  if (tcp && tcp.kind === 'tcp') lines.push(`    telnet ${tcp.listen.host} ${tcp.listen.port}`);
  if (sim && sim.kind === 'device' && sim.simulated?.far) lines.push(`    node --import tsx ${join(PACKAGE_ROOT, 'scripts/sim-caller.ts')} --to ${formatTcpUrl(sim.simulated.far)} --user NAME --password PASSWORD   (the simulated modem)`);
  lines.push('', 'New accounts are picked up without a restart (or send SIGHUP).', '');
  return lines.join('\n');
}

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    process.stderr.write(`rasgate serve: ${args}\n${USAGE}`);
    return 2;
  }
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig({ path: args.config });
    // What check-config checks on the host is checked here too: both accept the same files.
    const host = hostIssues(loaded.config);
    if (host.length) throw new ConfigError(loaded.source, host);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // The configuration's own log settings are what failed: the defaults say it (journald's priority included).
    const logger = createLogger({ format: defaultLogFormat() });
    const issues = err.issues.map(formatIssue);
    logger.error('refusing to start: the configuration is invalid', { area: 'gateway', source: err.source, issues });
    tellPerson(`rasgate serve: refusing to start: ${err.source}: ${issues.length} problem${issues.length === 1 ? '' : 's'}\n${issues.map((i) => `  ${i}\n`).join('')}`);
    await closeLogger(logger);
    return 1;
  }
  const { log } = loaded.config;
  const logger = createLogger({ level: log.level, modules: log.modules, format: log.format ?? defaultLogFormat(), ...(log.file ? { file: log.file } : {}) });
  return serve(loaded, logger, args);
}

/**
 * A message for a person at a terminal (or a test harness reading stderr). Under journald it is
 * left out: the logger's record says the same with its priority, and stderr would repeat it
 * without one.
 */
function tellPerson(text: string): void {
  if (underJournald()) return;
  try {
    process.stderr.write(text);
  } catch {
    // stderr is gone: the log has it
  }
}

async function serve(loaded: LoadedConfig, logger: WinstonLogger, args: ServeArgs): Promise<number> {
  const log = logger.child({ area: 'gateway' });
  let inspector: RunningInspector | undefined;
  if (args.inspect !== undefined) {
    try {
      inspector = await startInspector({ host: loaded.config.inspector.host, port: args.inspect === true ? loaded.config.inspector.port : args.inspect, logger });
      // The page connects back to the port it was loaded from: any local port of a tunnel works.
      process.stderr.write(`rasgate: inspector at ${inspector.url} (loopback only; from elsewhere: ssh -L LOCALPORT:127.0.0.1:${inspector.port} THIS-HOST, then open http://localhost:LOCALPORT/)\n`);
    } catch (err) {
      log.error('inspector not started', { error: errorSummary(err) });
      tellPerson(`rasgate serve: inspector: ${errorSummary(err).message}\n`);
      await closeLogger(logger);
      return 1;
    }
  }
  // The console's observer exists only once it listens (after the gateway is built, since the
  // gateway is its source): the machines get a forwarder now.
  let consoleObserver: Observer<InspectionEvent> | undefined;
  const wantConsole = loaded.config.console.enabled;
  const inspect = combineInspect(inspector?.inspect, wantConsole ? { next: (ev) => consoleObserver?.next?.(ev) } : undefined);
  const recentCalls = new RecentCalls(50);
  const gateway = new Gateway({ loaded, logger, ...(inspect ? { inspect } : {}), onCallEnd: (summary) => recentCalls.add(summary) });
  let consoleServer: RunningConsole | undefined;
  let control: RunningControl | undefined;
  let metricsServer: RunningMetricsServer | undefined;

  let exitCode = 0;
  let resolveStopped!: (code: number) => void;
  const stopped = new Promise<number>((r) => (resolveStopped = r));
  let stopping = false;
  const stop = (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    void gateway
      .stop(reason)
      .catch((err: unknown) => log.error('stop failed', { error: errorSummary(err) }))
      .then(() => inspector?.stop())
      .then(() => control?.close())
      .then(() => metricsServer?.close())
      .then(() => consoleServer?.close())
      .then(() => closeLogger(logger))
      .then(() => resolveStopped(exitCode));
  };

  // Last resort. A contained kind (our typed errors, a peer resetting a socket) is logged and
  // serving goes on; anything else is a bug whose damage we cannot bound: stop gracefully and
  // exit 1 so that systemd (Restart=on-failure) starts a clean process. A burst also stops us.
  const recent: number[] = [];
  let reporting = false;
  const onFault = (kind: string) => (err: unknown) => {
    const now = Date.now();
    recent.push(now);
    while (recent.length && recent[0]! < now - 60_000) recent.shift();
    const contained = isContainedError(err) && recent.length <= 20;
    // A fault raised while a fault is being reported (the log itself failing) is not reported
    // again through the same path: that is how a broken stdout once made the daemon spin.
    if (!reporting) {
      reporting = true;
      try {
        if (logger.writable) log.error(kind, { error: errorSummary(err), stack: errorStack(err), action: contained ? 'continue' : 'stop' });
        else process.stderr.write(`rasgate: ${kind}: ${errorSummary(err).message}\n`);
      } catch {
        // the logger itself is gone: nothing more to say
      } finally {
        reporting = false;
      }
    }
    if (!contained) stop(`fatal-${kind}`, 1);
  };
  process.on('uncaughtException', onFault('uncaught exception'));
  process.on('unhandledRejection', onFault('unhandled rejection'));
  process.on('SIGTERM', () => stop('SIGTERM', 0));
  process.on('SIGINT', () => stop('SIGINT', 0));
  process.on('SIGHUP', () => {
    log.info('SIGHUP: reloading configuration and user store');
    void gateway.reload().catch((err: unknown) => log.error('reload failed', { error: errorSummary(err) }));
  });

  try {
    await gateway.start();
  } catch (err) {
    log.error('gateway did not start', { error: errorSummary(err) });
    tellPerson(`rasgate serve: ${errorSummary(err).message}\n`);
    stop('start-failed', 1);
    return stopped;
  }
  try {
    control = await startControlServer({ stateDirectory: loaded.config.stateDirectory, target: gateway, logger });
  } catch (err) {
    // The calls do not need it: the gateway serves without `rasgate status` and friends.
    log.error('control socket not started: rasgate status, line and hangup will not reach this daemon', { error: errorSummary(err) });
  }
  gateway.metrics.withProcessMetrics();
  const routes = metricsRoutes({ metrics: gateway.metrics, health: { get phase() { return gateway.phase; }, status: () => gateway.statusReport() }, logger });
  const metricsListen = loaded.config.metrics.listen;
  if (metricsListen) {
    try {
      metricsServer = await startMetricsServer({ host: metricsListen.host, port: metricsListen.port, routes, logger });
    } catch (err) {
      log.error('metrics listener not started; the gateway carries on without it', { error: errorSummary(err), listen: `${metricsListen.host}:${metricsListen.port}` });
    }
  }
  if (wantConsole) {
    const c = loaded.config.console;
    const { host, port } = c.listen;
    try {
      consoleServer = await startConsole({
        host,
        port,
        logger,
        source: gatewaySource(gateway, recentCalls, { guard: () => gatewayGuardView(gateway) }),
        routes,
        publicMetrics: loaded.config.metrics.public,
        allowedHosts: c.allowedHosts,
        ...(c.tls ? { tls: { cert: readFileSync(c.tls.cert), key: readFileSync(c.tls.key) } } : {}),
        // Operators sign in with the lines' authority; a reload's new authority serves the next handshake.
        ...(c.signIn ? { signIn: { credential: () => gateway.lendCredential(), requireGroup: c.requireGroup } } : {}),
        actions: gatewayConsoleActions(gateway),
        hooks: gatewayConsoleHooks(gateway),
      });
      consoleObserver = consoleServer.observer;
    } catch (err) {
      // The console is a convenience: the gateway serves without it.
      log.error('console not started; the gateway carries on without it', { error: errorSummary(err), listen: `${host}:${port}` });
    }
  }
  const accounts = gateway.localAccounts();
  if (accounts?.health.state === 'unreadable') {
    log.error('the account store cannot be read: no one can log in until it can (fix it, then send SIGHUP)', { file: accounts.file, error: accounts.health.error });
    tellPerson(`rasgate: ${accounts.health.error}: no one can log in until it can be read (fix it, then send SIGHUP)\n`);
  } else if (accounts && accounts.count === 0) process.stderr.write(firstStartHint(loaded, accounts.file));
  const code = await stopped;
  // Whatever handle a library left open (a reconnecting WebSocket, ...) must not keep us alive.
  setTimeout(() => process.exit(code), 1000).unref();
  return code;
}
