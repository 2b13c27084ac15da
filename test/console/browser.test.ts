/**
 * The console in a real browser (Debian chromium through playwright-core) against a real
 * Gateway in this process, over TLS with NTLM sign-in (httpCredentials, the NTLM allow-list
 * switch): an operator signs in, watches a test caller's call move through the drawn call
 * statechart, hangs it up from the page, replays it, and takes a line out of service and back.
 * Screenshots go to test-results/console/. Nothing is fetched from anywhere but the console.
 *
 * The actions go through a stand-in for the Gateway's operator paths (gatewayActions below):
 * it reaches the Gateway's calls and lines directly until the daemon has those methods.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import winston from 'winston';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { InspectionEvent, Observer } from 'xstate';
import { Gateway } from '../../src/gateway/daemon.js';
import { parseConfig } from '../../src/gateway/config.js';
import { SmbpasswdStore } from '../../src/authority/local/index.js';
import { ntowfv1 } from '../../src/ntlm/crypto.js';
import { createLogger } from '../../src/observe/logger.js';
import { RecentCalls, gatewaySource, startConsole, type RunningConsole } from '../../src/observe/console/index.js';
import { gatewayConsoleActions } from '../../src/gateway/console.js';
import { needs, toolPath } from '../helpers/tools.js';
import { testCertificate, visit } from './harness.js';

/** Where the screenshots go (gitignored). */
export const SHOTS = resolve(import.meta.dirname, '../../test-results/console');

const OPERATOR = { name: 'olga', password: 'Olga-Operator-pw9' };
const CALLER = { name: 'carl', password: 'Carl-Caller-pw7' };

/** A caller on a raw TCP line. */
class Caller {
  text = '';
  closed = false;
  readonly socket: Socket;
  constructor(port: number) {
    this.socket = connect({ port, host: '127.0.0.1' });
    this.socket.setEncoding('latin1');
    this.socket.on('data', (d: string) => (this.text += d));
    this.socket.on('close', () => (this.closed = true));
    this.socket.on('error', () => undefined);
  }
  async until(pred: () => boolean, what: string): Promise<void> {
    for (let i = 0; i < 1500 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(pred(), `${what}; got ${JSON.stringify(this.text)}`);
  }
}

/** What a caller on this port hears before the line closes or prompts (at most 5 s of it). */
function firstWords(port: number): Promise<string> {
  return new Promise((res) => {
    let text = '';
    const s = connect({ port, host: '127.0.0.1' });
    s.setEncoding('latin1');
    const done = () => {
      clearTimeout(t);
      s.destroy();
      res(text);
    };
    const t = setTimeout(done, 5000);
    s.on('data', (d: string) => {
      text += d;
      if (/login: $/.test(text)) done();
    });
    s.once('close', done);
    s.once('error', done);
  });
}

describe('console in a real browser over TLS with NTLM sign-in, against a real Gateway', { skip: needs('chromium', 'openssl') }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'rasgate-console-browser-'));
  let gw: Gateway;
  let con: RunningConsole;
  let ports: number[];
  let cert: ReturnType<typeof testCertificate>;
  const contexts: BrowserContext[] = [];
  const profiles: string[] = [];

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    const store = new SmbpasswdStore(join(dir, 'smbpasswd'));
    await store.update((ed) => {
      for (const [i, u] of [OPERATOR, CALLER].entries()) ed.put({ name: u.name, uid: 3000 + i, ntHash: ntowfv1(u.password), hasLmHash: false, flags: new Set(['U']), lastChange: 0x5f5e1000 });
    });
    const yaml = `lines:
  - { id: tcp0, listen: tcp://127.0.0.1:0, mode: raw, action: { exec: [${toolPath('cat')}] } }
  - { id: tcp1, listen: tcp://127.0.0.1:0, mode: raw, action: hangup }
authority: { file: ./smbpasswd, domain: GATE }
dialogue: { failureDelaysSeconds: [0] }
shutdown: { grace: 0 }
`;
    const { config, issues } = parseConfig(yaml, 'browser.yaml', dir);
    if (!config) throw new Error(JSON.stringify(issues));
    const logger = createLogger({ noStdout: true, transports: [new winston.transports.Stream({ stream: new Writable({ write: (_c, _e, cb) => cb() }) })] });
    // The console's observer exists once it listens: the machines get a forwarder now (as serve does).
    const forward: { to?: Observer<InspectionEvent> } = {};
    const recent = new RecentCalls(20);
    gw = new Gateway({ loaded: { config, source: 'browser.yaml', baseDir: dir }, logger, inspect: { next: (ev) => forward.to?.next?.(ev) }, onCallEnd: (s) => recent.add(s) });
    await gw.start();
    ports = [gw.port('tcp0')!, gw.port('tcp1')!];
    cert = testCertificate(dir);
    con = await startConsole({
      host: '127.0.0.1', port: 0, logger, tls: { cert: cert.cert, key: cert.key },
      source: gatewaySource(gw, recent),
      signIn: { credential: () => gw.lendCredential(), requireGroup: [OPERATOR.name] },
      actions: gatewayConsoleActions(gw),
      coalesceMs: 30, pollMs: 200,
    });
    forward.to = con.observer;
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await con?.close();
    await gw?.stop();
    for (const p of [dir, ...profiles]) rmSync(p, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  });

  /** A browser profile signing in as `user` (or with no credentials); every request it makes is collected. */
  async function browserAs(credentials: { username: string; password: string } | undefined): Promise<{ page: Page; requests: string[]; problems: string[] }> {
    const profile = mkdtempSync(join(tmpdir(), 'rasgate-chromium-'));
    profiles.push(profile);
    const origin = new URL(con.url).origin;
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: toolPath('chromium'),
      // NTLM to this host only (the allow-list switch); nothing else leaves the browser.
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--auth-server-allowlist=${new URL(origin).hostname}`],
      viewport: { width: 1280, height: 1000 },
      ignoreHTTPSErrors: true,
      ...(credentials ? { httpCredentials: credentials } : {}),
      timeout: 20_000,
    });
    contexts.push(context);
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(10_000);
    const requests: string[] = [];
    const problems: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    return { page, requests, problems };
  }

  test('sign-in: right password 200, wrong 401, none 401 offering Negotiate and NTLM; not in requireGroup 403', async () => {
    const wrong = await browserAs({ username: OPERATOR.name, password: 'not-her-password' });
    assert.equal((await visit(wrong.page, con.url))?.status(), 401);
    const none = await browserAs(undefined);
    const r = await visit(none.page, con.url);
    assert.equal(r?.status(), 401);
    const offers = (await r!.headersArray()).filter((h) => h.name.toLowerCase() === 'www-authenticate').map((h) => h.value);
    assert.deepEqual(offers.sort(), ['NTLM', 'Negotiate']);
    // A caller is not an operator. Chromium reports a 403 with no body as a failed navigation: read the response itself.
    const caller = await browserAs({ username: CALLER.name, password: CALLER.password });
    assert.equal((await visit(caller.page, con.url))?.status(), 403);
  });

  test('an operator watches a call through the drawn statechart, hangs it up, replays it, and takes a line out of service', { timeout: 120_000 }, async () => {
    const { page, requests, problems } = await browserAs({ username: OPERATOR.name, password: OPERATOR.password });
    const first = await page.goto(con.url);
    assert.equal(first?.status(), 200);
    await page.locator('#operator', { hasText: 'signed in as GATE\\olga' }).waitFor();
    await page.locator('#conn.on').waitFor();
    await page.locator('#lines tbody tr[data-line="tcp0"] td.state', { hasText: 'listening' }).waitFor();
    assert.match(await page.locator('#tz').textContent() ?? '', /UTC[+-]\d\d:\d\d/);

    // A caller dials in: the call machine is drawn in `securing`.
    const caller = new Caller(ports[0]!);
    await caller.until(() => /login: $/.test(caller.text), 'login prompt');
    await page.goto(`${con.url}#charts`);
    const call = page.locator('details[data-machine="call"] svg.statechart');
    await call.waitFor();
    await page.locator('svg [data-state="call.securing"].active').waitFor();
    await page.locator('svg [data-state^="dialogue."].active').first().waitFor();
    caller.socket.write(`${CALLER.name}\r`);
    await caller.until(() => /Password: $/.test(caller.text), 'password prompt');
    caller.socket.write(`${CALLER.password}\r`);
    // Logged in: the call moves to `executing` (cat), the drawn chart follows without reload.
    await page.locator('svg [data-state="call.executing"].active').waitFor();
    assert.equal(await page.locator('svg [data-state="call.executing"] > .badge text').textContent(), '1');
    assert.equal(await page.locator('svg [data-state="call.securing"]').evaluate((e) => e.classList.contains('active')), false);
    caller.socket.write('hello through cat\r');
    await caller.until(() => caller.text.includes('hello through cat'), 'echo');
    await page.locator('details[data-machine="call"]').screenshot({ path: join(SHOTS, 'statechart-call-mid-call.png') });

    // The lines page: who is on tcp0, from where, since when, in which state, bytes so far.
    await page.goto(`${con.url}#lines`);
    const row = page.locator('#lines tbody tr[data-line="tcp0"]').first();
    await row.locator('td', { hasText: 'executing' }).waitFor();
    const cells = await row.locator('td').allTextContents();
    assert.equal(cells[0], 'tcp0');
    assert.match(cells[1]!, /^tcp:\/\/127\.0\.0\.1:\d+$/);
    assert.match(cells[4]!, /^tcp0-\d+$/, 'the call id');
    assert.equal(cells[5], 'GATE\\carl');
    assert.match(cells[6]!, /^127\.0\.0\.1/);
    assert.match(cells[7]!, /^(\d\d-\d\d )?\d\d:\d\d:\d\d [+-]\d\d:\d\d$/, 'start time with its offset');
    assert.match((await row.locator('td').nth(7).getAttribute('title')) ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d$/, 'the full date in the title');
    await page.waitForFunction("!/^0 \\/ 0$/.test(document.querySelector('#lines tbody tr[data-line=\"tcp0\"] td:nth-child(11)').textContent)");
    await page.screenshot({ path: join(SHOTS, 'lines.png'), fullPage: false });
    const callId = cells[4]!;

    // Hang it up from the page: asked first, then done.
    await row.locator('button[data-action="hangup"]').click();
    await page.locator('#confirm[open]').waitFor();
    assert.match(await page.locator('#confirm-text').textContent() ?? '', new RegExp(`Hang up call ${callId}\\?.*GATE\\\\olga`));
    await page.locator('#confirm-ok').click();
    await caller.until(() => caller.closed, 'the caller hung up by the operator');
    await page.locator('#toast.good', { hasText: `hangup ${callId}: done` }).waitFor();
    await page.goto(`${con.url}#recent`);
    // The session was accepted; the operator ended it.
    await page.locator('#recent tbody tr', { hasText: callId }).locator('td', { hasText: 'accepted; operator' }).waitFor();

    // Replay it step by step on the drawn charts.
    await page.locator('#recent tbody tr', { hasText: callId }).locator('button[data-replay]').click();
    await page.locator('#replay-step', { hasText: 'step 1 of' }).waitFor();
    const total = Number(/of (\d+)/.exec((await page.locator('#replay-step').textContent()) ?? '')?.[1]);
    assert.ok(total >= 5, `steps: ${total}`);
    let sawExecuting = false;
    for (let i = 1; i < total; i++) {
      await page.locator('#replay-next').click();
      await page.locator('#replay-step', { hasText: `step ${i + 1} of` }).waitFor();
      if (await page.locator('svg [data-state="call.executing"].replay').count()) {
        sawExecuting = true;
        assert.ok(await page.locator('svg.statechart[data-machine="call"] .edge.taken').count() >= 1, 'the arrow taken is marked');
        await page.locator('details[data-machine="call"]').screenshot({ path: join(SHOTS, 'statechart-call-replay.png') });
      }
    }
    assert.ok(sawExecuting, 'the replay passes through call.executing');
    assert.match((await page.locator('#replay-step').textContent()) ?? '', /hangingUp|done/);

    // Take tcp1 out of service: callers hear one line and are let go; then back.
    await page.goto(`${con.url}#lines`);
    const tcp1 = page.locator('#lines tbody tr[data-line="tcp1"]');
    await tcp1.locator('button[data-action="line-out-of-service"]').click();
    await page.locator('#confirm-ok').click();
    await tcp1.locator('td.oos', { hasText: 'OUT OF SERVICE' }).waitFor();
    assert.match(await firstWords(ports[1]!), /out of service/, 'a caller on the line out of service is refused');
    await tcp1.locator('button[data-action="line-in-service"]').click();
    await page.locator('#confirm-ok').click();
    await tcp1.locator('button[data-action="line-out-of-service"]').waitFor();
    assert.equal(await tcp1.locator('td.oos').count(), 0);
    assert.match(await firstWords(ports[1]!), /login: $/, 'answered again');

    const origin = new URL(con.url).origin;
    assert.deepEqual(requests.filter((u) => !u.startsWith(`${origin}/`)), [], 'no request leaves the machine (or the console)');
    assert.ok(!(await page.content()).includes(CALLER.password), 'no password on the page');
    assert.deepEqual(problems, [], 'no script errors, no CSP violations');
  });

  test('64 lines fit a 1280 px wide page', async () => {
    const { page } = await browserAs({ username: OPERATOR.name, password: OPERATOR.password });
    // The same page against a stand-in source with 64 lines (two calls on some).
    const many = await startConsole({
      host: '127.0.0.1', port: 0, logger: createLogger({ silent: true }), tls: { cert: cert.cert, key: cert.key }, signIn: { credential: () => gw.lendCredential() },
      source: {
        status: () => ({ lines: Array.from({ length: 64 }, (_, i) => ({ id: `modem${i}`, state: i % 3 ? 'idle' : 'connected', activeCalls: i % 3 ? 0 : 1, ...(i % 7 === 0 ? { lastError: 'ENOENT: /dev/ttyUSB9 unplugged' } : {}) })), calls: 22 }),
        metrics: () => gw.metrics.snapshot(),
        lineTransports: () => Array.from({ length: 64 }, (_, i) => ({ id: `modem${i}`, kind: 'device', address: `/dev/ttyS${i}` })),
        activeCalls: () => Array.from({ length: 22 }, (_, i) => ({ line: `modem${i * 3}`, call: `modem${i * 3}-${100 + i}`, peer: `+4930555${String(i).padStart(4, '0')}`, callerName: 'EXAMPLE GMBH', startedAt: new Date(Date.now() - i * 61_000).toISOString(), user: `user${i}`, domain: 'CORP', bytesIn: 1200 * i, bytesOut: 48_000 * i })),
      },
    });
    try {
      await page.goto(many.url);
      await page.locator('#lines tbody tr[data-line="modem63"]').waitFor();
      assert.equal(await page.locator('#lines tbody tr').count(), 64);
      const width = (await page.evaluate('document.documentElement.scrollWidth')) as number;
      assert.ok(width <= 1280, `no horizontal scrolling at 1280 px: ${width}`);
      await page.screenshot({ path: join(SHOTS, 'lines-64.png'), fullPage: true });
    } finally {
      await many.close();
    }
  });
});
