/**
 * Dependencies point one way: src/ntlm owns the Authority contract and imports no authority
 * and no logging package; authorities import src/ntlm; the ntlmAccept machine takes from src
 * only leaf modules (the contract's types and the wire constants). Read from the sources'
 * import statements, so that a new import in the wrong direction fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Relative and bare specifiers of every import / export-from / dynamic import in a file. */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g)) {
    out.push((m[1] ?? m[2] ?? m[3])!);
  }
  return out;
}

function resolveLocal(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const ts = resolve(dirname(from), spec).replace(/\.js$/, '.ts');
  return existsSync(ts) ? ts : undefined;
}

/** Every file reachable by static imports from `entry`, and the bare packages they name. */
function graph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const todo = [resolve(root, entry)];
  while (todo.length) {
    const f = todo.pop()!;
    if (files.has(f)) continue;
    files.add(f);
    for (const spec of specifiers(f)) {
      const local = resolveLocal(f, spec);
      if (local) todo.push(local);
      else if (!spec.startsWith('.') && !spec.startsWith('node:')) packages.add(spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/'));
    }
  }
  return { files, packages };
}

const rel = (f: string) => relative(root, f);

test('rasgate/ntlm reaches no authority, no observe/ module and no logging package', () => {
  const { files, packages } = graph('src/ntlm/index.ts');
  const wrong = [...files].map(rel).filter((f) => f.startsWith('src/authority/') || f.startsWith('src/observe/'));
  assert.deepEqual(wrong, []);
  assert.deepEqual([...packages].sort(), ['xstate'], 'the acceptor needs xstate (its machine) and nothing else');
});

test('the Authority contract lives with its consumer (src/ntlm/authority.ts); src/authority/types.ts is gone', () => {
  assert.equal(existsSync(resolve(root, 'src/authority/types.ts')), false);
  assert.deepEqual(specifiers(resolve(root, 'src/ntlm/authority.ts')), [], 'the contract is a leaf');
});

test('machines/ntlmAccept.ts takes from src only leaf modules: the contract and the constants', () => {
  const machine = resolve(root, 'machines/ntlmAccept.ts');
  const fromSrc = specifiers(machine).filter((s) => s.startsWith('../src/'));
  assert.deepEqual(fromSrc.sort(), ['../src/ntlm/authority.js', '../src/ntlm/constants.js']);
  for (const leaf of ['src/ntlm/authority.ts', 'src/ntlm/constants.ts']) assert.deepEqual(specifiers(resolve(root, leaf)), [], `${leaf} imports nothing`);
});

test('no module of src/ntlm reads the machine state names: the acceptor asks tags', () => {
  const { files } = graph('src/ntlm/index.ts');
  for (const f of files) {
    if (!rel(f).startsWith('src/ntlm/')) continue;
    const text = readFileSync(f, 'utf8');
    assert.doesNotMatch(text, /\.value\s*[!=]==?\s*'/, `${rel(f)} compares a snapshot's state value`);
  }
});

test('rasgate/authority reaches no observe/ module and no logging package either', () => {
  const { files, packages } = graph('src/authority/index.ts');
  assert.deepEqual([...files].map(rel).filter((f) => f.startsWith('src/observe/') || f.startsWith('src/gateway/')), []);
  assert.ok(![...packages].some((p) => p.startsWith('winston')), [...packages].join(', '));
});
