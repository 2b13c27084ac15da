/**
 * `rasgate audit [--since TIME] [--until TIME] [--user NAME] [--line ID] [--source NUMBER|ADDR]
 * [--result KIND] [--json] [--config FILE]`: the audit trail of the configuration (`audit.file`,
 * every day's file, rotated ones included), filtered, as a table or as JSON lines. TIME is ISO
 * 8601 (`2026-05-01`, `2026-05-01T10:00Z`) or a span before now (`30m`, `12h`, `7d`).
 */
import { formatTable, parseTime, readAudit, type AuditFilter } from '../../audit/index.js';
import { OUTCOME_KINDS } from '../../../machines/outcome.js';
import { operatorConfig, parseFlags, runCommand, UsageError } from '../operator.js';

const USAGE = `usage: rasgate audit [--since TIME] [--until TIME] [--user NAME] [--line ID] [--source NUMBER|ADDR] [--result KIND] [--json] [--config FILE]
  TIME: 2026-05-01, 2026-05-01T10:00:00Z, or a span before now: 30m, 12h, 7d
  KIND: an outcome (${OUTCOME_KINDS.join(', ')}) or an event (call-start, login, call-end, refused, lockout-start, lockout-end, penalty-start, penalty-end, line-paused, line-resumed, operator, audit-gap)
`;

export async function run(argv: string[]): Promise<number> {
  // `rasgate audit | head`: the reader going away ends the listing quietly (src/cli/main.ts).
  return runCommand('audit', USAGE, argv, async () => {
    const { flags, rest } = parseFlags(argv, { config: 'value', since: 'value', until: 'value', user: 'value', line: 'value', source: 'value', result: 'value', json: 'flag' });
    if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
    const filter: AuditFilter = {};
    for (const key of ['since', 'until'] as const) {
      const text = flags[key];
      if (text === undefined) continue;
      const t = parseTime(text);
      if (t === undefined) throw new UsageError(`--${key} ${JSON.stringify(text)} is not a time (2026-05-01, 2026-05-01T10:00Z, 30m, 12h, 7d)`);
      filter[key] = t;
    }
    if (flags.user !== undefined) filter.user = flags.user;
    if (flags.line !== undefined) filter.line = flags.line;
    if (flags.source !== undefined) filter.source = flags.source;
    if (flags.result !== undefined) filter.result = flags.result;
    const config = operatorConfig(flags.config);
    if (!config.audit.enabled) process.stderr.write('rasgate audit: audit.enabled is false in this configuration: reading what older runs wrote\n');
    const r = readAudit(config.audit.file!, filter);
    if (flags.json) for (const rec of r.records) process.stdout.write(`${JSON.stringify(rec)}\n`);
    else process.stdout.write(formatTable(r.records));
    if (r.files.length === 0) process.stderr.write(`rasgate audit: no audit files like ${config.audit.file}\n`);
    if (r.skipped) process.stderr.write(`rasgate audit: ${r.skipped} line${r.skipped === 1 ? '' : 's'} that are not records skipped\n`);
    return 0;
  });
}
