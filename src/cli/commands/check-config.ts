/**
 * `rasgate check-config FILE`: validate a configuration, print every problem with its key
 * path and a hint, exit 1; or print a summary and exit 0. `serve` refuses an invalid file
 * with the same messages.
 */
import { ConfigError, formatIssue, loadConfigFile, summarize } from '../../gateway/config.js';
import { resolve } from 'node:path';

export async function run(argv: string[]): Promise<number> {
  const files = argv.filter((a) => !a.startsWith('-'));
  if (argv.includes('--help') || argv.includes('-h') || files.length !== 1) {
    process.stderr.write('usage: rasgate check-config FILE\n');
    return argv.includes('--help') || argv.includes('-h') ? 0 : 2;
  }
  const path = resolve(files[0]!);
  try {
    const { config } = loadConfigFile(path);
    process.stdout.write(`${path}: valid\n${summarize(config).map((l) => `  ${l}`).join('\n')}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${path}: ${err.issues.length} problem${err.issues.length === 1 ? '' : 's'}\n`);
    for (const issue of err.issues) process.stderr.write(`  ${formatIssue(issue)}\n`);
    return 1;
  }
}
