/**
 * The rasgate configuration: the gateway's own keys (actions, the post-login keys of a line,
 * shutdown) and the composition of the descriptions every module owns: lines (src/serial),
 * the authority (src/authority), the dialogue (src/ras), log, console and inspector
 * (src/observe). validate() and docs/configuration.md (scripts/gen-machines-doc.ts renders
 * configRows()) read this one description, so the documentation cannot drift from what is
 * accepted, and the types are inferred from it.
 */
import { authorityField } from '../../authority/options.js';
import { auditFields } from '../../audit/options.js';
import { lockoutOptionsField, penaltyOptionsField } from '../../guard/options.js';
import { tcpUrl, type TcpAddress } from '../../options/address.js';
import { closest, dict, Issues, isPlainObject, list, num, obj, oneOf, show, str, bool, type DocRow, type Field, type Infer } from '../../options/fields.js';
import { consoleSection, inspectorFields, logFields, metricsFields, metricsListenIssue } from '../../observe/options.js';
import { dialogueFields, dialogueMessageFields } from '../../ras/options.js';
import { lineField, type LineConfig as TransportConfig } from '../../serial/options.js';
import { callbackLineField } from '../../callback/options.js';

export type ActionConfig =
  | { kind: 'hangup' }
  | { kind: 'bridge'; target: TcpAddress; connectTimeout: number }
  | { kind: 'exec'; argv: string[]; killGrace: number; cwd?: string; env: Record<string, string> };

type NamedAction = { kind: 'named'; name: string };

const seconds = <const D extends number>(doc: string, def: D, min = 0, max = 86_400) => num({ doc, default: def, min, max, unit: 'seconds' });

const actionDoc = '`hangup`, `{ bridge: tcp://HOST:PORT }`, `{ exec: [PROGRAM, ARGS...] }` or the name of an entry in `actions`';

const bridgeFields = {
  bridge: tcpUrl({ doc: 'TCP service the caller is joined to', required: true }),
  connectTimeout: seconds('give up connecting after this long', 10, 1, 600),
};
const execFields = {
  exec: list(str({ doc: 'program or argument', required: true }), { doc: '', required: true, minItems: 1 }),
  killGrace: seconds('after carrier loss: SIGHUP, then SIGKILL after this long', 5, 0, 600),
  cwd: str({ doc: 'working directory' }),
  env: dict(str({ doc: '', empty: true }), { doc: 'extra environment', default: {} }),
};
const bridgeAction = obj(bridgeFields, { doc: '' });
const execAction = obj(execFields, { doc: '' });

/** One post-login action; names from `actions:` are resolved in validate(). */
const action: Field<ActionConfig | NamedAction, true> = {
  type: 'action',
  doc: `what happens after a successful login: ${actionDoc}`,
  defaultValue: () => ({ kind: 'hangup' }),
  defaultText: '`hangup`',
  parse(v, path, issues) {
    if (v === 'hangup') return { kind: 'hangup' };
    if (typeof v === 'string') return { kind: 'named', name: v };
    if (!isPlainObject(v)) return issues.add(path, `${show(v)} is not an action`, actionDoc);
    if ('bridge' in v) {
      const b = bridgeAction.parse(v, path, issues);
      return b && { kind: 'bridge', target: b.bridge, connectTimeout: b.connectTimeout };
    }
    if ('exec' in v) {
      const e = execAction.parse(v, path, issues);
      return e && { kind: 'exec', argv: e.exec, killGrace: e.killGrace, ...(e.cwd !== undefined ? { cwd: e.cwd } : {}), env: e.env };
    }
    return issues.add(path, 'an action needs `bridge:` or `exec:`', actionDoc);
  },
};

/** The gateway's keys of a line, beside its transport's (src/serial/options.ts). */
const lineGatewayFields = {
  action,
  ppp: oneOf(['refuse', 'exec'], { doc: 'a PPP frame at the login prompt: refuse with a message, or hand the line to the exec action (AutoPPP)', default: 'refuse' }),
  enabled: bool({ doc: 'answer on this line', default: true }),
  callback: callbackLineField,
};

const message = <const D extends string>(doc: string, def: D) => str({ doc, default: def, empty: true });

/** What the gateway itself says after the dialogue (src/gateway/call-runner.ts). */
const callMessageFields = {
  pppRefused: message('a PPP frame at the prompt on a line without `ppp: exec`', 'PPP is not available on this line'),
  bridgeFailed: message('the bridge target did not answer', 'The service is not reachable, please try again later'),
  loginAccepted: message('on a `hangup` line, said after a successful login before the line is dropped (empty: nothing)', 'Login accepted. Goodbye.'),
  shutdown: message('said to every caller whose call ends because rasgate is stopping', 'The service is going down, please call again later.'),
  outOfService: message('the one line a TCP line taken out of service (`rasgate line disable`) says before it closes', 'This line is out of service, please try again later.'),
  callbackAnnounce: message('said before the line hangs up to call back; `{number}` is the number with all but its last digits hidden', 'Calling you back at {number}'),
  callbackPrompt: message('Set By Caller: asks for the number to call back (an empty answer: no callback)', 'Callback number (Enter: no callback): '),
  callbackPromptDefault: message('Set By Caller with a default number: `{number}` is the default, hidden but its last digits (an empty answer calls it back)', 'Callback number (Enter: {number}): '),
  callbackRefused: message('the number a caller gave is not one this line may call', 'That number cannot be called back'),
  callbackWrongAccount: message('after the callback, a different account logged in than the one called back', 'Only the account called back may log in'),
  callbackNotOffered: message('a user who must be called back (Preset) called a line that does not call back', 'Callback is not available on this line'),
};

const dialogue = obj(
  { ...dialogueFields, messages: obj({ ...dialogueMessageFields, ...callMessageFields }, { doc: 'what the caller is told', defaultEmpty: true }) },
  { doc: 'the login dialogue', defaultEmpty: true },
);

const shutdownFields = { grace: seconds('on SIGTERM, calls still in the login dialogue get this long to finish', 30, 0, 3600) };

export const TOP = {
  stateDirectory: str({ doc: "folder for what rasgate keeps between runs beside the store: the lockout table, lines taken out of service, the control socket (relative paths: from the config file's folder; created 0700 if missing)", default: './var', check: (v) => (v ? undefined : 'must not be empty') }),
  lines: list(lineField(lineGatewayFields, 'one line: `listen:` (TCP) or `device:` (serial device or simulated modem)'), { doc: 'the lines rasgate answers', minItems: 1, default: [] }),
  authority: authorityField,
  dialogue,
  actions: dict(action, { doc: 'named post-login actions, used as `action: NAME` on lines', default: {} }),
  log: obj(logFields, { doc: 'logs', defaultEmpty: true }),
  console: consoleSection,
  inspector: obj(inspectorFields, { doc: 'inspector', defaultEmpty: true }),
  metrics: obj(metricsFields, { doc: 'Prometheus `/metrics` and `/healthz`', defaultEmpty: true }),
  shutdown: obj(shutdownFields, { doc: 'shutdown', defaultEmpty: true }),
  lockout: lockoutOptionsField,
  penalties: penaltyOptionsField,
  audit: obj(auditFields, { doc: 'audit trail', defaultEmpty: true }),
};

type Parsed = Infer<typeof TOP>;
type LineCommon = Omit<Infer<typeof lineGatewayFields>, 'action'> & { action: ActionConfig };
/** One line of the gateway: its transport and what follows a login. */
export type LineConfig = TransportConfig & LineCommon;
export type TcpLineConfig = Extract<TransportConfig, { kind: 'tcp' }> & LineCommon;
export type DeviceLineConfig = Extract<TransportConfig, { kind: 'device' }> & LineCommon;
export type DialogueConfig = Parsed['dialogue'];
export type AuthorityConfigSection = Parsed['authority'];
export type LogConfig = Parsed['log'];
export type LogModule = keyof LogConfig['modules'];
export type AuditConfigSection = Parsed['audit'];

/** The whole configuration, parsed: names resolved, every default filled in. */
export interface RasgateConfig extends Omit<Parsed, 'lines' | 'actions'> {
  lines: LineConfig[];
  actions: Record<string, ActionConfig>;
}

const top = obj(TOP, { doc: 'rasgate configuration' });

/** Validate a parsed YAML document; every problem is returned, each with its key path. */
export function validate(doc: unknown): { config?: RasgateConfig; issues: Issues } {
  const issues = new Issues();
  if (doc === null || doc === undefined) doc = {};
  const raw = top.parse(doc, '', issues);
  if (!raw) return { issues };
  if (isPlainObject(doc) && !('lines' in doc)) issues.add('lines', 'is required: at least one line', 'lines: [{ listen: tcp://127.0.0.1:2323 }]');
  for (const [name, a] of Object.entries(raw.actions ?? {})) if (a?.kind === 'named') issues.add(`actions.${name}`, `${show(a.name)} is not an action`, actionDoc);
  const counters: Record<string, number> = { tcp: 0, dev: 0, sim: 0 };
  const ids = new Map<string, number>();
  const listens = new Map<string, number>();
  const devices = new Map<string, number>();
  (raw.lines ?? []).forEach((l, i) => {
    if (!l) return;
    const prefix = l.kind === 'tcp' ? 'tcp' : l.simulated ? 'sim' : 'dev';
    const n = counters[prefix]!++;
    if (!l.id) l.id = `${prefix}${n}`;
    if (ids.has(l.id)) issues.add(`lines[${i}].id`, `"${l.id}" is also lines[${ids.get(l.id)}]`, 'give every line its own id');
    ids.set(l.id, i);
    if (!l.action) return; // its own problem is reported already
    if (l.action.kind === 'named') {
      const named = raw.actions?.[l.action.name];
      if (!named || named.kind === 'named') {
        if (!named) issues.add(`lines[${i}].action`, `${show(l.action.name)} is neither hangup nor a name in actions:`, closest(l.action.name, ['hangup', ...Object.keys(raw.actions ?? {})]) ?? actionDoc);
      } else l.action = named;
    }
    if (l.ppp === 'exec' && l.action.kind !== 'exec' && l.action.kind !== 'named') issues.add(`lines[${i}].ppp`, '`exec` needs an exec action on the line', 'action: { exec: [/usr/sbin/pppd, ...] }');
    if (l.kind === 'tcp' && l.callback?.offered) issues.add(`lines[${i}].callback`, 'a TCP line cannot call back: it has no telephone line to dial on', 'remove callback:, or offer it on a modem line (device:)');
    if (l.kind === 'device') {
      const device = l.simulated ? `sim://${l.simulated.name}` : l.device;
      if (devices.has(device)) issues.add(`lines[${i}].device`, `${show(device)} is also lines[${devices.get(device)}]: one line per device`);
      devices.set(device, i);
    }
    const addr = l.kind === 'tcp' ? l.listen : l.simulated?.far;
    if (addr && addr.port !== 0) {
      const key = `${addr.host}:${addr.port}`;
      if (listens.has(key)) issues.add(`lines[${i}]`, `listens on ${key} like lines[${listens.get(key)}]`);
      listens.set(key, i);
    }
  });
  const metricsIssue = raw.metrics && metricsListenIssue(raw.metrics);
  if (metricsIssue) issues.add('metrics.listen', metricsIssue);
  if (issues.list.length) return { issues };
  return { config: raw as RasgateConfig, issues };
}

/** Documentation rows for every key (docs/configuration.md). */
export function configRows(): DocRow[] {
  return top.rows!('');
}

export { Issues };
