import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { closedPort, waitFor } from '../helpers/net.js';
import { addUser, Caller, startGateway, tempDir } from './harness.js';

const tmp = tempDir();
after(() => tmp.remove());
const done = (line: string) => (l: Record<string, unknown>) => l.message === 'call summary' && l.line === line;

test('an unreachable authority is an outage: ERROR with a raserror code, "try later", logged at error', async () => {
  const closed = await closedPort();
  const gw = await startGateway(`lines: [{ id: tcp0, listen: tcp://127.0.0.1:0, mode: raw }]\nauthority: { type: ldap, servers: [ldap://127.0.0.1:${closed}], connectTimeoutMs: 1000 }\nshutdown: { grace: 1 }\n`, { dir: tempDir().dir });
  try {
    const c = new Caller(gw.port('tcp0'));
    await c.login('dave', 'whatever');
    await c.expect(/Service unavailable, please try again later/);
    await c.waitClosed();
    const s = await gw.waitLog(done('tcp0'), 'summary');
    assert.equal(s.outcome, 'outage');
    assert.equal(s.level, 'error');
    assert.equal(s.rasError, 1311);
    assert.ok(gw.logs.some((l) => l.message === 'authority unavailable' && l.level === 'error'));
    assert.ok(!c.text.includes('Login incorrect'));
  } finally {
    assert.equal((await gw.stop()).code, 0);
  }
});

test('SIGTERM: stop answering; a session ends at once, a dialogue after the grace; every caller hears why; exit 0', async () => {
  const svc = createServer((s) => s.pipe(s));
  const held = new Set<Socket>();
  svc.on('connection', (s) => held.add(s));
  await new Promise<void>((r) => svc.listen(0, '127.0.0.1', () => r()));
  const gw = await startGateway(
    `lines:\n  - { id: tcp0, listen: tcp://127.0.0.1:0, mode: raw }\n  - { id: tcp1, listen: tcp://127.0.0.1:0, mode: raw, action: { bridge: tcp://127.0.0.1:${(svc.address() as { port: number }).port} } }\nauthority: { file: ./term-smbpasswd }\nshutdown: { grace: 2 }\n`,
    { dir: tmp.dir, name: 'term.yaml', users: [['erin', 'Erin-pw-9']] },
  );
  const goingDown = /The service is going down, please call again later\./;
  try {
    const [port, bport] = [gw.port('tcp0'), gw.port('tcp1')];
    const session = new Caller(bport);
    await session.login('erin', 'Erin-pw-9');
    await waitFor(() => held.size === 1, 'bridge up');
    const dialling = new Caller(port);
    await dialling.expect(/login: $/);
    dialling.type('erin\r');
    await dialling.expect(/Password: $/);
    const finishing = new Caller(bport);
    await finishing.expect(/login: $/);
    finishing.type('erin\r');
    await finishing.expect(/Password: $/);
    const t0 = Date.now();
    gw.signal('SIGTERM');
    await session.waitClosed(3000); // the bridge session is ended at once, and told why
    assert.match(session.text, goingDown);
    finishing.type('Erin-pw-9\r'); // a login completed during the grace: refused for the shutdown, no bridge
    await finishing.waitClosed(3000);
    assert.match(finishing.text, goingDown);
    assert.ok(!finishing.text.includes('Login accepted'));
    assert.equal(held.size, 1, 'no bridge was opened during the shutdown');
    await gw.waitLog((l) => l.message === 'shutting down: not answering; dialogues in progress may finish', 'shutdown start');
    await assert.rejects(new Caller(port).ready, /ECONNREFUSED/); // not answering any more
    await dialling.waitClosed(6000);
    assert.ok(Date.now() - t0 >= 1500, 'the dialogue got its grace period');
    assert.match(dialling.text, goingDown, 'the caller still in the dialogue hears why the line drops');
    const r = await gw.exited;
    assert.equal(r.code, 0);
    const summaries = gw.logs.filter((l) => l.message === 'call summary');
    assert.ok(summaries.some((l) => l.line === 'tcp0' && l.outcome === 'shutdown'), 'the dialogue cut by the grace');
    assert.ok(summaries.some((l) => l.line === 'tcp1' && l.outcome === 'shutdown' && l.user === 'erin'), 'the login refused for the shutdown');
    assert.ok(!summaries.some((l) => l.outcome === 'accepted' && l.call !== 'tcp1-1'), 'no login during the shutdown counts as accepted');
  } finally {
    await gw.stop();
    for (const s of held) s.destroy();
    svc.close();
  }
});

test('SIGHUP: a new account in the store logs in; an established bridge call is not dropped', async () => {
  const svc = createServer((s) => s.pipe(s));
  const conns = new Set<Socket>();
  svc.on('connection', (s) => {
    conns.add(s);
    s.on('close', () => conns.delete(s));
  });
  await new Promise<void>((r) => svc.listen(0, '127.0.0.1', () => r()));
  const gw = await startGateway(
    `lines: [{ id: tcp0, listen: tcp://127.0.0.1:0, mode: raw, action: { bridge: tcp://127.0.0.1:${(svc.address() as { port: number }).port} } }]\nauthority: { file: ./hup-smbpasswd }\ndialogue: { failureDelaysSeconds: [0], maxAttempts: 1 }\nshutdown: { grace: 1 }\n`,
    { dir: tmp.dir, name: 'hup.yaml', users: [['frank', 'Frank-pw-2']] },
  );
  try {
    const established = new Caller(gw.port('tcp0'));
    await established.login('frank', 'Frank-pw-2');
    await waitFor(() => conns.size === 1, 'bridge up');
    established.type('before\r');
    await established.expect(/before\r/);
    addUser(gw.config, 'grace', 'Grace-pw-3');
    gw.signal('SIGHUP');
    await gw.waitLog((l) => l.message === 'configuration reloaded', 'reload');
    const fresh = new Caller(gw.port('tcp0')); // where the line listens after the reload
    await fresh.login('grace', 'Grace-pw-3');
    fresh.type('new user here\r');
    await fresh.expect(/new user here\r/);
    established.type('after\r');
    await established.expect(/after\r/);
    assert.equal(established.closed, false);
    fresh.close();
    established.close();
  } finally {
    const r = await gw.stop();
    assert.equal(r.code, 0, `${gw.stdout.slice(-6).join('\n')}\n${gw.stderr.join('\n')}`);
    for (const s of conns) s.destroy();
    svc.close();
  }
});

test('SIGHUP with an invalid file keeps the running configuration', async () => {
  const gw = await startGateway(`lines: [{ id: tcp0, listen: tcp://127.0.0.1:0, mode: raw }]\nauthority: { file: ./bad-smbpasswd }\n`, { dir: tmp.dir, name: 'bad.yaml' });
  try {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(gw.config, 'lines: [{ listen: "tcp:/oops" }]\n');
    gw.signal('SIGHUP');
    const l = await gw.waitLog((x) => String(x.message).startsWith('reload refused'), 'reload refused');
    assert.match(JSON.stringify(l.issues), /lines\[0\]\.listen/);
    const c = new Caller(gw.port('tcp0'));
    await c.expect(/login: $/);
    c.close();
  } finally {
    await gw.stop();
  }
});

test('a caller through the simulated modem (far side over TCP) logs in; caller ID in the summary', async () => {
  const gw = await startGateway(`lines: [{ id: sim0, device: "sim://e2e?far=tcp://127.0.0.1:0", modem: { answerOnRing: 2, callerId: AT+VCID=1 } }]\nauthority: { file: ./sim-smbpasswd }\nshutdown: { grace: 1 }\n`, { dir: tmp.dir, name: 'sim.yaml', users: [['heidi', 'Heidi-pw-4']] });
  try {
    const c = new Caller(gw.port('sim0'));
    await c.ready;
    c.type('DIAL 5551234 HEIDI\r');
    await c.login('heidi', 'Heidi-pw-4');
    await c.waitClosed(15_000);
    const s = await gw.waitLog(done('sim0'), 'sim summary');
    assert.equal(s.outcome, 'accepted');
    assert.equal(s.user, 'heidi');
    assert.equal(s.peer, '5551234');
  } finally {
    assert.equal((await gw.stop()).code, 0);
  }
});

test('serve refuses an invalid configuration with every problem listed', async () => {
  const gw = await startGateway('lines:\n  - listen: "tcp:/127.0.0.1:2323"\n    mdoe: raw\n', { dir: tmp.dir, name: 'invalid.yaml', waitStarted: false });
  const r = await gw.exited;
  assert.equal(r.code, 1);
  const err = gw.stderr.join('\n');
  assert.match(err, /lines\[0\]\.listen: "tcp:\/127\.0\.0\.1:2323" is not tcp:\/\/HOST:PORT \(hint: tcp:\/\/127\.0\.0\.1:2323\)/);
  assert.match(err, /lines\[0\]\.mdoe: unknown key \(hint: did you mean "mode"\?\)/);
});

test('a modem line logs its machine transitions (line id, from, to, event)', async () => {
  const gw = await startGateway(`lines: [{ id: simT, device: "sim://e2e-t?far=tcp://127.0.0.1:0" }]
authority: { file: ./simt-smbpasswd }
log: { transitions: true }
shutdown: { grace: 1 }
`, { dir: tmp.dir, name: 'simt.yaml' });
  try {
    const c = new Caller(gw.port('simT'));
    await c.ready;
    c.type('DIAL 5550000\r');
    await c.expect(/login: $/, 15_000);
    c.close();
    await gw.waitLog(done('simT'), 'summary');
    const line = gw.logs.filter((l) => l.message === 'transition' && l.machine === 'line' && l.line === 'simT');
    const text = JSON.stringify(line.map((l) => [l.from, l.to, l.event]));
    assert.match(text, /MODEM\.RING/);
    assert.match(text, /answering/);
    assert.match(text, /connected/);
    assert.ok(line.every((l) => typeof l.event === 'string' && 'from' in l && 'to' in l), text);
    // one line per transition: no (from, to) pair logged twice in a row
    for (let i = 1; i < line.length; i++) assert.notDeepEqual([line[i]!.from, line[i]!.to], [line[i - 1]!.from, line[i - 1]!.to], text);
  } finally {
    await gw.stop();
  }
});
