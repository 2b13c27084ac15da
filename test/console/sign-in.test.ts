/**
 * Console sign-in with HTTP NTLM through our acceptor: real clients (curl --ntlm,
 * python3-requests-ntlm) and our own initiator; a handshake bound to its connection;
 * requireGroup; the record hook; TLS on a certificate openssl makes; /healthz left open.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startConsole, type RunningConsole } from '../../src/observe/console/index.js';
import { createClientContext } from '../../src/ntlm/client.js';
import { PYTHON, needs, toolPath } from '../helpers/tools.js';
import { OPERATORS, captureLogger, fakeSource, ntlmSession, signInFixture, testCertificate } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'rasgate-console-signin-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const run = promisify(execFile);

/** curl's answer: status and the response headers (lower-cased names). The server is in this process: never spawnSync. */
async function curl(args: string[]): Promise<{ status: number; headers: string[] }> {
  const r = await run(toolPath('curl'), ['-s', '-o', '/dev/null', '-D', '-', '--max-time', '20', ...args], { encoding: 'utf8' });
  const blocks = r.stdout.trim().split(/\r?\n\r?\n/);
  const last = blocks[blocks.length - 1]!.split(/\r?\n/);
  return { status: Number(last[0]!.split(' ')[1]), headers: blocks.flatMap((b) => b.split(/\r?\n/).slice(1)).map((h) => h.toLowerCase()) };
}

/** python3-requests-ntlm (Debian's), signing in as `user`. */
async function pythonNtlm(url: string, user: string, password: string, ca?: string): Promise<number> {
  // ntlm-auth asks hashlib for MD4, which OpenSSL 3 refuses without its legacy provider: pycryptodomex's MD4 instead
  // (as scripts/interop/peers/ntlm_auth_client.py does).
  const md4 = `import hashlib\nfrom Cryptodome.Hash import MD4\n_new = hashlib.new\nhashlib.new = lambda name, data=b'', **kw: MD4.new(data) if name.lower() == 'md4' else _new(name, data, **kw)\n`;
  const script = `${md4}import sys, requests\nfrom requests_ntlm import HttpNtlmAuth\nr = requests.get(sys.argv[1], auth=HttpNtlmAuth(sys.argv[2], sys.argv[3]), verify=sys.argv[4] if len(sys.argv) > 4 else True, timeout=20)\nprint(r.status_code)\n`;
  const r = await run(PYTHON, ['-c', script, url, user, password, ...(ca ? [ca] : [])], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

describe('console sign-in over HTTP (loopback)', () => {
  const fx = signInFixture();
  const { logger, lines } = captureLogger();
  let con: RunningConsole;
  before(async () => {
    con = await startConsole({ host: '127.0.0.1', port: 0, logger, source: fakeSource(), signIn: { credential: fx.credential }, hooks: fx.hooks });
  });
  after(async () => {
    await con.close();
    await fx.cleanup();
  });

  test('curl --ntlm: right password 200, wrong 401; no credentials 401 offering Negotiate and NTLM', { skip: needs('curl') }, async () => {
    const url = new URL('/api/status', con.url).href;
    assert.equal((await curl(['--ntlm', '-u', `alice:${OPERATORS.alice}`, url])).status, 200);
    assert.equal((await curl(['--ntlm', '-u', 'alice:wrong-password', url])).status, 401);
    const none = await curl([url]);
    assert.equal(none.status, 401);
    assert.ok(none.headers.includes('www-authenticate: negotiate'), none.headers.join('\n'));
    assert.ok(none.headers.includes('www-authenticate: ntlm'), none.headers.join('\n'));
  });

  test('python3-requests-ntlm: right password 200, wrong 401', { skip: needs('py:requests_ntlm', 'py:Cryptodome') }, async () => {
    const url = new URL('/api/status', con.url).href;
    assert.equal(await pythonNtlm(url, 'GATE\\bob', OPERATORS.bob), 200);
    assert.equal(await pythonNtlm(url, 'GATE\\bob', 'not-his'), 401);
  });

  test('our initiator under Negotiate: the connection stays signed in; the handshake and the sign-in are not usable from another connection', async () => {
    const a = ntlmSession(con.url, 'alice', OPERATORS.alice);
    const b = ntlmSession(con.url, 'alice', OPERATORS.alice);
    try {
      const client = createClientContext({ user: 'alice', domain: '', password: OPERATORS.alice });
      const leg1 = await a.request('/api/session', { authorization: `Negotiate ${client.negotiate().toString('base64')}` });
      assert.equal(leg1.status, 401);
      assert.match(String(leg1.headers['www-authenticate']), /^Negotiate /);
      const authenticate = client.authenticate(Buffer.from(String(leg1.headers['www-authenticate']).split(' ')[1]!, 'base64')).token;
      // The AUTHENTICATE of A's handshake, sent on connection B: refused, B is closed.
      const stolen = await b.request('/api/session', { authorization: `Negotiate ${authenticate.toString('base64')}` });
      assert.equal(stolen.status, 401);
      assert.equal(stolen.headers.connection, 'close');
      // Sign A in properly; then A needs no header, B still does.
      const signed = await a.signIn();
      assert.equal(signed.status, 200);
      assert.equal((JSON.parse(signed.body) as { operator: string }).operator, 'GATE\\alice');
      const again = await a.request('/api/status');
      assert.equal(again.status, 200, 'the connection itself is signed in');
      assert.equal(again.headers['set-cookie'], undefined, 'no cookie');
      const other = await b.request('/api/status');
      assert.equal(other.status, 401, 'another connection is not');
    } finally {
      a.close();
      b.close();
    }
  });

  test('sign-ins and refusals are logged and recorded (the audit hook); /healthz needs no sign-in', async () => {
    assert.ok(fx.records.some((r) => r.type === 'console-sign-in' && r.user === 'alice' && r.source === '127.0.0.1'));
    assert.ok(fx.records.some((r) => r.type === 'console-sign-in-refused' && r.reason === 'bad-credentials'));
    assert.ok(lines.some((l) => l.message === 'console sign-in' && l.operator === 'GATE\\alice'));
    assert.ok(lines.some((l) => l.message === 'console sign-in refused' && l.level === 'warn'));
    const probe = await fetch(new URL('/healthz', con.url));
    assert.equal(probe.status, 200);
    assert.equal((await probe.text()).trim(), 'ok');
  });
});

test('requireGroup: only the accounts listed sign in (403 for the others, recorded); admit refuses a source under penalty', async (t) => {
  const fx = signInFixture();
  const penalty: { source?: string } = {};
  const con = await startConsole({
    host: '127.0.0.1', port: 0, logger: captureLogger().logger, source: fakeSource(),
    signIn: { credential: fx.credential, requireGroup: ['BOB'] },
    hooks: { ...fx.hooks, admit: (source) => (source === penalty.source ? 'source under penalty' : true) },
  });
  t.after(async () => {
    await con.close();
    await fx.cleanup();
  });
  const bob = ntlmSession(con.url, 'bob', OPERATORS.bob);
  const alice = ntlmSession(con.url, 'alice', OPERATORS.alice);
  try {
    assert.equal((await bob.signIn()).status, 200);
    const refused = await alice.signIn();
    assert.equal(refused.status, 403);
    assert.ok(fx.records.some((r) => r.type === 'console-sign-in-refused' && r.user === 'alice' && r.reason === 'not-in-require-group'));
  } finally {
    bob.close();
    alice.close();
  }
  penalty.source = '127.0.0.1';
  const late = ntlmSession(con.url, 'bob', OPERATORS.bob);
  try {
    assert.equal((await late.request('/api/status')).status, 403);
  } finally {
    late.close();
  }
});

describe('console over TLS (a certificate made by openssl)', { skip: needs('openssl') }, () => {
  const fx = signInFixture();
  let con: RunningConsole;
  let cert: ReturnType<typeof testCertificate>;
  before(async () => {
    cert = testCertificate(dir);
    // Beyond loopback: allowed with TLS and sign-in. Reached here through 127.0.0.1.
    con = await startConsole({ host: '0.0.0.0', port: 0, logger: captureLogger().logger, source: fakeSource(), tls: { cert: cert.cert, key: cert.key }, signIn: { credential: fx.credential } });
  });
  after(async () => {
    await con?.close();
    await fx.cleanup();
  });

  test('https: curl --ntlm and python3-requests-ntlm sign in; our initiator too', { skip: needs('curl', 'py:requests_ntlm', 'py:Cryptodome') }, async () => {
    assert.match(con.url, /^https:\/\/0\.0\.0\.0:\d+\/$/);
    const url = con.url.replace('0.0.0.0', '127.0.0.1');
    assert.equal((await curl(['--cacert', cert.certFile, '--ntlm', '-u', `alice:${OPERATORS.alice}`, `${url}api/status`])).status, 200);
    assert.equal((await curl(['--cacert', cert.certFile, '--ntlm', '-u', 'alice:nope', `${url}api/status`])).status, 401);
    assert.equal(await pythonNtlm(`${url}api/status`, 'GATE\\bob', OPERATORS.bob, cert.certFile), 200);
    const s = ntlmSession(url, 'bob', OPERATORS.bob, { ca: cert.cert });
    try {
      assert.equal((await s.signIn()).status, 200);
    } finally {
      s.close();
    }
  });

  test('beyond loopback without TLS or without sign-in: refused at start', async () => {
    await assert.rejects(startConsole({ host: '0.0.0.0', port: 0, logger: captureLogger().logger, source: fakeSource(), signIn: { credential: fx.credential } }), /needs TLS and sign-in/);
    await assert.rejects(startConsole({ host: '0.0.0.0', port: 0, logger: captureLogger().logger, source: fakeSource(), tls: { cert: cert.cert, key: cert.key } }), /needs TLS and sign-in/);
  });
});
