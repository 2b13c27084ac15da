/**
 * docs/deployment.md on a fresh Debian 12: debootstrap a bookworm root (cached), copy the working
 * tree in as the clone the doc starts from, run every `deploy-test: run` step of the doc in order
 * in a chroot (through a pty, answering the password prompts of `rasgate user add`), then do what
 * systemd would: `systemd-analyze verify` the installed unit, run its ExecStartPre= and ExecStart=
 * as its User=/Group=/SupplementaryGroups= with its Environment=, UMask= and WorkingDirectory=, in a
 * network namespace of its own, and log in over telnet on the loopback line the doc configures.
 *
 * First run about 3 to 4 minutes (debootstrap, downloads); later runs 2 to 3, the root then
 * unpacks in seconds and apt, `npm ci` and deleting the ~700 MB root take the time
 * (RASGATE_TEST_CACHE, default /var/cache/rasgate-test, keeps the root tarball and the downloads).
 * scripts/run-tests.mjs gives this file its own 45-minute bound. RASGATE_DEPLOY_TEST_KEEP=1
 * leaves the root in /tmp for a look after a failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { needs, toolPath } from '../helpers/tools.js';
import { waitFor } from '../helpers/net.js';
import { ROOT } from '../e2e/harness.js';
import { docSteps, shellBlocks } from '../../scripts/deploy-test/doc-steps.js';
import { bookwormRoot, copyWorkTree, killGroup, run, shellWord, unitService, userIn, type BookwormRoot } from '../../scripts/deploy-test/bookworm-root.js';

/** RASGATE_DEPLOY_DOC: another copy of the doc (to see a draft, or an old version, fail or pass). */
const DOC = process.env.RASGATE_DEPLOY_DOC ?? join(ROOT, 'docs/deployment.md');
const UNIT = join(ROOT, 'scripts/rasgate.service');
/** The doc's sections whose every shell block must be marked (run or skip): the install path. */
const INSTALL_SECTIONS = ['Install', 'systemd'];
/** What `grep tty /proc/devices` names for serial ports of the hardware rasgate is used with. */
const SERIAL_DRIVER_NAMES = ['ttyS', 'ttyUSB', 'ttyACM', 'ttyAMA', 'ttyMI', 'ttyMX', 'ttyM', 'ttyMUE', 'ttyXR', 'ttyXRUSB'];
const PASSWORD = 'Deploy-test-pw1';
/**
 * A root shell's environment on a fresh host; apt without questions (none is expected anyway).
 * Where the host itself needs NODE_EXTRA_CA_CERTS (a TLS-inspecting proxy), so does npm in the
 * root: the doc says so for such sites, and the root trusts the host's local CAs.
 */
const ROOT_ENV = [
  'HOME=/root', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'LANG=C.UTF-8', 'TERM=dumb', 'DEBIAN_FRONTEND=noninteractive',
  ...(process.env.NODE_EXTRA_CA_CERTS ? ['NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt'] : []),
];

const log = (msg: string) => process.stdout.write(`# deploy: ${msg}\n`);

test('docs/deployment.md: every shell block of the install path is marked as a step or as skipped', () => {
  const unmarked = shellBlocks(readFileSync(DOC, 'utf8')).filter((b) => INSTALL_SECTIONS.includes(b.section) && !b.marked);
  assert.deepEqual(unmarked, [], 'a block in the install path without <!-- deploy-test: run|skip --> would never be tested');
  const steps = docSteps(readFileSync(DOC, 'utf8'));
  assert.ok(steps.filter((s) => s.mode === 'run').length >= 5, 'the doc lost its steps');
});

test('rasgate.service allows each serial driver group, and nothing broader', () => {
  const allow = unitService(readFileSync(UNIT, 'utf8')).get('DeviceAllow') ?? [];
  assert.deepEqual(allow.map((a) => a.split(/\s+/)[1]), allow.map(() => 'rw'));
  assert.deepEqual(allow.map((a) => a.split(/\s+/)[0]).sort(), SERIAL_DRIVER_NAMES.map((n) => `char-${n}`).sort());
  assert.deepEqual(unitService(readFileSync(UNIT, 'utf8')).get('DevicePolicy'), ['closed']);
});

test(
  'docs/deployment.md installs rasgate on a fresh Debian 12 and the unit runs it: login over telnet',
  { skip: needs('root', 'debootstrap', 'chroot', 'unshare', 'nsenter', 'script', 'telnet', 'ip'), timeout: 40 * 60_000 },
  async () => {
    const t0 = Date.now();
    const host = await bookwormRoot(log);
    log(`bookworm root ${host.fromCache ? 'unpacked from the cache' : 'debootstrapped'} in ${Math.round((Date.now() - t0) / 1000)} s: ${host.root}`);
    const started: number[] = [];
    // Killed by the runner (its timeout) or ^C: still no chroot process or root left behind.
    const onSignal = (signal: NodeJS.Signals) => {
      host.remove();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    try {
      // The doc's first skipped step: the clone. The working tree stands in for it.
      copyWorkTree(ROOT, join(host.root, 'opt/rasgate'));
      await runDocSteps(host);
      log(`doc steps done at ${Math.round((Date.now() - t0) / 1000)} s`);
      await checkInstalled(host);
      await serveLikeSystemd(host, started);
      log(`login checked, total ${Math.round((Date.now() - t0) / 1000)} s`);
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      for (const pid of started) killGroup(pid);
      const removing = Date.now();
      if (process.env.RASGATE_DEPLOY_TEST_KEEP === '1') log(`kept ${host.root}`);
      else {
        host.remove();
        log(`root removed in ${Math.round((Date.now() - removing) / 1000)} s`);
      }
    }
  },
);

/** Each run step as root in the chroot, from /root, through a pty (the password prompt needs one). */
async function runDocSteps(host: BookwormRoot): Promise<void> {
  const steps = docSteps(readFileSync(DOC, 'utf8'));
  const dir = join(host.root, 'root/deploy-steps');
  mkdirSync(dir, { recursive: true });
  for (const [i, step] of steps.entries()) {
    if (step.mode === 'skip') {
      log(`step ${i + 1} (docs line ${step.line}) skipped ${step.note}`);
      continue;
    }
    const file = `step-${String(i + 1).padStart(2, '0')}.sh`;
    writeFileSync(join(dir, file), `set -e -o pipefail -x\ncd /root\n${step.script}`);
    const inner = host.command(['/usr/bin/env', '-i', ...ROOT_ENV, '/bin/bash', `/root/deploy-steps/${file}`]);
    const started = Date.now();
    let answered = 0;
    const r = await run([toolPath('script'), '--quiet', '--return', '--flush', '--command', inner.map(shellWord).join(' '), '/dev/null'], {
      timeoutMs: 15 * 60_000,
      env: { ...process.env, SHELL: '/bin/sh' },
      // `rasgate user add` asks twice ("New password: ", "Retype new password: ").
      onOutput: (out, stdin) => {
        const prompts = out.match(/password: /gi)?.length ?? 0;
        if (prompts > answered && /password: $/i.test(out)) {
          answered = prompts;
          stdin.write(`${PASSWORD}\r`);
        }
      },
    });
    log(`step ${i + 1} (docs line ${step.line}, ${step.section}) exit ${r.code} in ${Math.round((Date.now() - started) / 1000)} s`);
    assert.equal(r.code, 0, `docs/deployment.md line ${step.line} failed in the chroot:\n${step.script}\n--- output (end)\n${r.output.slice(-6000)}`);
    assert.ok(!r.output.includes(PASSWORD), 'the password was echoed');
  }
}

/** What the steps must have left: Node >= the engines floor, the state folder and store owned by rasgate, a sound unit. */
async function checkInstalled(host: BookwormRoot): Promise<void> {
  const engines = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
  const floor = /^>=(\d+)\.(\d+)/.exec(engines);
  assert.ok(floor, `engines.node ${engines}`);
  const v = await run(host.command(['/usr/bin/env', '-i', ...ROOT_ENV, 'node', '-p', 'process.versions.node']), { timeoutMs: 60_000 });
  assert.equal(v.code, 0, v.output);
  const [major, minor] = v.output.trim().split('.').map(Number) as [number, number];
  assert.ok(major > Number(floor[1]) || (major === Number(floor[1]) && minor >= Number(floor[2])), `node ${v.output.trim()} does not satisfy ${engines}`);

  const user = userIn(host.root, 'rasgate');
  assert.ok(user, 'no rasgate user');
  const state = statSync(join(host.root, 'var/lib/rasgate'));
  assert.deepEqual([state.uid, state.gid, state.mode & 0o777], [user.uid, user.gid, 0o700], '/var/lib/rasgate owner and mode');
  const store = statSync(join(host.root, 'var/lib/rasgate/smbpasswd'));
  assert.deepEqual([store.uid, store.mode & 0o777], [user.uid, 0o600], 'smbpasswd owner and mode');
  assert.ok(statSync(join(host.root, 'opt/rasgate/dist/src/cli/main.js')).isFile(), 'dist/ built');

  // verify exits 0 on warnings (unknown keys, bad DeviceAllow): a sound unit prints nothing.
  const verify = await run(host.command(['systemd-analyze', 'verify', '/etc/systemd/system/rasgate.service']), { timeoutMs: 120_000 });
  assert.equal(verify.code, 0, verify.output);
  assert.equal(verify.output.trim(), '', 'systemd-analyze verify warned');
}

/**
 * ExecStartPre= then ExecStart= of the installed unit, as systemd would start them (minus the
 * sandboxing), in a fresh network namespace so the doc's fixed loopback port cannot collide.
 * The process group goes into `started`, for the caller to kill whatever happens here.
 */
async function serveLikeSystemd(host: BookwormRoot, started: number[]): Promise<void> {
  const unit = unitService(readFileSync(join(host.root, 'etc/systemd/system/rasgate.service'), 'utf8'));
  const one = (key: string) => {
    const v = unit.get(key);
    assert.ok(v && v.length === 1, `unit: exactly one ${key}=`);
    return v[0]!;
  };
  for (const key of ['ExecStartPre', 'ExecStart']) assert.match(one(key), /^\//, `${key}= with a prefix (-+!@:) is not mirrored here`);
  const env = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'INVOCATION_ID=0123456789abcdef0123456789abcdef', ...(unit.get('Environment') ?? [])];
  const asService = (cmdline: string) => [
    '/usr/bin/env', '-i', ...env,
    'setpriv', `--reuid=${one('User')}`, `--regid=${one('Group')}`, `--groups=${one('SupplementaryGroups').split(/\s+/).join(',')}`, '--no-new-privs', '--',
    '/bin/sh', '-c', `umask ${one('UMask')} && cd ${one('WorkingDirectory')} && exec "$@"`, 'sh', ...cmdline.split(/\s+/),
  ];

  const pre = await run(host.command(asService(one('ExecStartPre'))), { timeoutMs: 120_000 });
  assert.equal(pre.code, 0, `ExecStartPre (check-config) failed:\n${pre.output}`);

  const config = parse(readFileSync(join(host.root, 'etc/rasgate/rasgate.yaml'), 'utf8')) as { lines: { id: string; listen?: string }[] };
  const tcp = config.lines.find((l) => l.listen?.startsWith('tcp://127.0.0.1:'));
  assert.ok(tcp, 'the doc configures a loopback TCP line to try a login on');
  const port = tcp.listen!.split(':').pop()!;

  const argv = host.command(asService(one('ExecStart')), { net: true });
  const proc = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (proc.pid) started.push(proc.pid);
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  let buf = '';
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (d: string) => {
    buf += d;
    for (let i; (i = buf.indexOf('\n')) >= 0; buf = buf.slice(i + 1)) {
      // Under systemd ($INVOCATION_ID) each line starts with its journald priority, e.g. <6>.
      const line = buf.slice(0, i).replace(/^<\d>/, '');
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ raw: line });
      }
    }
  });
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (d: string) => (stderr += d));
  let exit: number | null | undefined;
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r((exit = code))));
  const seen = (pred: (l: Record<string, unknown>) => boolean, what: string) =>
    waitFor(() => {
      if (exit !== undefined) throw new Error(`rasgate serve exited (${exit}) before ${what}:\n${stderr}\n${JSON.stringify(logs.slice(-20))}`);
      return logs.find(pred);
    }, what, 60_000, 100);

  await seen((l) => l.message === 'listening' && String(l.listen).endsWith(`:${port}`), `line ${tcp.id} listening`);
  const telnet = await run([toolPath('nsenter'), `--net=/proc/${proc.pid}/ns/net`, '--', toolPath('telnet'), '127.0.0.1', port], {
    timeoutMs: 60_000,
    onOutput: (out, stdin) => {
      if (/login: $/.test(out)) stdin.write('alice\r\n');
      else if (/Password: $/.test(out)) stdin.write(`${PASSWORD}\r\n`);
    },
  });
  assert.match(telnet.output, /login: alice\r\nPassword: \r\n(\r\n)?Login accepted\. Goodbye\./, `telnet session:\n${telnet.output}`);
  const summary = await seen((l) => l.message === 'call summary', 'call summary');
  assert.equal(summary.outcome, 'accepted');
  assert.equal(summary.user, 'alice');

  // KillSignal=SIGTERM: a graceful stop, exit 0.
  proc.kill('SIGTERM');
  let hung: NodeJS.Timeout | undefined;
  const code = await Promise.race([exited, new Promise<'hung'>((r) => (hung = setTimeout(() => r('hung'), 60_000)))]);
  clearTimeout(hung);
  assert.equal(code, 0, `exit after SIGTERM:\n${stderr}`);
}
