/** The key table of docs/configuration.md, generated from the schema (scripts/gen-machines-doc.ts). */
import { configRows } from './schema.js';

const CONFIG_TABLE_BEGIN = '<!-- BEGIN GENERATED KEY TABLE (scripts/gen-machines-doc.ts) -->';
const CONFIG_TABLE_END = '<!-- END GENERATED KEY TABLE -->';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\r/g, '\\r').replace(/\n/g, '\\n');

function renderConfigTable(): string {
  const rows = configRows().map((r) => `| \`${r.key}\` | ${r.type.includes('\\|') ? r.type : cell(r.type)} | ${r.default.startsWith('`') || r.default.startsWith('(') ? r.default : `\`${cell(r.default)}\``} | ${cell(r.doc)} |`);
  return [CONFIG_TABLE_BEGIN, '', '| key | type | default | meaning |', '| --- | --- | --- | --- |', ...rows, '', CONFIG_TABLE_END].join('\n');
}

/** Replace the generated block in a document (which must contain both markers). */
export function withConfigTable(doc: string): string {
  const a = doc.indexOf(CONFIG_TABLE_BEGIN);
  const b = doc.indexOf(CONFIG_TABLE_END);
  if (a < 0 || b < a) throw new Error('docs/configuration.md: generated-table markers missing');
  return doc.slice(0, a) + renderConfigTable() + doc.slice(b + CONFIG_TABLE_END.length);
}
