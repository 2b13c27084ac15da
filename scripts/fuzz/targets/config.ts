/**
 * config: the configuration loader (src/gateway/config/load.ts parseConfig) on mutated YAML:
 * the examples of docs/ and the tests, and documents built from the documented keys.
 * Invariants: never throws; either a configuration and no issues, or issues and no
 * configuration; every issue has a key path (or the file position of a YAML error) and a message.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configRows, parseConfig } from '../../../src/gateway/config.js';
import { invariant, type FuzzTarget, type Rand } from '../engine.js';

const SOURCE = 'fuzz.yaml';
let baseDir: string | undefined;

const SCALARS = ['0', '-1', '1.5', '1e309', '0x10', 'true', 'no', 'null', '~', '""', "''", '[]', '{}', 'tcp://127.0.0.1:2323', 'tcp://[::1]:0', 'sim://m?far=tcp://127.0.0.1:1', 'hangup', 'bridge: tcp://127.0.0.1:7', '[/bin/true]', 'ldap', 'local', 'winbind', '!!binary aGk=', '&a x', '*a', '"\\u0000"', "'\u2028'", 'A'.repeat(300)];

/** A document from the documented key paths with random values. */
function fromKeys(rand: Rand, keys: string[]): string {
  const lines: string[] = [];
  for (let n = 1 + rand.size(12); n > 0; n--) {
    const parts = rand.pick(keys).replace(/\[\]/g, '').split('.');
    const listy = rand.chance(0.3);
    parts.forEach((p, i) => lines.push(`${'  '.repeat(i)}${i === 1 && listy ? '- ' : ''}${p}:${i === parts.length - 1 ? ` ${rand.pick(SCALARS)}` : ''}`));
  }
  return lines.join('\n');
}

export const config: FuzzTarget = {
  name: 'config',
  invariant: 'parseConfig never throws; a configuration xor issues; every issue has a path and a message',
  dictionary: [
    ...configRows().map((r) => Buffer.from(`${r.key.split('.').at(-1)!.replace('[]', '')}: `)),
    ...['\n', '\n  ', '\n  - ', '- ', ': ', '{', '}', '[', ']', ',', '&a ', '*a', '<<: *a\n', '&b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]', '? ', '!!str ', '!!map ', '!!set ', '--- ', '...\n', '%YAML 1.2\n', '#', '"', "'", '|\n', '>-\n', '\t', '\r\n', '\ufeff'].map((t) => Buffer.from(t)),
  ],
  maxInput: 32 * 1024,
  // The yaml package takes about 2 s on a 32 KiB document of broken flow maps (16,000 errors):
  // slow, but a file only the operator writes.
  slowMs: 10_000,
  setup() {
    baseDir = mkdtempSync(join(tmpdir(), 'rasgate-fuzz-config-'));
  },
  teardown() {
    if (baseDir) rmSync(baseDir, { recursive: true, force: true });
    baseDir = undefined;
  },
  generate(rand) {
    return Buffer.from(fromKeys(rand, configRows().map((r) => r.key)));
  },
  run(input) {
    const text = input.toString('utf8');
    let r: ReturnType<typeof parseConfig>;
    try {
      r = parseConfig(text, SOURCE, baseDir!);
    } catch (err) {
      throw new Error(`parseConfig threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`, { cause: err });
    }
    invariant(r.config ? r.issues.length === 0 : r.issues.length > 0, `parseConfig gave ${r.config ? 'a configuration and' : 'no configuration and'} ${r.issues.length} issues`);
    for (const i of r.issues) {
      invariant(typeof i.path === 'string', `an issue without a path: ${JSON.stringify(i)}`);
      invariant(typeof i.message === 'string' && i.message.length > 0, `an issue without a message at ${i.path}`);
    }
  },
};
