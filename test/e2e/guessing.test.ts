/**
 * The guessing defence against the real `rasgate serve`, with real clients: Debian's telnet and
 * a raw TCP client script (test/domain/tcp-caller.mjs, its own process) guess passwords on two
 * lines. The lock holds on every line and every call, a restart keeps it, `rasgate user unlock`
 * ends it and the right password works again; a penalised address hears one line and is
 * closed, until `rasgate lockout clear --source` ends the penalty; `rasgate audit` shows it all.
 * Real time only where the real clients run; nothing asserts on how long anything took.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { needs, toolPath } from '../helpers/tools.js';
import { rasgate } from '../helpers/cli.js';
import { ROOT, startGateway, tempDir } from './harness.js';

const tmp = tempDir();
after(() => tmp.remove());

/** Debian telnet: answers the prompts, returns what it showed once the gateway hangs up. */
function telnet(port: number, user: string, password: string): Promise<string> {
  const t = spawn(toolPath('telnet'), ['127.0.0.1', String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let sent = 0;
  t.stdout.setEncoding('latin1');
  t.stdout.on('data', (d: string) => {
    out += d;
    if (sent === 0 && /login: $/.test(out)) {
      sent = 1;
      t.stdin.write(`${user}\r\n`);
    } else if (sent === 1 && /Password: $/.test(out)) {
      sent = 2;
      t.stdin.write(`${password}\r\n`);
    }
  });
  return new Promise((resolve) => {
    const timer = setTimeout(() => t.kill(), 20_000);
    t.once('exit', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

/** The raw TCP client script: everything it received. */
function rawClient(port: number, user: string, password: string): string {
  const r = spawnSync(process.execPath, [join(ROOT, 'test/domain/tcp-caller.mjs'), String(port), user, password], { encoding: 'latin1', timeout: 30_000 });
  return r.stdout;
}

const summaries = (logs: Record<string, unknown>[]) => logs.filter((l) => l.message === 'call summary');

test('lockout: across lines and calls (telnet and a raw client), kept over a restart, ended by rasgate user unlock', { skip: needs('telnet') }, async () => {
  const dir = join(tmp.dir, 'lock');
  const yaml = `lines:
  - { id: tcp0, listen: tcp://127.0.0.1:0, mode: telnet }
  - { id: tcp1, listen: tcp://127.0.0.1:0, mode: raw }
authority: { file: ./smbpasswd }
dialogue: { maxAttempts: 1, failureDelaysSeconds: [0] }
lockout: { maxDenials: 3 }
penalties: { allow: [127.0.0.1] }
shutdown: { grace: 1 }
`;
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dir);
  let gw = await startGateway(yaml, { dir, users: [['kim', 'Kim-pw-9']] });
  let [p0, p1] = [gw.port('tcp0'), gw.port('tcp1')];
  const config = gw.config;
  try {
    assert.match(await telnet(p0, 'kim', 'guess-1'), /Password: \r\nLogin incorrect\r\n/);
    assert.match(rawClient(p1, 'KIM', 'guess-2'), /Login incorrect/);
    assert.match(await telnet(p0, 'Kim', 'guess-3'), /Login incorrect/);
    // Locked now, on both lines: the right password is refused, heard as a wrong one.
    assert.match(rawClient(p1, 'kim', 'Kim-pw-9'), /Password: \r\nLogin incorrect\r\n/);
    assert.match(await telnet(p0, 'kim', 'Kim-pw-9'), /Login incorrect/);
    await gw.waitLog((l) => l.message === 'call summary' && l.outcome === 'refused-locked', 'a refused-locked call');
    const locked = summaries(gw.logs).filter((s) => s.outcome === 'refused-locked');
    assert.equal(locked.length, 2);
    assert.ok(locked.every((s) => s.rasError === 647 && s.reason === 'account-locked'));
    assert.ok(gw.logs.some((l) => l.message === 'account locked: too many bad passwords' && l.user === 'kim'));
    const list = rasgate(['lockout', 'list', '--config', config]);
    assert.equal(list.code, 0, list.err);
    assert.match(list.out, /^kim\s+3\s/m);

    // A restart keeps the lock.
    assert.equal((await gw.stop()).code, 0);
    gw = await startGateway(yaml, { dir });
    [p0, p1] = [gw.port('tcp0'), gw.port('tcp1')];
    assert.ok(gw.logs.some((l) => l.message === 'lockout state restored' && l.locked === 1));
    assert.match(rawClient(p1, 'kim', 'Kim-pw-9'), /Login incorrect/);

    // rasgate user unlock ends it in the running daemon; the right password works again.
    const unlock = rasgate(['user', 'unlock', 'kim', '--config', config]);
    assert.equal(unlock.code, 0, unlock.err);
    assert.match(unlock.out, /ended the lockout of kim/);
    await gw.waitLog((l) => l.message === 'account lock ended' && l.why === 'cleared', 'the daemon applies the clear');
    assert.match(await telnet(p0, 'kim', 'Kim-pw-9'), /Login accepted/);
    assert.match(rawClient(p1, 'kim', 'Kim-pw-9'), /Login accepted/);

    // The audit trail tells the story; the guessed passwords are nowhere in it.
    const audit = rasgate(['audit', '--user', 'kim', '--json', '--config', config]);
    assert.equal(audit.code, 0, audit.err);
    const records = audit.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const story = records.map((r) => (r.event === 'login' ? `login:${r.result}` : r.event === 'operator' ? `operator:${r.action}` : `${r.event}`));
    const told = story.filter((e) => e !== 'call-end' && e !== 'operator:user-add');
    const cleared = told.slice(7, 9).sort();
    assert.deepEqual([...told.slice(0, 7), ...cleared, ...told.slice(9)], [
      'login:bad-credentials',
      'login:bad-credentials',
      'login:bad-credentials',
      'lockout-start',
      'login:refused-locked',
      'login:refused-locked',
      'login:refused-locked',
      // The CLI's record and the daemon's (within a second) may come in either order.
      'lockout-end',
      'operator:user-unlock',
      'login:accepted',
      'login:accepted',
    ]);
    const all = rasgate(['audit', '--config', config]);
    for (const secret of ['guess-1', 'guess-2', 'guess-3', 'Kim-pw-9']) assert.ok(!all.out.includes(secret) && !audit.out.includes(secret), secret);
    assert.match(all.out, /lockout-start\s.*kim.*denials 3/);
  } finally {
    assert.equal((await gw.stop()).code, 0);
  }
});

test('penalties: a penalised address hears one line and is closed, until rasgate lockout clear --source', async () => {
  const dir = join(tmp.dir, 'penalty');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dir);
  const yaml = `lines: [{ id: tcp0, listen: tcp://127.0.0.1:0, mode: raw }]
authority: { file: ./smbpasswd }
dialogue: { maxAttempts: 1, failureDelaysSeconds: [0] }
lockout: { maxDenials: 0 }
shutdown: { grace: 1 }
`;
  const gw = await startGateway(yaml, { dir, users: [['lee', 'Lee-pw-2']] });
  const port = gw.port('tcp0');
  try {
    // 5 s a refused login, active past 15 s: the 4th refusal within 5 s of the 1st makes it.
    for (let i = 0; i < 4; i++) assert.match(rawClient(port, 'lee', `wrong-${i}`), /Login incorrect/);
    await gw.waitLog((l) => l.message === 'source penalised: refused at once until the penalty ends', 'the penalty');
    const refused = rawClient(port, 'lee', 'Lee-pw-2');
    assert.equal(refused, '\r\nToo many failed logins: try again later\r\n', 'one line, no dialogue');
    const list = rasgate(['lockout', 'list', '--config', gw.config]);
    assert.match(list.out, /^127\.0\.0\.1\s+\S+ \S+\s+authfail$/m);
    const clear = rasgate(['lockout', 'clear', '--source', '127.0.0.1', '--config', gw.config]);
    assert.equal(clear.code, 0, clear.err);
    await gw.waitLog((l) => l.message === 'source penalty ended' && l.why === 'cleared', 'the clear applied');
    assert.match(rawClient(port, 'lee', 'Lee-pw-2'), /Login accepted/);
    const audit = rasgate(['audit', '--source', '127.0.0.1', '--config', gw.config]);
    assert.match(audit.out, /penalty-start/);
    assert.match(audit.out, /refused\s+tcp0\s+127\.0\.0\.1\s+refused-penalty\s+count 1/);
    assert.match(audit.out, /penalty-end.*why cleared, by root \(cli/);
  } finally {
    assert.equal((await gw.stop()).code, 0);
  }
});
