/**
 * docs/library.md's examples, run as written: each `<!-- example: NAME -->` block becomes a file
 * that imports only `rasgate/ntlm` and `rasgate/authority` (mapped here to the sources the
 * package exports are built from), started as a server on a free loopback port, and logged on
 * to over HTTP by our client and by curl --ntlm. The package's "exports" must name both.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createClientContext } from '../../src/ntlm/client.js';
import { formatLine } from '../../src/authority/local/smbpasswd.js';
import { ntowfv1 } from '../../src/ntlm/crypto.js';
import { needs } from '../helpers/tools.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const doc = readFileSync(join(root, 'docs/library.md'), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'rasgate-libdoc-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill();
  rmSync(dir, { recursive: true, force: true });
});

const smbpasswd = join(dir, 'smbpasswd');
writeFileSync(smbpasswd, formatLine({ name: 'alice', uid: 1000, ntHash: ntowfv1('alice-pw'), hasLmHash: false, flags: new Set(['U']), lastChange: 0x5f5e1000 }) + '\n', { mode: 0o600 });

/** The fenced block that follows `<!-- example: NAME ... -->`. */
function example(name: string): string {
  const m = new RegExp(`<!-- example: ${name}\\b[^>]*-->\\s*\`\`\`js\\n([\\s\\S]*?)\`\`\``).exec(doc);
  assert.ok(m, `docs/library.md has no example ${name}`);
  return m[1]!;
}

test('the package exports rasgate/ntlm and rasgate/authority, built from the modules the examples use', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, { default: string; types: string }> };
  assert.equal(pkg.exports['./ntlm']?.default, './dist/src/ntlm/index.js');
  assert.equal(pkg.exports['./authority']?.default, './dist/src/authority/index.js');
  assert.deepEqual(Object.keys(pkg.exports).sort(), ['./authority', './ntlm', './package.json']);
});

/** Start an example; resolves with its URL once it says where it listens. */
async function serve(name: string): Promise<string> {
  const code = example(name);
  const specifiers = [...code.matchAll(/from '([^']+)'/g)].map((m) => m[1]!);
  assert.deepEqual(specifiers.filter((s) => !s.startsWith('node:')).sort(), [...new Set(specifiers.filter((s) => !s.startsWith('node:')))].sort());
  for (const s of specifiers) assert.ok(s.startsWith('node:') || s === 'rasgate/ntlm' || s === 'rasgate/authority', `${name} imports ${s}: no deep imports`);
  const file = join(dir, `${name}.mjs`);
  writeFileSync(
    file,
    code
      .replaceAll("'rasgate/ntlm'", `'${pathToFileURL(join(root, 'src/ntlm/index.ts')).href}'`)
      .replaceAll("'rasgate/authority'", `'${pathToFileURL(join(root, 'src/authority/index.ts')).href}'`),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: root, env: { ...process.env, PORT: '0', SMBPASSWD: smbpasswd }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolveUrl, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolveUrl(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}): ${err}`)));
  });
}

interface Answer {
  status: number;
  authenticate: string[];
  body: string;
}

function get(url: string, agent: Agent, authorization?: string): Promise<Answer> {
  return new Promise((resolveAnswer, reject) => {
    const req = request(url, { agent, headers: authorization ? { Authorization: authorization } : {} }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        resolveAnswer({ status: res.statusCode!, authenticate: res.headersDistinct['www-authenticate'] ?? [], body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** A full NTLM logon with our client over one keep-alive connection. */
async function logon(url: string, password: string, scheme = 'NTLM') {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const offer = await get(url, agent);
    const client = createClientContext({ user: 'alice', domain: '', password, workstation: 'WS1' });
    const leg1 = await get(url, agent, `${scheme} ${client.negotiate().toString('base64')}`);
    const m = new RegExp(`^${scheme} (\\S+)$`).exec(leg1.authenticate[0] ?? '');
    assert.ok(m, `a CHALLENGE under ${scheme}: ${JSON.stringify(leg1)}`);
    const leg3 = await get(url, agent, `${scheme} ${client.authenticate(Buffer.from(m[1]!, 'base64')).token.toString('base64')}`);
    const again = leg3.status === 200 ? await get(url, agent) : undefined;
    return { offer, leg1, leg3, again };
  } finally {
    agent.destroy();
  }
}

for (const name of ['handler-server', 'sspi-server']) {
  test(`docs/library.md example ${name}: an NTLM-protected node:http server from the package exports alone`, async () => {
    const url = await serve(name);
    const ok = await logon(url, 'alice-pw');
    assert.equal(ok.offer.status, 401);
    assert.deepEqual(ok.offer.authenticate, ['Negotiate', 'NTLM']);
    assert.equal(ok.leg1.status, 401);
    assert.equal(ok.leg3.status, 200);
    assert.match(ok.leg3.body, /^hello [^\\]+\\alice\n$/);
    assert.equal(ok.again?.status, 200, 'the connection stays logged on');
    const negotiate = await logon(url, 'alice-pw', 'Negotiate');
    assert.equal(negotiate.leg3.status, 200, 'raw NTLMSSP under Negotiate');
    const wrong = await logon(url, 'not-her-password');
    assert.equal(wrong.leg3.status, 401);
  });
}

test('docs/library.md example handler-server with curl --ntlm', { skip: needs('curl') }, async () => {
  const url = await serve('handler-server');
  const curl = (password: string) =>
    new Promise<string>((resolveOut) => execFile('curl', ['-s', '--ntlm', '-u', `alice:${password}`, '-o', '-', '-w', '%{http_code}', url], (_e, stdout) => resolveOut(stdout)));
  assert.match(await curl('alice-pw'), /^hello [^\\]+\\alice\n200$/);
  assert.equal(await curl('nope'), '401');
});
