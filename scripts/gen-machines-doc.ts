/**
 * Regenerate the generated documentation:
 *   docs/machines.md                the statecharts, from the machine definitions
 *   docs/configuration.md           the key table between its markers, from the config schema
 *   src/observe/console/diagrams.generated.ts   the statecharts laid out by elkjs (the console draws them)
 * Run: npx tsx scripts/gen-machines-doc.ts     (test/observe/docs.test.ts fails when stale)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderMachinesDoc } from '../src/observe/statecharts.js';
import { withConfigTable } from '../src/gateway/config/docs.js';
import { layoutAll, renderDiagramsModule } from '../src/observe/diagram-layout.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
writeFileSync(join(root, 'docs/machines.md'), renderMachinesDoc());
const configDoc = join(root, 'docs/configuration.md');
writeFileSync(configDoc, withConfigTable(readFileSync(configDoc, 'utf8')));
writeFileSync(join(root, 'src/observe/console/diagrams.generated.ts'), renderDiagramsModule(await layoutAll()));
process.stdout.write('docs/machines.md, docs/configuration.md and src/observe/console/diagrams.generated.ts regenerated\n');
