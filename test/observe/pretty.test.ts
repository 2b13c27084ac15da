/**
 * The log as people read it: a real gateway (in this process) answers one accepted and one
 * refused call on a TCP line; the pretty lines of their records are compared with a golden
 * file (times and durations masked), and at the default level each call is a handful of records.
 * UPDATE_GOLDEN=1 rewrites the golden file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import winston from 'winston';
import { Gateway } from '../../src/gateway/daemon.js';
import { parseConfig } from '../../src/gateway/config.js';
import type { CallSummary } from '../../src/gateway/call-runner.js';
import { createLogger, prettyFormat } from '../../src/observe/logger.js';
import { prettyLine } from '../../src/observe/pretty.js';
import { SmbpasswdStore } from '../../src/authority/local/index.js';
import { ntowfv1 } from '../../src/ntlm/crypto.js';
import { waitFor } from '../helpers/net.js';
import { Caller } from '../e2e/harness.js';

const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), 'golden', 'pretty-calls.txt');

/** What changes from run to run: the clock and the durations. */
function masked(line: string): string {
  return line
    .replace(/^\d\d:\d\d:\d\d\.\d{3}/, 'HH:MM:SS.mmm')
    .replace(/ in \d+ ms/g, ' in N ms')
    .replace(/, \d+\.\d s,/g, ', N.N s,');
}

const sink = (into: string[]) => new Writable({ write(c, _e, cb) { into.push(String(c).replace(/\n$/, '')); cb(); } });

test('one accepted and one refused call, as pretty lines (golden) and as a handful of records each', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rasgate-pretty-'));
  try {
    const store = new SmbpasswdStore(join(dir, 'smbpasswd'));
    await store.update((ed) => ed.put({ name: 'alice', uid: 1000, ntHash: ntowfv1('Alice-pw-1'), hasLmHash: false, flags: new Set(['U']), lastChange: 0x5f5e1000 }));
    const loaded = parseConfig(
      `lines: [{ id: tcp0, listen: tcp://127.0.0.1:0, mode: raw }]\nauthority: { file: ./smbpasswd, domain: EXAMPLE }\ndialogue: { failureDelaysSeconds: [0], maxAttempts: 3 }\nshutdown: { grace: 1 }\n`,
      'pretty.yaml',
      dir,
    );
    assert.deepEqual(loaded.issues, []);
    const pretty: string[] = [];
    const json: string[] = [];
    // The default level (info), as the daemon runs.
    const logger = createLogger({
      noStdout: true,
      transports: [new winston.transports.Stream({ stream: sink(pretty), format: prettyFormat() }), new winston.transports.Stream({ stream: sink(json) })],
    });
    const summaries: CallSummary[] = [];
    const gw = new Gateway({ loaded: { config: loaded.config!, source: 'pretty.yaml', baseDir: dir }, logger, onCallEnd: (s) => summaries.push(s) });
    await gw.start();
    const port = gw.port('tcp0')!;
    try {
      const ok = new Caller(port);
      await ok.login('alice', 'Alice-pw-1');
      await ok.waitClosed();
      await waitFor(() => summaries.length === 1, 'first call over');
      const bad = new Caller(port);
      // The n-th prompt of each kind (a prompt may arrive in one piece with the refusal before it).
      const nth = (word: string, n: number) => new RegExp(`(?:[\\s\\S]*?${word}: ){${n}}`);
      for (const [i, password] of ['guess-1', 'guess-2', 'guess-3'].entries()) {
        await bad.expect(nth('login', i + 1));
        bad.type('alice\r');
        await bad.expect(nth('Password', i + 1));
        bad.type(`${password}\r`);
      }
      await bad.waitClosed();
      await waitFor(() => summaries.length === 2, 'second call over');
    } finally {
      await gw.stop();
    }
    assert.deepEqual(summaries.map((s) => s.outcome), ['accepted', 'bad-credentials']);

    // At most about six records per call at the default level: connected, each attempt, the summary.
    const records = json.map((l) => JSON.parse(l) as Record<string, unknown>);
    const perCall = new Map<string, number>();
    for (const r of records) if (typeof r.call === 'string') perCall.set(r.call, (perCall.get(r.call) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries(perCall), { 'tcp0-1': 3, 'tcp0-2': 5 });
    assert.ok(!records.some((r) => r.message === 'transition'), 'no transition at info by default');

    const lines = pretty.filter((l) => / tcp0-\d /.test(l)).map(masked);
    const text = `${lines.join('\n')}\n`;
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, text);
    assert.equal(text, readFileSync(GOLDEN, 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a pretty line is one line, with nothing a terminal would obey', () => {
  const line = prettyLine({ level: 'warn', message: 'credentials refused', timestamp: '2026-01-01T00:00:00.000Z', line: 'tcp0', call: 'tcp0-1', user: 'evil\x1b[2J\r\nFAKE\x07', ms: 3, rasError: 691 });
  // eslint-disable-next-line no-control-regex
  assert.doesNotMatch(line, /[\x00-\x1f\x7f-\x9f]/);
  assert.match(line, /tcp0-1 +evil\\x1b\[2J FAKE\\x07 refused: wrong user name or password \(raserror 691\) in 3 ms$/);
  const other = prettyLine({ level: 'info', message: 'device open', timestamp: 'x', line: 'dev0', area: 'line', device: '/dev/ttyS0', stack: 'a\nb' });
  assert.match(other, / dev0 +device open device=\/dev\/ttyS0 stack="a\\nb"$/);
});
