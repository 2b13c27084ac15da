/**
 * The console against a real Samba AD DC (scripts/samba-dc.sh, a DC of this file's own): an
 * operator signs in with a DOMAIN account, over TLS, in a real browser (Debian chromium through
 * playwright-core) and with curl --ntlm, and `console.requireGroup` is checked against a real AD
 * group ("RAS Operators", with oper in it; bob is not), by name and by SID. `rasgate serve` runs
 * with the ldap authority inside the DC's network namespace; so do curl and chromium (a wrapper
 * given to playwright as its executable enters the namespace; playwright drives it over a pipe).
 * The sign-ins are read back from the audit trail with `rasgate audit --json`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ServeInDc, ldapAuthorityYaml, needsDc, startDc, stopDc, type DcInfo } from './dc.js';
import { testCertificate, visit } from '../console/harness.js';
import { waitFor } from '../helpers/net.js';
import { needs, toolPath } from '../helpers/tools.js';

const skip = needsDc() || needs('chromium', 'curl', 'openssl');
// RASGATE_DC_PREFIX: see test/domain/authorities.test.ts. A name of this file's own: no other DC shares it.
const NAME = `${process.env.RASGATE_DC_PREFIX ? `${process.env.RASGATE_DC_PREFIX}con` : 'rgcon'}-${process.pid}`;
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const script = resolve(root, 'scripts/samba-dc.sh');
/** Where the screenshots go (gitignored), as test/console/browser.test.ts's SHOTS. */
const SHOTS = resolve(root, 'test-results/console');
const GROUP = 'RAS Operators';
const OPER = { name: 'oper', password: 'Oper-Console-pw5' };
// Ports inside the DC's own namespace: nothing else listens there.
const BY_NAME = { console: 8443, line: 2323 };
const BY_SID = { console: 8444, line: 2324 };

const run = promisify(execFile);

let dc: DcInfo;
let dir: string;
let groupSid: string;
let tls: ReturnType<typeof testCertificate>;
const contexts: BrowserContext[] = [];

/** Run in the DC's namespace, synchronously: only while no gateway runs (it would fill its pipes). */
function inNsSync(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync('bash', [script, 'exec', NAME, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Run in the DC's namespace; stdout, whatever the exit code. */
async function inNs(args: string[]): Promise<string> {
  try {
    return (await run('bash', [script, 'exec', NAME, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000, maxBuffer: 16 << 20 })).stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    if (typeof e.stdout === 'string' && typeof e.code === 'number') return e.stdout;
    throw err;
  }
}

function sambaTool(args: string[]): string {
  const r = inNsSync(['samba-tool', ...args, '-s', dc.DC_SMB_CONF!]);
  assert.equal(r.code, 0, `samba-tool ${args.join(' ')}: ${r.err}`);
  return r.out;
}

/** curl inside the namespace: the last answer's status and every response header (lower-cased). */
async function curl(port: number, path: string, auth: string[]): Promise<{ status: number; headers: string[]; body: string }> {
  const bodyFile = join(dir, `body-${port}-${Math.random().toString(36).slice(2)}`);
  const out = await inNs([toolPath('curl'), '-s', '--insecure', '-o', bodyFile, '-D', '-', '--max-time', '60', ...auth, `https://127.0.0.1:${port}${path}`]);
  const blocks = out.trim().split(/\r?\n\r?\n/);
  const last = blocks[blocks.length - 1]!.split(/\r?\n/);
  let body = '';
  try {
    body = readFileSync(bodyFile, 'utf8');
  } catch {
    // no body written (a 401 without one)
  }
  return { status: Number(last[0]!.split(' ')[1]), headers: blocks.flatMap((b) => b.split(/\r?\n/).slice(1)).map((h) => h.toLowerCase()), body };
}

/**
 * Browsers and curl do not offer NEGOTIATE_SIGN, so the ldap authority relays their logon over
 * StartTLS, which Samba refuses at its default `ldap server require strong auth = yes`
 * (source4/ldap_server/ldap_bind.c: "Sign or Seal are required"); docs/domain.md tells the
 * operator to set `allow_sasl_over_tls`. Samba reads it at start only: restart the DC's samba.
 */
async function allowSaslOverTls(): Promise<void> {
  const conf = dc.DC_SMB_CONF!;
  writeFileSync(conf, readFileSync(conf, 'utf8').replace(/^\[global\]$/m, '[global]\n\tldap server require strong auth = allow_sasl_over_tls'));
  const pidFile = join(dc.DC_DIR, 'run/samba.pid');
  process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGTERM');
  const nsPids = () => spawnSync('ip', ['netns', 'pids', NAME], { encoding: 'utf8' }).stdout.trim();
  await waitFor(() => nsPids() === '', "the DC's processes gone", 60_000, 100);
  rmSync(pidFile, { force: true });
  const log = openSync(join(dc.DC_DIR, 'samba.log'), 'a');
  spawn('bash', [script, 'exec', NAME, 'samba', '-s', conf, '-F', '--debug-stdout'], { cwd: root, detached: true, stdio: ['ignore', log, log] }).unref();
  closeSync(log);
  await waitFor(() => inNsSync(['wbinfo', '-p']).code === 0 && inNsSync(['bash', '-c', 'exec 3<>/dev/tcp/127.0.0.1/389']).code === 0, 'the DC up again', 90_000, 250);
}

const ntlm = (user: string, password: string) => ['--ntlm', '-u', `${dc.DC_DOMAIN}\\${user}:${password}`];

function gatewayConfig(name: string, ports: { console: number; line: number }, requireGroup: string): string {
  const state = join(dir, name);
  mkdirSync(state, { mode: 0o700 });
  const config = join(state, 'rasgate.yaml');
  writeFileSync(
    config,
    `lines:
  - { id: tcp0, listen: tcp://127.0.0.1:${ports.line}, mode: raw, action: hangup }
${ldapAuthorityYaml(dc)}stateDirectory: ${state}
console:
  enabled: true
  listen: tcp://127.0.0.1:${ports.console}
  tls: { cert: ${tls.certFile}, key: ${tls.keyFile} }
  signIn: true
  requireGroup: ['${requireGroup}']
`,
  );
  return config;
}

/** A gateway of this file: `rasgate serve` in the DC's namespace, and its config file. */
interface Gateway {
  name: string;
  config: string;
  serve: ServeInDc;
}
const gateways: Gateway[] = [];

function startGateway(name: string, config: string): Gateway {
  const g = { name, config, serve: new ServeInDc(NAME, config) };
  gateways.push(g);
  return g;
}

/** Chromium, launched by playwright through a wrapper that runs it inside the DC's namespace. */
async function browserAs(credentials: { username: string; password: string }): Promise<Page> {
  const profile = mkdtempSync(join(dir, 'chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: join(dir, 'chromium-in-ns'),
    // NTLM to this host only (the allow-list switch); nothing else leaves the browser.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--auth-server-allowlist=127.0.0.1'],
    viewport: { width: 1280, height: 900 },
    ignoreHTTPSErrors: true,
    httpCredentials: credentials,
    timeout: 60_000,
  });
  contexts.push(context);
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(30_000);
  return page;
}

interface AuditRecord {
  event: string;
  user?: string;
  domain?: string;
  result?: string;
  reason?: string;
  source?: string;
}

async function consoleSignIns(config: string): Promise<AuditRecord[]> {
  const out = await inNs([process.execPath, '--import', 'tsx', resolve(root, 'src/cli/main.ts'), 'audit', '--json', '--config', config]);
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as AuditRecord)
    .filter((r) => r.event === 'console-sign-in');
}

describe('console sign-in with domain accounts (ldap authority), requireGroup against an AD group, over TLS', { skip }, () => {
  let byName: Gateway;
  let bySid: Gateway;

  before(async () => {
    dc = startDc(NAME);
    dir = mkdtempSync(join(tmpdir(), 'rg-dcon-'));
    await allowSaslOverTls();
    mkdirSync(SHOTS, { recursive: true });
    sambaTool(['user', 'create', OPER.name, OPER.password]);
    sambaTool(['group', 'add', GROUP]);
    sambaTool(['group', 'addmembers', GROUP, OPER.name]);
    groupSid = /^objectSid: (S-1-5-21-[\d-]+)$/m.exec(sambaTool(['group', 'show', GROUP, '--attributes=objectSid']))?.[1] ?? '';
    assert.match(groupSid, /^S-1-5-21-\d+-\d+-\d+-\d+$/);

    tls = testCertificate(dir);
    // playwright runs this as the browser: chromium inside the namespace, its pipe fds passed through the execs.
    writeFileSync(join(dir, 'chromium-in-ns'), `#!/bin/sh\nexec bash '${script}' exec '${NAME}' '${toolPath('chromium')}' "$@"\n`);
    chmodSync(join(dir, 'chromium-in-ns'), 0o755);

    // Two gateways side by side: requireGroup by the group's name, and by its SID.
    byName = startGateway('by-name', gatewayConfig('by-name', BY_NAME, GROUP));
    bySid = startGateway('by-sid', gatewayConfig('by-sid', BY_SID, groupSid));
    for (const g of [byName, bySid]) {
      await waitFor(() => g.serve.log().includes('"console listening"') || g.serve.child.exitCode !== null, `${g.name}: console listening`, 90_000, 200);
      assert.ok(g.serve.log().includes('"console listening"'), `${g.name}: ${g.serve.log().slice(-3000)}`);
    }
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    for (const g of gateways) await g.serve.stop();
    stopDc(NAME);
    if (dir) rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  });

  test('curl --ntlm: the member 200, a wrong password 401, a non-member 403, none 401 offering Negotiate and NTLM; /healthz open', { timeout: 150_000 }, async () => {
    const member = await curl(BY_NAME.console, '/api/status', ntlm(OPER.name, OPER.password));
    assert.equal(member.status, 200, byName.serve.log().slice(-3000));
    const status = JSON.parse(member.body) as { lines: { id: string }[] };
    assert.deepEqual(status.lines.map((l) => l.id), ['tcp0']);
    const session = await curl(BY_NAME.console, '/api/session', ntlm(OPER.name, OPER.password));
    assert.equal((JSON.parse(session.body) as { operator: string }).operator.toLowerCase(), `${dc.DC_DOMAIN}\\${OPER.name}`.toLowerCase());

    assert.equal((await curl(BY_NAME.console, '/api/status', ntlm(OPER.name, 'not-the-password'))).status, 401);
    assert.equal((await curl(BY_NAME.console, '/api/status', ntlm('bob', dc.DC_PASSWORD))).status, 403, 'bob is not in the group');
    const none = await curl(BY_NAME.console, '/api/status', []);
    assert.equal(none.status, 401);
    assert.ok(none.headers.includes('www-authenticate: negotiate'), none.headers.join('\n'));
    assert.ok(none.headers.includes('www-authenticate: ntlm'), none.headers.join('\n'));
    const health = await curl(BY_NAME.console, '/healthz', []);
    assert.equal(health.status, 200);
    assert.match(health.body, /^ok\n/);

    // requireGroup by the group's SID: the same verdicts.
    assert.equal((await curl(BY_SID.console, '/api/status', ntlm(OPER.name, OPER.password))).status, 200, bySid.serve.log().slice(-3000));
    assert.equal((await curl(BY_SID.console, '/api/status', ntlm('bob', dc.DC_PASSWORD))).status, 403);
  });

  test('chromium: the member signs in as DOMAIN\\oper and sees the lines; a non-member gets 403', { timeout: 150_000 }, async () => {
    const url = `https://127.0.0.1:${BY_NAME.console}/`;
    const page = await browserAs({ username: `${dc.DC_DOMAIN}\\${OPER.name}`, password: OPER.password });
    const first = await page.goto(url);
    assert.equal(first?.status(), 200, byName.serve.log().slice(-3000));
    await page.locator('#operator', { hasText: `signed in as ${dc.DC_DOMAIN}\\${OPER.name}` }).waitFor();
    await page.locator('#conn.on').waitFor();
    await page.locator('#lines tbody tr[data-line="tcp0"] td.state', { hasText: 'listening' }).waitFor();
    assert.equal(await page.locator('#lines tbody tr[data-line="tcp0"] td').first().textContent(), 'tcp0');
    await page.screenshot({ path: join(SHOTS, 'domain-sign-in.png') });
    assert.ok(!(await page.content()).includes(OPER.password), 'no password on the page');

    const bob = await browserAs({ username: `${dc.DC_DOMAIN}\\bob`, password: dc.DC_PASSWORD });
    assert.equal((await visit(bob, url))?.status(), 403);
  });

  test('the audit trail: accepted for oper, forbidden for bob, refused for the wrong password', { timeout: 120_000 }, async () => {
    let records: AuditRecord[] = [];
    const has = (user: string, result: string) => records.some((r) => r.user?.toLowerCase() === user && r.result === result);
    await waitFor(
      async () => {
        records = await consoleSignIns(byName.config);
        return has(OPER.name, 'accepted') && has('bob', 'forbidden') && has(OPER.name, 'refused');
      },
      'console-sign-in records',
      60_000,
      500,
    );
    assert.equal(records.find((r) => r.user?.toLowerCase() === OPER.name && r.result === 'refused')!.reason, 'bad-credentials');
    const forbidden = records.find((r) => r.user?.toLowerCase() === 'bob' && r.result === 'forbidden')!;
    assert.equal(forbidden.reason, 'not-in-require-group');
    assert.equal(forbidden.source, '127.0.0.1');
    assert.equal(records.find((r) => r.user?.toLowerCase() === OPER.name && r.result === 'accepted')!.domain?.toUpperCase(), dc.DC_DOMAIN);
    const logs = gateways.map((g) => g.serve.log()).join('\n');
    assert.ok(!logs.includes(OPER.password) && !logs.includes(dc.DC_PASSWORD), 'no password in the logs');
  });
});
