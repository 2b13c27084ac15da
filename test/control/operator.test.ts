/**
 * The operator's command line against a running daemon (the real `rasgate serve` in a child
 * process) with a TCP line and a simulated-modem line: status, line disable/enable (kept across
 * a restart), hangup, auth test, the control socket's modes and its hostile requests, and
 * /metrics as Prometheus' own promtool reads it.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { waitFor } from '../helpers/net.js';
import { needs, toolPath } from '../helpers/tools.js';
import { rasgateArgv } from '../helpers/cli.js';
import { Caller, startGateway, tempDir, type Gateway } from '../e2e/harness.js';

const tmp = tempDir('rasgate-ops-');
after(() => tmp.remove());

/** `rasgate ARGS` without blocking this process (the echo server and callers live here). */
function rasgate(args: string[], input?: string): Promise<{ code: number | null; out: string; err: string }> {
  const [program, ...rest] = rasgateArgv(args);
  const child = spawn(program!, rest, { env: { ...process.env, RASGATE_CONFIG: '' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  child.stdin.end(input ?? '');
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, out, err })));
}

interface Status {
  lines: Array<{ id: string; kind: string; state: string; activeCalls: number; outOfService?: { by: string; reason?: string } }>;
  calls: Array<{ call: string; line: string; user?: string; domain?: string; peer?: string; phase: string; startedAt: string; bytesIn: number; bytesOut: number }>;
  lockouts: number;
  penalties: number;
}

async function status(config: string): Promise<Status> {
  const r = await rasgate(['status', '--json', '--config', config]);
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out) as Status;
}

function echoServer(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer((s) => {
      s.on('error', () => undefined);
      s.pipe(s);
    });
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

async function metricsText(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** The value of one series (`name{labels}` exactly as exposed), or 0 when absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/** Every label value of every sample. */
function labelValues(text: string): string[] {
  const values: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.includes('{')) continue;
    const labels = line.slice(line.indexOf('{') + 1, line.lastIndexOf('}'));
    for (const m of labels.matchAll(/\w+="((?:[^"\\]|\\.)*)"/g)) values.push(m[1]!);
  }
  return values;
}

/**
 * promtool parses the whole exposition (exit 1 on a format error) and lints it (exit 3 with
 * its notes): our own series must pass the lint too; prom-client's process series
 * (nodejs_active_handles_total is a gauge) draw notes that are not ours to fix.
 */
function promtoolCheck(text: string): void {
  const check = (input: string) => spawnSync(toolPath('promtool'), ['check', 'metrics'], { input, encoding: 'utf8' });
  const all = check(text);
  const notes = `${all.stdout}${all.stderr}`;
  assert.ok(all.status === 0 || all.status === 3, `promtool check metrics (${all.status}):\n${notes}`);
  assert.doesNotMatch(notes, /rasgate_|error/i, notes);
  const ours = text.split('\n').filter((l) => /^(# (HELP|TYPE) )?rasgate_/.test(l)).join('\n');
  const own = check(`${ours}\n`);
  assert.equal(own.status, 0, `promtool check metrics on the rasgate_ series:\n${own.stdout}${own.stderr}`);
}

/** The daemon, once its control socket listens (it opens after the lines). */
async function started(yaml: string, o: Parameters<typeof startGateway>[1]): Promise<Gateway> {
  const gw = await startGateway(yaml, o);
  await gw.waitLog((l) => l.message === 'control socket listening', 'control socket');
  return gw;
}

const isDone = (line: string, outcome?: string) => (l: Record<string, unknown>) => l.message === 'call summary' && l.line === line && (outcome === undefined || l.outcome === outcome);

test('status, line out of service across a restart, hangup, auth test, /metrics', { skip: needs('promtool') }, async () => {
  const echo = await echoServer();
  after(() => echo.server.close());
  const dir = join(tmp.dir, 'ops');
  const yaml = [
    'lines:',
    `  - { id: tcp0, listen: tcp://127.0.0.1:0, mode: raw, action: { bridge: tcp://127.0.0.1:${echo.port} } }`,
    `  - { id: sim0, device: "sim://ops-e2e?far=tcp://127.0.0.1:0", modem: { callerId: AT+VCID=1 } }`,
    'authority: { type: local, file: ./smbpasswd, domain: RASGATE }',
    'dialogue: { failureDelaysSeconds: [0], maxAttempts: 1 }',
    // The line machine's transitions (debug) show a modem line that rings unanswered.
    'log: { modules: { line: debug } }',
    'metrics: { listen: tcp://127.0.0.1:0 }',
    'shutdown: { grace: 1 }',
    '',
  ].join('\n');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dir);
  let gw: Gateway = await started(yaml, { dir, users: [['alice', 'Alice-pw-1']] });
  const config = gw.config;
  // Ports the kernel gave (read again after the restart).
  let tcp = gw.port('tcp0');
  let far = gw.port('sim0');
  const metricsPort = async (g: Gateway) => Number(/:(\d+)/.exec(String((await g.waitLog((l) => l.message === 'metrics listening', 'metrics listening')).url).replace(/^http:\/\//, ''))?.[1]);
  let metrics = await metricsPort(gw);
  try {
    // The socket: group read-write; the state directory: the group may traverse it.
    const sock = join(dir, 'var', 'control.sock');
    assert.equal(statSync(sock).mode & 0o777, 0o660);
    assert.equal(statSync(join(dir, 'var')).mode & 0o777, 0o710);

    const first = await status(config);
    assert.deepEqual(first.lines.map((l) => [l.id, l.kind, l.state]), [['tcp0', 'tcp', 'idle'], ['sim0', 'sim', 'idle']]);
    assert.deepEqual(first.calls, []);
    assert.equal(first.lockouts, 0);

    const before = await metricsText(metrics);
    promtoolCheck(before);

    // A call in session (bridged to the echo server): status shows who, from where, bytes.
    const c = new Caller(tcp);
    await c.login('alice', 'Alice-pw-1');
    const session = await waitFor(async () => (await status(config)).calls.find((x) => x.phase === 'session'), 'a call in session', 15_000);
    assert.equal(session.line, 'tcp0');
    assert.equal(session.user, 'alice');
    assert.equal(session.domain, 'RASGATE');
    assert.equal(session.peer, '127.0.0.1');
    assert.ok(session.bytesIn > 0 && session.bytesOut > 0);
    assert.ok(!Number.isNaN(Date.parse(session.startedAt)));
    const table = await rasgate(['status', '--config', config]);
    assert.equal(table.code, 0, table.err);
    assert.match(table.out, new RegExp(`${session.call}\\s+tcp0\\s+RASGATE\\\\alice\\s+127\\.0\\.0\\.1`));

    // hangup CALL: the caller is cut and the log names the operator. A session keeps its
    // outcome (accepted: the login was), with the operator as what ended it.
    const h = await rasgate(['hangup', session.call, '--config', config]);
    assert.equal(h.code, 0, h.err);
    assert.match(h.out, /hung up \(accepted\)/);
    await c.waitClosed();
    const ended = await gw.waitLog(isDone('tcp0', 'accepted'), 'session summary');
    assert.match(String(ended.detail), /operator/);
    const who = await gw.waitLog((l) => l.message === 'operator: hanging up a call', 'operator record');
    assert.equal(who.call, session.call);
    // A call still in the login dialogue ends as operator-hangup.
    const dialling = new Caller(tcp);
    await dialling.expect(/login: $/);
    const inLogin = await waitFor(async () => (await status(config)).calls.find((x) => x.phase === 'login'), 'a call logging in', 15_000);
    const h2 = await rasgate(['hangup', inLogin.call, '--config', config]);
    assert.match(h2.out, /hung up \(operator-hangup\)/);
    await dialling.waitClosed();
    await gw.waitLog(isDone('tcp0', 'operator-hangup'), 'operator-hangup summary');
    assert.equal(typeof who.operator, 'string');
    assert.notEqual(who.operator, 'unknown');
    const none = await rasgate(['hangup', 'tcp0-999', '--config', config]);
    assert.equal(none.code, 1);
    assert.match(none.err, /no call "tcp0-999"/);

    // auth test: the outcome kind and the raserror, exit 0 only when accepted.
    const ok = await rasgate(['auth', 'test', 'alice', '--password-stdin', '--config', config], 'Alice-pw-1\n');
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /^accepted: RASGATE\\alice \(raserror 0\)/);
    const bad = await rasgate(['auth', 'test', 'RASGATE\\alice', '--password-stdin', '--config', config], 'wrong\n');
    assert.equal(bad.code, 1);
    assert.match(bad.out, /^bad-credentials: RASGATE\\alice \(raserror 691 ERROR_AUTHENTICATION_FAILURE\)/);
    assert.ok(!gw.stdout.some((l) => l.includes('Alice-pw-1') || l.includes('"wrong"')), 'no password in the log');

    // A refused call moves the counters too.
    const r = new Caller(tcp);
    await r.login('alice', 'nope');
    await r.waitClosed();
    await gw.waitLog(isDone('tcp0', 'bad-credentials'), 'refused summary');

    const afterCalls = await metricsText(metrics);
    promtoolCheck(afterCalls);
    assert.equal(sample(afterCalls, 'rasgate_calls_total{line="tcp0",outcome="operator-hangup"}') - sample(before, 'rasgate_calls_total{line="tcp0",outcome="operator-hangup"}'), 1);
    assert.equal(sample(afterCalls, 'rasgate_calls_total{line="tcp0",outcome="accepted"}') - sample(before, 'rasgate_calls_total{line="tcp0",outcome="accepted"}'), 1);
    assert.equal(sample(afterCalls, 'rasgate_calls_total{line="tcp0",outcome="bad-credentials"}') - sample(before, 'rasgate_calls_total{line="tcp0",outcome="bad-credentials"}'), 1);
    assert.ok(sample(afterCalls, 'rasgate_ntlm_results_total{status="SEC_E_LOGON_DENIED"}') >= 1); // the refused call (auth tests are not logins)
    assert.ok(sample(afterCalls, 'rasgate_login_duration_seconds_count{outcome="accepted"}') >= 1);
    assert.ok(sample(afterCalls, 'rasgate_authority_requests_total{server="local",result="ok"}') >= 2);
    assert.equal(sample(afterCalls, 'rasgate_calls_active{line="tcp0"}'), 0);
    assert.equal(sample(afterCalls, 'rasgate_lines{state="idle"}'), 2);
    assert.ok(sample(afterCalls, 'process_cpu_seconds_total') > 0, 'process metrics');

    // line disable: a TCP caller hears one line and is closed; a modem line rings unanswered.
    const off = await rasgate(['line', 'disable', 'tcp0', '--reason', 'modem swap', '--config', config]);
    assert.equal(off.code, 0, off.err);
    assert.match(off.out, /line tcp0: out of service/);
    assert.equal((await rasgate(['line', 'disable', 'sim0', '--config', config])).code, 0);
    const again = await rasgate(['line', 'disable', 'tcp0', '--config', config]);
    assert.match(again.out, /already out of service/);
    const unknown = await rasgate(['line', 'disable', 'tcp9', '--config', config]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /no line "tcp9"/);
    const refused = new Caller(tcp);
    await refused.expect(/This line is out of service, please try again later\.\r\n/);
    await refused.waitClosed();
    assert.doesNotMatch(refused.text, /login:/);
    const ringing = new Caller(far);
    await ringing.ready;
    ringing.type('DIAL 5551234 PRIVATE\r');
    await gw.waitLog((l) => l.message === 'transition' && l.line === 'sim0' && typeof l.to === 'string' && l.to.includes('ringing.ignoring'), 'sim0 rings unanswered');
    ringing.close();

    const down = await status(config);
    assert.deepEqual(down.lines.map((l) => [l.id, l.outOfService?.reason ?? null]), [['tcp0', 'modem swap'], ['sim0', null]]);
    const health = await fetch(`http://127.0.0.1:${metrics}/healthz`);
    assert.equal(health.status, 200);
    assert.match(await health.text(), /^ok\n/); // out of service is not down
    const disabled = await metricsText(metrics);
    assert.equal(sample(disabled, 'rasgate_lines{state="disabled"}'), 2);

    // No label carries a user name, a caller ID or an address.
    for (const text of [before, afterCalls, disabled]) {
      const values = labelValues(text);
      for (const secret of ['alice', 'RASGATE\\\\alice', '5551234', 'PRIVATE', '127.0.0.1']) assert.ok(!values.some((v) => v.includes(secret)), `a label carries ${secret}: ${values.join(', ')}`);
    }

    // Out of service survives a restart.
    assert.equal((await gw.stop()).code, 0, gw.stderr.join('\n'));
    gw = await started(yaml, { dir });
    tcp = gw.port('tcp0');
    far = gw.port('sim0');
    metrics = await metricsPort(gw);
    const restarted = await status(config);
    assert.deepEqual(restarted.lines.map((l) => [l.id, Boolean(l.outOfService), l.outOfService?.by !== undefined]), [['tcp0', true, true], ['sim0', true, true]]);
    const stillOff = new Caller(tcp);
    await stillOff.expect(/out of service/);
    await stillOff.waitClosed();

    // enable: both answer again.
    assert.equal((await rasgate(['line', 'enable', 'tcp0', '--config', config])).code, 0);
    assert.equal((await rasgate(['line', 'enable', 'sim0', '--config', config])).code, 0);
    const back = new Caller(tcp);
    await back.expect(/login: $/);
    back.close();
    const modem = new Caller(far);
    await modem.ready;
    modem.type('DIAL 5551234 PRIVATE\r');
    await modem.expect(/login: $/, 30_000);
    modem.close();
    await gw.waitLog(isDone('sim0'), 'sim0 call summary');
    const enabled = gw.logs.filter((l) => l.message === 'operator: line back in service');
    assert.deepEqual(enabled.map((l) => l.line), ['tcp0', 'sim0']);
  } finally {
    assert.equal((await gw.stop()).code, 0, gw.stderr.join('\n'));
  }
});

/** One raw exchange on the control socket: what was written, every line answered. */
function raw(path: string, bytes: string | Buffer): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (text += d));
    s.once('error', reject);
    s.once('connect', () => {
      s.write(bytes);
      setImmediate(() => s.end());
    });
    s.once('close', () => resolve(text.split('\n').filter(Boolean)));
  });
}

test('the control socket refuses nonsense and oversize requests, and the daemon carries on', async () => {
  const dir = join(tmp.dir, 'hostile');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dir);
  const gw = await started(`lines: [{ id: tcp0, listen: tcp://127.0.0.1:0, mode: raw }]\nauthority: { file: ./smbpasswd }\nshutdown: { grace: 1 }\n`, { dir });
  const tcp = gw.port('tcp0');
  try {
    const path = join(dir, 'var', 'control.sock');
    const answers = await raw(path, 'not json\n{"op":"format-disk"}\n[1]\n{"op":"line-disable","line":42}\n{"op":"status","operator":"x\\u001b[2J"}\n');
    assert.equal(answers.length, 5);
    const parsed = answers.map((a) => JSON.parse(a) as { ok: boolean; error?: { code: string } });
    assert.deepEqual(parsed.map((p) => p.ok), [false, false, false, false, true]);
    assert.ok(parsed.slice(0, 4).every((p) => p.error?.code === 'BAD_REQUEST'));
    const big = await raw(path, Buffer.alloc(200 * 1024, 0x61));
    assert.equal(big.length, 1);
    assert.equal((JSON.parse(big[0]!) as { error: { code: string } }).error.code, 'REQUEST_TOO_LONG');
    // Still serving, and the operator's name reached the log without its escape sequence.
    const st = await rasgate(['status', '--json', '--config', gw.config]);
    assert.equal(st.code, 0, st.err);
    const c = new Caller(tcp);
    await c.expect(/login: $/);
    c.close();
    const [disabled] = await raw(path, '{"op":"line-disable","line":"tcp0","operator":"x\\u001b[2J"}\n');
    assert.equal((JSON.parse(disabled!) as { ok: boolean }).ok, true);
    const record = await gw.waitLog((l) => l.message === 'operator: line taken out of service', 'operator record');
    assert.equal(record.operator, 'x?[2J');
    const r = await rasgate(['line', 'enable', 'tcp0', '--socket', path]);
    assert.equal(r.code, 0, r.err);
  } finally {
    assert.equal((await gw.stop()).code, 0, gw.stderr.join('\n'));
  }
  // No daemon: exit 3 and a sentence.
  const gone = await rasgate(['status', '--config', gw.config]);
  assert.equal(gone.code, 3);
  assert.match(gone.err, /no rasgate daemon answers on .*control\.sock/);
});
