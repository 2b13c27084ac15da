import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startConsole } from '../../src/observe/console/index.js';
import { hostAllowed, isLoopbackHost } from '../../src/observe/console/http-guard.js';
import { nullLogger } from '../../src/observe/logger.js';
import { RasgateError } from '../../src/errors.js';
import { captureLogger, fakeSource, openEvents, request } from './harness.js';

test('console: security headers on every answer, page without inline script or style', async (t) => {
  const con = await startConsole({ host: '127.0.0.1', port: 0, logger: nullLogger(), source: fakeSource() });
  t.after(() => con.close());
  for (const [path, status, type] of [['/', 200, 'text/html'], ['/app.js', 200, 'text/javascript'], ['/style.css', 200, 'text/css'], ['/api/status', 200, 'application/json'], ['/api/machines', 200, 'application/json'], ['/nope', 404, 'text/plain']] as const) {
    const r = await request(con.url, { path });
    assert.equal(r.status, status, path);
    assert.ok(String(r.headers['content-type']).startsWith(type), `${path}: ${r.headers['content-type']}`);
    assert.match(String(r.headers['content-security-policy']), /default-src 'self'/, path);
    assert.doesNotMatch(String(r.headers['content-security-policy']), /unsafe-inline|unsafe-eval/, path);
    assert.equal(r.headers['x-content-type-options'], 'nosniff', path);
    assert.equal(r.headers['referrer-policy'], 'no-referrer', path);
    assert.equal(r.headers['cache-control'], 'no-store', path);
  }
  const page = (await request(con.url)).body;
  assert.doesNotMatch(page, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
  assert.doesNotMatch(page, /\sstyle=|<style/, 'no inline style');
  assert.doesNotMatch(page + (await request(con.url, { path: '/app.js' })).body + (await request(con.url, { path: '/style.css' })).body, /https?:\/\/(?!console|www\.w3\.org\/2000\/svg)/, 'nothing from the internet (the SVG namespace name is not fetched)');
});

test('console: only GET and HEAD; HEAD has no body', async (t) => {
  const con = await startConsole({ host: '127.0.0.1', port: 0, logger: nullLogger(), source: fakeSource() });
  t.after(() => con.close());
  for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
    const r = await request(con.url, { method, path: '/api/status' });
    assert.equal(r.status, 405, method);
    assert.equal(r.headers.allow, 'GET, HEAD');
  }
  const head = await request(con.url, { method: 'HEAD', path: '/api/status' });
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
  const headEvents = await request(con.url, { method: 'HEAD', path: '/events' });
  assert.equal(headEvents.status, 200);
});

test('console: Host header must be an IP literal or localhost (DNS rebinding)', async (t) => {
  const { logger, lines } = captureLogger();
  const con = await startConsole({ host: '127.0.0.1', port: 0, logger, source: fakeSource(), allowedHosts: ['gw.example.net'] });
  t.after(() => con.close());
  const port = new URL(con.url).port;
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost', `[::1]:${port}`, `console.localhost:${port}`, `gw.example.net:${port}`]) assert.equal((await request(con.url, { host })).status, 200, host);
  for (const host of [`evil.example:${port}`, 'attacker.com', `localhost.evil.example:${port}`]) assert.equal((await request(con.url, { host, path: '/api/status' })).status, 403, host);
  // HTTP/1.0 without a Host header at all.
  const raw = await new Promise<string>((resolve, reject) => {
    const sock = connect(Number(port), '127.0.0.1', () => sock.end('GET /api/status HTTP/1.0\r\n\r\n'));
    let got = '';
    sock.setEncoding('utf8');
    sock.on('data', (c: string) => (got += c));
    sock.on('end', () => resolve(got));
    sock.on('error', reject);
  });
  assert.match(raw, /^HTTP\/1\.[01] 403/);
  assert.ok(lines.some((l) => l.message === 'console request refused: unexpected Host header'));
  assert.equal(hostAllowed(undefined), false);
});

test('console: refuses a non-loopback bind without TLS and sign-in', async () => {
  assert.ok(isLoopbackHost('127.0.0.1') && isLoopbackHost('::1') && isLoopbackHost('localhost') && isLoopbackHost('127.1.2.3'));
  assert.ok(!isLoopbackHost('0.0.0.0') && !isLoopbackHost('::') && !isLoopbackHost('192.168.1.10') && !isLoopbackHost('gw.example.net'));
  await assert.rejects(startConsole({ host: '0.0.0.0', port: 0, logger: nullLogger(), source: fakeSource() }), (e: unknown) => e instanceof RasgateError && e.code === 'OPTION_INVALID' && /TLS and sign-in/.test(e.message));
});

test('console: actions without sign-in are refused (403), and POST only reaches /api/actions', async (t) => {
  const con = await startConsole({ host: '127.0.0.1', port: 0, logger: nullLogger(), source: fakeSource() });
  t.after(() => con.close());
  const r = await fetch(new URL('/api/actions', con.url), { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: con.url.slice(0, -1) }, body: JSON.stringify({ action: 'hangup', target: 'c-1', confirmed: true }) });
  assert.equal(r.status, 403);
  assert.match(await r.text(), /sign-in/);
  assert.equal((await request(con.url, { method: 'GET', path: '/api/actions' })).status, 405);
  const session = (await (await fetch(new URL('/api/session', con.url))).json()) as { signIn: boolean; operator: unknown; actions: Record<string, boolean> };
  assert.equal(session.signIn, false);
  assert.equal(session.operator, null);
  assert.ok(Object.values(session.actions).every((v) => v === false));
});

test('console: at most maxClients event streams; the next gets 503', async (t) => {
  const con = await startConsole({ host: '127.0.0.1', port: 0, logger: nullLogger(), source: fakeSource(), maxClients: 2 });
  t.after(() => con.close());
  const a = await openEvents(con.url);
  const b = await openEvents(con.url);
  t.after(() => {
    a.close();
    b.close();
  });
  assert.equal(a.status, 200);
  assert.equal(b.status, 200);
  const c = await request(con.url, { path: '/events' });
  assert.equal(c.status, 503);
});

test('console: a port already in use rejects startConsole instead of crashing', async (t) => {
  const first = await startConsole({ host: '127.0.0.1', port: 0, logger: nullLogger(), source: fakeSource() });
  t.after(() => first.close());
  await assert.rejects(startConsole({ host: '127.0.0.1', port: Number(new URL(first.url).port), logger: nullLogger(), source: fakeSource() }), /EADDRINUSE/);
});
