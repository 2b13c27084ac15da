/**
 * `rasgate user add|passwd` writers killed with SIGKILL while they work, round after round:
 * at a random moment of their run, a random moment after they took the lock (their pid is in
 * it), or the moment their temp file appears (its name carries the pid). Afterwards the store parses whole, holds every
 * account whose add reported success, the next write removes what the dead left behind, and
 * no writer that was left alone failed or waited forever on a lock a dead one left.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, readdirSync, mkdirSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { prng } from '../helpers/prng.js';
import { rasgate, spawnRasgate } from '../helpers/cli.js';
import { parseSmbpasswd, formatLine } from '../../src/authority/local/index.js';
import { ntowfv1 } from '../../src/ntlm/crypto.js';

const SEED = Number(process.env.RASGATE_TEST_SEED ?? 0x5eed_c0de);
const ROUNDS = 50;
/** Accounts already in the store, so that each write has some work in it. */
const PREFILLED = 1500;
/** A writer that is not killed and has not ended by then is stuck (the lock gives up after 10 s). */
const STUCK_MS = 90_000;

const dir = mkdtempSync(join(tmpdir(), 'rasgate-user-kill-'));
after(() => rmSync(dir, { recursive: true, force: true }));

type KillPlan = { kind: 'none' } | { kind: 'after'; ms: number } | { kind: 'locked'; ms: number } | { kind: 'writing' };

interface Writer {
  args: string[];
  password: string;
  plan: KillPlan;
  child: ChildProcess;
  killed: boolean;
  aimed: boolean;
  done: Promise<{ code: number | null; out: string; err: string }>;
}

test(`SIGKILLed writers never cost an account, leave no temp file behind, never block a later writer (seed ${SEED})`, { timeout: 900_000 }, async (t) => {
  const folder = join(dir, 'store');
  mkdirSync(folder, { mode: 0o700 });
  const store = join(folder, 'smbpasswd');
  const config = join(dir, 'rasgate.yaml');
  writeFileSync(config, `lines:\n  - listen: tcp://127.0.0.1:2323\nauthority:\n  type: local\n  file: ${store}\n`);
  const filler = Array.from({ length: PREFILLED }, (_, i) => formatLine({ name: `f${i}`, uid: 5000 + i, ntHash: ntowfv1(`f${i}`), hasLmHash: false, flags: new Set(['U']), lastChange: 0x5f5e1000 }) + '\n');
  writeFileSync(store, filler.join(''), { mode: 0o600 });
  const setup = rasgate(['user', 'add', 'pat', '--password-stdin', '--config', config], 'pw-start\n');
  assert.equal(setup.code, 0, setup.err);

  // How long one writer takes here, to spread the timed kills over a writer's whole life.
  const t0 = performance.now();
  assert.equal(rasgate(['user', 'passwd', 'pat', '--password-stdin', '--config', config], 'pw-start\n').code, 0);
  const lifeMs = performance.now() - t0;

  const random = prng(SEED);
  let tempsLeft = 0;
  const running = new Map<number, Writer>();
  const kill = (w: Writer) => {
    if (w.killed || w.child.exitCode !== null) return;
    w.killed = true;
    w.child.kill('SIGKILL');
  };
  const aim = (pid: number, at: 'locked' | 'writing') => {
    const w = running.get(pid);
    if (!w || w.aimed || w.plan.kind !== at) return;
    w.aimed = true;
    if (w.plan.kind === 'locked') setTimeout(() => kill(w), w.plan.ms);
    else kill(w);
  };
  // Whose lock or temp file appeared: the pid is in the temp file's name, and in the lock as
  // soon as its holder has written it.
  const watcher = watch(folder, (_event, name) => {
    const tmp = name && /^\.smbpasswd\.(\d+)\./.exec(name);
    if (tmp) return aim(Number(tmp[1]), 'writing');
    if (name !== 'smbpasswd.lock') return;
    const readPid = (tries: number) => {
      let pid = NaN;
      try {
        pid = Number(readFileSync(join(folder, name), 'utf8').split(' ')[0]);
      } catch {
        return; // released already
      }
      if (pid) aim(pid, 'locked');
      else if (tries > 0) setImmediate(() => readPid(tries - 1));
    };
    readPid(20);
  });
  after(() => watcher.close());

  const start = (args: string[], password: string, plan: KillPlan): Writer => {
    const child = spawnRasgate(['user', ...args, '--password-stdin', '--config', config]);
    let out = '';
    let err = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    child.stdin!.on('error', () => {}); // killed before it read the password
    child.stdin!.end(`${password}\n`);
    const w: Writer = { args, password, plan, child, killed: false, aimed: false, done: undefined! };
    w.done = new Promise((resolve) => {
      const stuck = setTimeout(() => {
        err += `\n(still running after ${STUCK_MS} ms: killed)`;
        child.kill('SIGKILL');
      }, STUCK_MS);
      child.on('exit', (code) => {
        clearTimeout(stuck);
        if (readdirSync(folder).some((n) => n.startsWith(`.smbpasswd.${child.pid}.`))) tempsLeft++;
        running.delete(child.pid!);
        resolve({ code, out, err });
      });
    });
    running.set(child.pid!, w);
    if (plan.kind === 'after') setTimeout(() => kill(w), plan.ms);
    return w;
  };
  const pickPlan = (): KillPlan => {
    const r = random();
    if (r < 0.25) return { kind: 'none' };
    if (r < 0.5) return { kind: 'after', ms: Math.floor(random() * lifeMs * 1.2) };
    if (r < 0.75) return { kind: 'locked', ms: Math.floor(random() * 20) };
    return { kind: 'writing' };
  };

  const reportedAdded: string[] = [];
  let lastPasswd = { round: -1, password: 'pw-start' };
  const passwdTried: { round: number; password: string }[] = [];
  const leftAloneFailed: string[] = [];
  let killedMidway = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const writers = [start(['add', `k${round}`], `pw-k${round}`, pickPlan()), start(['passwd', 'pat'], `pw-${round}`, pickPlan())];
    if (round % 5 === 0) writers.push(start(['add', `k${round}x`], `pw-k${round}x`, pickPlan()));
    passwdTried.push({ round, password: `pw-${round}` });
    for (const w of writers) {
      const r = await w.done;
      if (w.killed && r.code === null) killedMidway++;
      if (r.code === 0 && w.args[0] === 'add') reportedAdded.push(w.args[1]!);
      if (r.code === 0 && w.args[0] === 'passwd') lastPasswd = { round, password: w.password };
      if (!w.killed && r.code !== 0) leftAloneFailed.push(`round ${round} ${w.args.join(' ')}: exit ${r.code}: ${r.err.trim()}`);
    }
  }
  watcher.close();
  assert.deepEqual(leftAloneFailed, [], `seed ${SEED}: writers nobody killed failed`);
  assert.ok(killedMidway > 0, 'some writers were killed before they ended');
  t.diagnostic(`${killedMidway} writers killed before they ended, ${tempsLeft} of them left a temp file`);

  // One more writer: it must get the lock and clean up what the dead left behind.
  const last = rasgate(['user', 'add', 'last', '--password-stdin', '--config', config], 'pw-last\n');
  assert.equal(last.code, 0, last.err);
  assert.deepEqual(readdirSync(folder), ['smbpasswd'], `seed ${SEED}: no temp file or lock of a dead writer left`);

  const { entries, problems } = parseSmbpasswd(readFileSync(store, 'utf8'));
  assert.deepEqual(problems, [], 'the store parses whole');
  const names = new Set(entries.map((e) => e.name));
  for (let i = 0; i < PREFILLED; i++) assert.ok(names.has(`f${i}`), `f${i} lost`);
  for (const name of [...reportedAdded, 'last']) assert.ok(names.has(name), `seed ${SEED}: ${name} was reported added but is gone`);
  const pat = entries.find((e) => e.name === 'pat')!.ntHash!.toString('hex');
  const possible = [lastPasswd, ...passwdTried.filter((p) => p.round > lastPasswd.round)].map((p) => ntowfv1(p.password).toString('hex'));
  assert.ok(possible.includes(pat), `seed ${SEED}: pat's password is neither the last one reported changed nor a later attempt`);
});
