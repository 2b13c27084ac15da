import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startConsole } from '../../src/observe/console/index.js';
import { nullLogger } from '../../src/observe/logger.js';
import { needs } from '../helpers/tools.js';
import { fakeSource, liveCall, SECRET } from './harness.js';

/** Where the screenshot goes (look at it when changing the page). */
export const SCREENSHOT = '/tmp/rasgate-console.png';

test('console in a real browser: lines table, then a live transition highlighted without reload', { skip: needs('chromium'), timeout: 30_000 }, async (t) => {
  const source = fakeSource();
  const con = await startConsole({ host: '127.0.0.1', port: 0, logger: nullLogger(), source, coalesceMs: 20, pollMs: 100 });
  t.after(() => con.close());
  const call = liveCall(con.observer, 'c-0042');
  t.after(() => call.actor.stop());

  const profile = mkdtempSync(join(tmpdir(), 'rasgate-chromium-'));
  const removeProfile = () => rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1280, height: 900 },
    timeout: 10_000,
  }).catch((err: unknown) => {
    removeProfile();
    throw err;
  });
  // One hook, in order: chromium keeps writing its profile until it has closed.
  t.after(async () => {
    await browser.close();
    removeProfile();
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  page.setDefaultTimeout(5_000);
  const origin = new URL(con.url).origin;
  const elsewhere: string[] = [];
  const problems: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(origin)) elsewhere.push(r.url());
  });
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));

  await page.goto(con.url);
  await page.locator('#lines tbody tr', { hasText: 'tcp1' }).waitFor();
  assert.equal(await page.locator('#lines tbody tr').count(), 2);
  await page.locator('#conn.on').waitFor();
  await page.locator('#recent tbody tr', { hasText: 'alice' }).waitFor();

  // The live actor is in call.securing: highlighted with its count.
  const securing = page.locator('[data-state="call.securing"]');
  await page.locator('[data-state="call.securing"].active').waitFor();
  assert.equal(await securing.locator(':scope > .head > .badge').textContent(), '1');

  // Drive it in this process: the page follows without reload.
  call.login();
  await page.locator('[data-state="call.executing"].active').waitFor();
  assert.equal(await page.locator('[data-state="call.executing"] > .head > .badge').textContent(), '1');
  assert.equal(await securing.evaluate((e) => e.classList.contains('active')), false);
  await page.locator('#actors tbody tr', { hasText: 'c-0042' }).waitFor();

  // A line changes state: the table follows too.
  source.lines[1] = { id: 'modem0', state: 'connected', activeCalls: 1 };
  await page.locator('#lines tbody tr', { hasText: 'connected' }).waitFor();

  await page.screenshot({ path: SCREENSHOT, fullPage: false });
  await page.locator('#charts-panel').screenshot({ path: SCREENSHOT.replace('.png', '-charts.png') });
  await page.locator('[data-machine="call"]').screenshot({ path: SCREENSHOT.replace('.png', '-call.png') });

  const text = await page.content();
  assert.ok(!text.includes(SECRET), 'the password is not on the page');
  assert.deepEqual(elsewhere, [], 'nothing fetched from anywhere else');
  assert.deepEqual(problems, [], 'no script errors, no CSP violations');
});
