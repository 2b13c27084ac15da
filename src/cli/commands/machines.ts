/**
 * `rasgate machines [--format mermaid|json] [NAME...]`: the statecharts exported from the
 * machine definitions (src/observe/statecharts.ts). docs/machines.md is generated from this.
 */
import { MACHINES, chartOf, toMermaid } from '../../observe/statecharts.js';

const USAGE = `usage: rasgate machines [--format mermaid|json] [${Object.keys(MACHINES).join('|')}...]
  Export the statecharts from the machine definitions (docs/machines.md is generated from this).
  --format mermaid|json   Mermaid stateDiagram-v2 text (default) or the chart as JSON
  NAME...                 only these machines (default: all)
`;

export async function run(argv: string[]): Promise<number> {
  let format = 'mermaid';
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') {
      process.stdout.write(USAGE);
      return 0;
    }
    if (a === '--format') format = argv[++i] ?? '';
    else if (a.startsWith('--format=')) format = a.slice(9);
    else names.push(a);
  }
  if (format !== 'mermaid' && format !== 'json') {
    process.stderr.write(`rasgate machines: --format must be mermaid or json\n${USAGE}`);
    return 2;
  }
  const unknown = names.filter((n) => !(n in MACHINES));
  if (unknown.length) {
    process.stderr.write(`rasgate machines: unknown machine ${unknown.join(', ')}\n${USAGE}`);
    return 2;
  }
  const chosen = names.length ? names : Object.keys(MACHINES);
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify(Object.fromEntries(chosen.map((n) => [n, chartOf(MACHINES[n]!)])), null, 2)}\n`);
  } else {
    process.stdout.write(chosen.map((n) => `%% ${n}\n${toMermaid(chartOf(MACHINES[n]!))}\n`).join('\n'));
  }
  return 0;
}
