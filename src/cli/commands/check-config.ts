/**
 * `rasgate check-config FILE`: validate a configuration, print every problem with its key
 * path and a hint, exit 1; or print a summary and exit 0. `serve` refuses an invalid file
 * with the same messages. A valid file is also checked against the host, as the user running
 * the command: the files it names must be usable (the local store readable, or creatable;
 * the log folder writable; exec programs runnable and their folders there): the checks of
 * src/gateway/config/host-checks.ts, which serve runs too.
 */
import { resolve } from 'node:path';
import { ConfigError, formatIssue, hostIssues, loadConfigFile, summarize, type ConfigIssue } from '../../gateway/config.js';

function printIssues(path: string, issues: ConfigIssue[]): void {
  process.stderr.write(`${path}: ${issues.length} problem${issues.length === 1 ? '' : 's'}\n`);
  for (const issue of issues) process.stderr.write(`  ${formatIssue(issue)}\n`);
}

const USAGE = `usage: rasgate check-config FILE
  Validate a configuration file as rasgate serve would read it: every problem is listed with
  its key and a hint (exit 1); a valid file prints a summary (exit 0). The files it names are
  checked on this host as the user running the command (the account store readable or
  creatable, the log folder writable, exec programs runnable). Every key: docs/configuration.md.
  Exit status: 0 valid, 1 problems, 2 bad usage.
`;

export async function run(argv: string[]): Promise<number> {
  const files = argv.filter((a) => !a.startsWith('-'));
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (files.length !== 1) {
    process.stderr.write(USAGE);
    return 2;
  }
  const path = resolve(files[0]!);
  try {
    const { config } = loadConfigFile(path);
    const issues = hostIssues(config);
    if (issues.length) {
      printIssues(path, issues);
      return 1;
    }
    process.stdout.write(`${path}: valid\n${summarize(config).map((l) => `  ${l}`).join('\n')}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    printIssues(path, err.issues);
    return 1;
  }
}
