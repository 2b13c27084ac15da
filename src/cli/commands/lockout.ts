/**
 * `rasgate lockout list [--json]` and `rasgate lockout clear NAME | --source SOURCE | --line ID |
 * --all`, with `[--config FILE]`: what the guessing defence holds, from its state file in
 * stateDirectory (as the daemon last wrote it: at once for locks and penalties, within seconds
 * for counts), and ending it. A clear edits the file under its lock; a running daemon applies it
 * within a second (src/guard/state.ts), a stopped one finds it gone when it starts.
 */
import { makeFolders } from '../../files/atomic.js';
import { accountKey, clearInFile, readState, statePath, type ClearTarget, type GuardState } from '../../guard/index.js';
import { printable } from '../../audit/table.js';
import { unixOperator } from '../../audit/index.js';
import { auditOperator, operatorConfig, parseFlags, runCommand, UsageError } from '../operator.js';

const USAGE = `usage: rasgate lockout list [--json] [--config FILE]
       rasgate lockout clear NAME | --source SOURCE | --line ID | --all [--config FILE]
`;

const when = (ms: number | null | undefined) => (ms == null ? 'until cleared' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19));

function table(s: GuardState, now: number): string {
  const out: string[] = [];
  const locked = s.accounts.filter((a) => a.until !== undefined && (a.until === null || a.until > now));
  const counting = s.accounts.filter((a) => a.until === undefined);
  out.push(locked.length ? 'LOCKED USER           DENIALS  SINCE (UTC)          UNTIL (UTC)' : 'no user name is locked');
  for (const a of locked) out.push(`${printable(a.name).padEnd(20)}  ${String(a.denials).padStart(7)}  ${when(a.lockedAt)}  ${when(a.until)}`);
  if (counting.length) {
    out.push('', 'COUNTED USER          DENIALS  LAST (UTC)');
    for (const a of counting) out.push(`${printable(a.name).padEnd(20)}  ${String(a.denials).padStart(7)}  ${when(a.lastAt)}`);
  }
  const penalties = s.penalties.filter((p) => p.active && p.expiresAt > now);
  out.push('', penalties.length ? 'PENALISED SOURCE             UNTIL (UTC)          REASON' : 'no source is penalised');
  for (const p of penalties) out.push(`${printable(p.source).padEnd(28)} ${when(p.expiresAt)}  ${p.reason}`);
  const lines = s.lines.filter((l) => l.until > now);
  if (lines.length) {
    out.push('', 'PAUSED LINE   FAILED CALLS  UNTIL (UTC)');
    for (const l of lines) out.push(`${l.line.padEnd(12)}  ${String(l.failedCalls).padStart(12)}  ${when(l.until)}`);
  }
  return `${out.join('\n')}\n`;
}

export async function run(argv: string[]): Promise<number> {
  return runCommand('lockout', USAGE, argv, async () => {
    const { flags, rest } = parseFlags(argv, { config: 'value', json: 'flag', source: 'value', line: 'value', all: 'flag' });
    const [action, name, extra] = rest;
    if (action !== 'list' && action !== 'clear') throw new UsageError(action ? `unknown action "${action}"` : 'missing action');
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
    const config = operatorConfig(flags.config);
    const file = statePath(config.stateDirectory);
    if (action === 'list') {
      if (name !== undefined || flags.source || flags.line || flags.all) throw new UsageError('list takes no NAME, --source, --line or --all');
      const state = readState(file);
      if (flags.json) process.stdout.write(`${JSON.stringify(state, null, 2)}\n`);
      else process.stdout.write(table(state, Date.now()));
      return 0;
    }
    if (flags.json) throw new UsageError('--json is for list');
    const targets: ClearTarget[] = [];
    if (name !== undefined) targets.push({ what: 'account', key: accountKey(name) });
    if (flags.source) targets.push({ what: 'source', key: flags.source });
    if (flags.line) targets.push({ what: 'line', key: flags.line });
    if (flags.all) targets.push({ what: 'all' });
    if (targets.length !== 1) throw new UsageError('clear takes one of NAME, --source SOURCE, --line ID, --all');
    const target = targets[0]!;
    const who = unixOperator();
    makeFolders(config.stateDirectory);
    const hit = await clearInFile(file, target, who);
    const found = hit.accounts.length + hit.penalties.length + hit.lines.length > 0;
    const what = target.what === 'all' ? 'every lock, penalty and pause' : target.what === 'account' ? `the lock and count of ${name}` : target.what === 'source' ? `the penalty of ${flags.source}` : `the pause of line ${flags.line}`;
    process.stdout.write(`cleared ${printable(what)}${found ? '' : ` (none in ${file}; a running rasgate clears what it holds within a second)`}\n`);
    const action_ = target.what === 'all' ? 'clear-all' : target.what === 'account' ? 'lockout-clear' : target.what === 'source' ? 'penalty-clear' : 'line-resume';
    await auditOperator(config, { event: 'operator', action: action_, target: target.what === 'all' ? '*' : (name ?? flags.source ?? flags.line)!, result: found ? 'done' : 'unchanged', ...who });
    return 0;
  });
}
