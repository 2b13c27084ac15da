/**
 * The audit trail: day files (UTC) 0600 in a 0700 folder, old days removed, two processes
 * appending to one file, a disk that fails (records dropped, counted, then an audit-gap
 * record), real journald (in a private mount namespace) with its own SYSLOG_IDENTIFIER, and
 * the reader's filters and table.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditTrail, auditFiles } from '../../src/audit/trail.js';
import { readAudit, parseTime } from '../../src/audit/read.js';
import { formatTable } from '../../src/audit/table.js';
import type { AuditEvent, AuditRecord } from '../../src/audit/events.js';
import { ROOT } from '../helpers/cli.js';
import { needs, toolPath } from '../helpers/tools.js';

const dir = mkdtempSync(join(tmpdir(), 'rasgate-audit-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const login = (user: string, result: 'accepted' | 'bad-credentials' = 'bad-credentials', source = '192.0.2.7'): AuditEvent => ({ event: 'login', line: 'tcp0', call: 'tcp0-1', source, user, domain: '', result });

describe('the writer', () => {
  test('one file a day (UTC), 0600 in a 0700 folder, one JSON record a line; older than maxFiles days removed', () => {
    const base = join(dir, `w${++n}`, 'audit');
    let now = new Date('2026-03-01T23:59:59.500Z');
    const trail = new AuditTrail({ file: join(base, 'audit-%DATE%.jsonl'), maxFiles: 2, now: () => now });
    trail.record(login('kim'));
    now = new Date('2026-03-02T00:00:00.100Z');
    trail.record(login('lee'));
    assert.deepEqual(readdirSync(base).sort(), ['audit-2026-03-01.jsonl', 'audit-2026-03-02.jsonl']);
    assert.equal(statSync(base).mode & 0o777, 0o700);
    assert.equal(statSync(join(base, 'audit-2026-03-02.jsonl')).mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(readFileSync(join(base, 'audit-2026-03-01.jsonl'), 'utf8')), { time: '2026-03-01T23:59:59.500Z', ...login('kim') });
    now = new Date('2026-03-03T08:00:00Z');
    trail.record(login('max'));
    assert.deepEqual(readdirSync(base).sort(), ['audit-2026-03-02.jsonl', 'audit-2026-03-03.jsonl'], 'two days kept');
    void trail.close();
  });

  test('two processes append to the same file: every line is a whole record', { timeout: 120_000 }, async () => {
    const file = join(dir, `w${++n}`, 'audit-%DATE%.jsonl');
    const script = `import { AuditTrail } from ${JSON.stringify(join(ROOT, 'src/audit/trail.ts'))};
      const t = new AuditTrail({ file: process.argv[1], now: () => new Date('2026-04-01T12:00:00Z') });
      for (let i = 0; i < 2000; i++) t.record({ event: 'login', line: 'p' + process.argv[2], call: String(i), user: 'u'.repeat(200), domain: '', result: 'bad-credentials' });`;
    const run = (id: string) =>
      new Promise<number | null>((resolve) => {
        const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, file, id], { cwd: ROOT, stdio: 'inherit' });
        p.on('exit', resolve);
      });
    assert.deepEqual(await Promise.all([run('a'), run('b')]), [0, 0]);
    const lines = readFileSync(file.replace('%DATE%', '2026-04-01'), 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 4000);
    for (const l of lines) assert.equal((JSON.parse(l) as { user: string }).user.length, 200);
  });

  test('a folder that cannot be written: records dropped and counted, then an audit-gap record, never a throw', () => {
    const base = join(dir, `w${++n}`);
    writeFileSync(base, 'a file where the folder should be');
    const trail = new AuditTrail({ file: join(base, 'audit-%DATE%.jsonl') });
    for (let i = 0; i < 3; i++) trail.record(login('kim'));
    rmSync(base);
    // The writer retries after 10 s; a new writer shows what the first one would write then.
    (trail as unknown as { retryAt: number }).retryAt = 0;
    trail.record(login('lee'));
    const recs = readFileSync(auditFiles(join(base, 'audit-%DATE%.jsonl'))[0]![1], 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as AuditRecord);
    assert.deepEqual(recs.map((r) => r.event), ['audit-gap', 'login']);
    assert.equal((recs[0] as { dropped: number }).dropped, 3);
  });

  test('journald: each record under its own SYSLOG_IDENTIFIER (real systemd-journald in a private mount namespace)', { skip: needs('root', 'unshare', '/lib/systemd/systemd-journald', 'journalctl') }, () => {
    const work = join(dir, `j${++n}`);
    mkdirSync(work);
    const writer = join(work, 'write.mjs');
    writeFileSync(writer, `import { AuditTrail } from ${JSON.stringify(join(ROOT, 'src/audit/trail.ts'))};
      const t = new AuditTrail({ journald: { identifier: 'rasgate-audit-test' } });
      t.record({ event: 'login', line: 'tcp0', call: 'tcp0-9', user: 'kim', domain: '', result: 'bad-credentials' });
      await t.close();`);
    const script = `set -e
      for d in /run/systemd/journal /var/log/journal /run/log/journal; do mkdir -p $d; mount -t tmpfs tmpfs $d; done
      /lib/systemd/systemd-journald & jp=$!
      for i in $(seq 100); do [ -S /run/systemd/journal/stdout ] && break; sleep 0.05; done
      ${JSON.stringify(process.execPath)} --import tsx ${JSON.stringify(writer)}
      for i in $(seq 100); do journalctl -t rasgate-audit-test -o json --no-pager | grep -q MESSAGE && break; sleep 0.05; done
      journalctl -t rasgate-audit-test -o json --no-pager
      kill $jp`;
    const r = spawnSync(toolPath('unshare'), ['-m', '--propagation', 'private', 'bash', '-c', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const entry = JSON.parse(r.stdout.trim().split('\n')[0]!) as { MESSAGE: string; SYSLOG_IDENTIFIER: string; PRIORITY: string };
    assert.equal(entry.SYSLOG_IDENTIFIER, 'rasgate-audit-test');
    assert.equal(entry.PRIORITY, '6');
    assert.equal((JSON.parse(entry.MESSAGE) as { user: string; call: string }).call, 'tcp0-9');
    assert.ok(!existsSync(join(work, 'audit')));
  });
});

describe('the reader', () => {
  const base = join(dir, 'r');
  const pattern = join(base, 'audit-%DATE%.jsonl');
  let clock = new Date('2026-05-01T10:00:00Z');
  const t = new AuditTrail({ file: pattern, now: () => clock });
  const at = (iso: string, e: AuditEvent) => {
    clock = new Date(iso);
    t.record(e);
  };
  at('2026-05-01T10:00:00Z', { event: 'call-start', line: 'tcp0', call: 'tcp0-1', source: '192.0.2.7' });
  at('2026-05-01T10:00:01Z', login('Kim'));
  at('2026-05-01T10:00:02Z', login('kim@example.test', 'accepted'));
  at('2026-05-02T09:00:00Z', { event: 'penalty-start', source: '2001:db8:1:2::/64', seconds: 20, until: '2026-05-02T09:00:20Z', reason: 'authfail' });
  at('2026-05-02T09:00:01Z', { event: 'login', line: 'sim0', call: 'sim0-1', source: 'tel:5551234', user: '\u001b[2Jevil', domain: '', result: 'bad-credentials' });
  at('2026-05-03T00:00:00Z', { event: 'operator', action: 'user-unlock', target: 'KIM', by: 'root', via: 'cli', sudoUser: 'alice' });
  writeFileSync(pattern.replace('%DATE%', '2026-05-03'), '{"torn":\n', { flag: 'a' });

  test('rotated files included, oldest first; a torn line is skipped and counted', () => {
    const r = readAudit(pattern);
    assert.equal(r.records.length, 6);
    assert.equal(r.files.length, 3);
    assert.equal(r.skipped, 1);
  });

  test('filters: --user (as names are counted), --line, --source (numbers, addresses inside a prefix), --result, --since/--until', () => {
    const users = (f: Parameters<typeof readAudit>[1]) => readAudit(pattern, f).records.map((r) => r.event + ':' + ((r as { user?: string; target?: string }).user ?? (r as { target?: string }).target ?? ''));
    assert.deepEqual(users({ user: 'KIM' }), ['login:Kim', 'login:kim@example.test', 'operator:KIM']);
    assert.deepEqual(users({ line: 'sim0' }), ['login:\u001b[2Jevil']);
    assert.deepEqual(users({ source: '5551234' }), ['login:\u001b[2Jevil']);
    assert.deepEqual(users({ source: '2001:db8:1:2::99' }), ['penalty-start:']);
    assert.deepEqual(users({ source: '192.0.2.0/24' }), ['call-start:', 'login:Kim', 'login:kim@example.test']);
    assert.deepEqual(users({ result: 'accepted' }), ['login:kim@example.test']);
    assert.deepEqual(users({ result: 'penalty-start' }), ['penalty-start:']);
    assert.deepEqual(users({ since: Date.parse('2026-05-02T00:00:00Z'), until: Date.parse('2026-05-02T23:59:59Z') }), ['penalty-start:', 'login:\u001b[2Jevil']);
    assert.equal(parseTime('2h', Date.parse('2026-05-02T12:00:00Z')), Date.parse('2026-05-02T10:00:00Z'));
    assert.equal(parseTime('2026-05-02'), Date.parse('2026-05-02T00:00:00Z'));
    assert.equal(parseTime('yesterday'), undefined);
  });

  test('the table escapes what callers typed (no terminal control from a user name)', () => {
    const text = formatTable(readAudit(pattern).records);
    assert.ok(!text.includes('\u001b'));
    assert.match(text, /\\x1b\[2Jevil/);
    assert.match(text, /^TIME \(UTC\)\s+EVENT\s+LINE/);
    assert.match(text, /2026-05-03 00:00:00\s+operator.*KIM.*by root \(cli, sudo from alice\)/);
  });
});
