/**
 * Regenerate the generated documentation:
 *   docs/machines.md                the statecharts, from the machine definitions
 *   docs/configuration.md           the key table between its markers, from the config schema
 * Run: npx tsx scripts/gen-machines-doc.ts     (test/observe/docs.test.ts fails when stale)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderMachinesDoc } from '../src/observe/statecharts.js';
import { withConfigTable } from '../src/gateway/config/docs.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
writeFileSync(join(root, 'docs/machines.md'), renderMachinesDoc());
const configDoc = join(root, 'docs/configuration.md');
writeFileSync(configDoc, withConfigTable(readFileSync(configDoc, 'utf8')));
process.stdout.write('docs/machines.md and docs/configuration.md regenerated\n');
