/** The generated tables of docs/configuration.md: keys from the schema, limits from the code (scripts/gen-machines-doc.ts). */
import { LIMITS } from './limits.js';
import { configRows } from './schema.js';

const CONFIG_TABLE_BEGIN = '<!-- BEGIN GENERATED KEY TABLE (scripts/gen-machines-doc.ts) -->';
const CONFIG_TABLE_END = '<!-- END GENERATED KEY TABLE -->';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\r/g, '\\r').replace(/\n/g, '\\n');

function renderConfigTable(): string {
  const rows = configRows().map((r) => `| \`${r.key}\` | ${r.type.includes('\\|') ? r.type : cell(r.type)} | ${r.default.startsWith('`') || r.default.startsWith('(') ? r.default : `\`${cell(r.default)}\``} | ${cell(r.doc)} |`);
  return [CONFIG_TABLE_BEGIN, '', '| key | type | default | meaning |', '| --- | --- | --- | --- |', ...rows, '', CONFIG_TABLE_END].join('\n');
}

const LIMITS_BEGIN = '<!-- BEGIN GENERATED LIMITS TABLE (scripts/gen-machines-doc.ts) -->';
const LIMITS_END = '<!-- END GENERATED LIMITS TABLE -->';

function renderLimitsTable(): string {
  const rows = LIMITS.map((l) => `| ${cell(l.what)} | ${cell(l.value)} | ${cell(l.then)} |`);
  return [LIMITS_BEGIN, '', '| what | limit | when it is reached |', '| --- | --- | --- |', ...rows, '', LIMITS_END].join('\n');
}

function replaceBlock(doc: string, begin: string, end: string, body: string): string {
  const a = doc.indexOf(begin);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) throw new Error(`docs/configuration.md: generated-block markers missing (${begin})`);
  return doc.slice(0, a) + body + doc.slice(b + end.length);
}

/** Replace the generated blocks in a document (which must contain their markers). */
export function withConfigTable(doc: string): string {
  return replaceBlock(replaceBlock(doc, CONFIG_TABLE_BEGIN, CONFIG_TABLE_END, renderConfigTable()), LIMITS_BEGIN, LIMITS_END, renderLimitsTable());
}
