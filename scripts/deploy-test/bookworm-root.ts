/**
 * A throwaway Debian 12 (bookworm) root for the deployment test: debootstrap's default variant
 * (required + important packages, what a fresh minimal install has: systemd's tools, apt, no
 * curl, no git, no Node.js), cached as a tarball so that later runs unpack it in seconds.
 *
 * Nothing is ever mounted in the caller's mount namespace: every command runs through
 * `unshare --mount` and mounts /proc (and the download caches) in its own private namespace,
 * so its mounts vanish with it, whatever happens to the test. remove() kills every process
 * whose root is inside the folder, then deletes it; a root left by a run that was killed
 * outright (owner.pid no longer alive) is removed the same way by the next run.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { join } from 'node:path';
import { toolPath } from '../../test/helpers/tools.js';
import { pidAlive } from '../../src/files/lock.js';

export const MIRROR = 'http://deb.debian.org/debian';
export const CACHE_DIR = process.env.RASGATE_TEST_CACHE ?? '/var/cache/rasgate-test';
const DEB_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };

/** Download caches kept between runs (packages and tarballs are verified by apt and npm anyway). */
const CACHE_BINDS: [host: string, inRoot: string][] = [
  ['apt-archives', '/var/cache/apt/archives'],
  ['apt-lists', '/var/lib/apt/lists'],
  ['npm', '/root/.npm'],
];

/** Quote one word for /bin/sh. */
export function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** stdout and stderr interleaved, as a person would have seen them. */
  output: string;
}

export interface RunOptions {
  timeoutMs: number;
  /** Called with the output so far on every chunk; may answer a prompt on the child's stdin. */
  onOutput?: (output: string, stdin: NodeJS.WritableStream) => void;
  env?: NodeJS.ProcessEnv;
}

/** Spawn in its own process group, collect output, kill the whole group on timeout. */
export function run(argv: string[], o: RunOptions): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['pipe', 'pipe', 'pipe'], env: o.env ?? process.env });
    let output = '';
    const onData = (d: Buffer) => {
      output += d.toString('utf8');
      o.onOutput?.(output, child.stdin!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.stdin!.on('error', () => {}); // the child may exit before it reads what a prompt answer wrote
    const timer = setTimeout(() => killGroup(child.pid), o.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      child.stdin!.end();
      resolve({ code, signal, output });
    });
  });
}

export function killGroup(pid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

export interface BookwormRoot {
  /** The root folder. */
  root: string;
  fromCache: boolean;
  /** argv that runs `argv` as root inside the root (own mount namespace; own network namespace with `net`). */
  command(argv: string[], o?: { net?: boolean }): string[];
  /** Kill whatever still runs in the root, delete it. Synchronous: fit for a signal handler. */
  remove(): void;
}

function debootstrapArch(): string {
  const a = DEB_ARCH[arch()];
  if (!a) throw new Error(`deploy test: no Debian architecture for ${arch()}`);
  return a;
}

const PREFIX = 'rasgate-deploy-';

/** SIGKILL every process whose root directory is `dir` or inside it (what a chroot leaves behind). */
export function killProcessesIn(dir: string): void {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let at: string;
    try {
      at = readlinkSync(`/proc/${name}/root`);
    } catch {
      continue; // gone, or a kernel thread
    }
    if (at !== dir && !at.startsWith(dir + '/')) continue;
    try {
      process.kill(Number(name), 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function removeRootDir(dir: string): void {
  killProcessesIn(dir);
  // --one-file-system: should a mount ever be left inside, it is not descended into.
  const r = spawnSync('rm', ['-rf', '--one-file-system', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`rm -rf ${dir} failed: ${r.stderr}`);
}

/** Roots of earlier runs that were killed before they could clean up. */
function sweepStale(log: (msg: string) => void): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(PREFIX)) continue;
    const dir = join(tmpdir(), name);
    let owner = NaN;
    try {
      owner = Number(readFileSync(join(dir, 'owner.pid'), 'utf8'));
    } catch {
      // no pid file: created and abandoned within the first instant, or not ours; judge by age
      if (Date.now() - statSync(dir).mtimeMs < 3_600_000) continue;
    }
    if (pidAlive(owner)) continue;
    log(`removing ${dir}, left by a run that was killed`);
    removeRootDir(dir);
  }
}

/** The download caches are shared by all runs on this machine: one run at a time uses them (apt locks them). */
function takeCacheLock(): (() => void) | undefined {
  const lock = join(CACHE_DIR, 'in-use');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      return () => rmSync(lock, { recursive: true, force: true });
    } catch {
      let holder = NaN;
      try {
        holder = Number(readFileSync(join(lock, 'pid'), 'utf8'));
      } catch {
        // being created right now
      }
      if (pidAlive(holder)) return undefined;
      rmSync(lock, { recursive: true, force: true });
    }
  }
  return undefined;
}

/** Unpack the cached base root, or debootstrap it (and cache it) when there is none yet. */
export async function bookwormRoot(log: (msg: string) => void): Promise<BookwormRoot> {
  const debArch = debootstrapArch();
  const tarball = join(CACHE_DIR, `debootstrap-bookworm-${debArch}.tar.gz`);
  sweepStale(log);
  mkdirSync(CACHE_DIR, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), PREFIX));
  writeFileSync(join(dir, 'owner.pid'), String(process.pid));
  const root = join(dir, 'root');
  mkdirSync(root);
  const releaseCaches = takeCacheLock();
  if (!releaseCaches) log('another run uses the download caches: downloading everything afresh');
  const remove = () => {
    removeRootDir(dir);
    releaseCaches?.();
  };
  try {
    let fromCache = existsSync(tarball);
    if (fromCache) {
      const r = await run(['tar', '-C', root, '-xzf', tarball], { timeoutMs: 10 * 60_000 });
      if (r.code !== 0) throw new Error(`unpacking ${tarball} failed: ${r.output}`);
    } else {
      log(`no ${tarball}: debootstrap bookworm from ${MIRROR} (about a minute)`);
      const r = await run([toolPath('debootstrap'), '--arch', debArch, 'bookworm', root, MIRROR], { timeoutMs: 20 * 60_000 });
      if (r.code !== 0) throw new Error(`debootstrap failed (${r.code}):\n${r.output.slice(-4000)}`);
      // Cache the pristine root, written completely or not at all.
      const partial = `${tarball}.${process.pid}.partial`;
      const t = await run(['tar', '-C', root, '-czf', partial, '.'], { timeoutMs: 10 * 60_000 });
      if (t.code === 0) renameSync(partial, tarball);
      else {
        rmSync(partial, { force: true });
        log(`could not cache the root (${t.output.trim()}); next run debootstraps again`);
      }
      fromCache = false;
    }
    // The host's resolver, as on any freshly installed host with a network.
    copyFileSync('/etc/resolv.conf', join(root, 'etc/resolv.conf'));
    // Behind a TLS-inspecting proxy, the host's local CAs: update-ca-certificates (run when the
    // doc installs ca-certificates) adds them, as docs/deployment.md tells such sites to do.
    const localCAs = '/usr/local/share/ca-certificates';
    if (existsSync(localCAs)) cpSync(localCAs, join(root, localCAs.slice(1)), { recursive: true });
    const binds = releaseCaches ? CACHE_BINDS : [];
    for (const [name] of binds) mkdirSync(join(CACHE_DIR, name, 'partial'), { recursive: true });
    return { root, fromCache, command: (argv, o = {}) => inRoot(root, argv, o.net ?? false, binds), remove };
  } catch (err) {
    remove();
    throw err;
  }
}

function inRoot(root: string, argv: string[], net: boolean, binds: typeof CACHE_BINDS): string[] {
  const q = shellWord;
  const mounts = [
    `mount -t proc proc ${q(join(root, 'proc'))}`,
    // ptys (sudo's use_pty, script): the host's devpts, matching the root's /dev/ptmx (5:2)
    `mount --bind /dev/pts ${q(join(root, 'dev/pts'))}`,
    ...binds.map(([name, at]) => `mkdir -p ${q(join(root, at))} && mount --bind ${q(join(CACHE_DIR, name))} ${q(join(root, at))}`),
    ...(net ? ['ip link set lo up'] : []),
  ];
  const script = `set -e; ${mounts.join('; ')}; exec chroot ${q(root)} "$@"`;
  return [toolPath('unshare'), '--mount', '--propagation', 'private', ...(net ? ['--net'] : []), '/bin/sh', '-c', script, 'sh', ...argv];
}

/** The files a clone of the working tree holds: tracked and untracked-but-not-ignored, as they are now. */
export function copyWorkTree(repo: string, dest: string): void {
  const ls = spawnSync('git', ['-C', repo, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8' });
  if (ls.status !== 0) throw new Error(`git ls-files failed: ${ls.stderr}`);
  const files = ls.stdout.split('\0').filter((f) => f && existsSync(join(repo, f)));
  mkdirSync(dest, { recursive: true });
  const pack = spawnSync('tar', ['-C', repo, '--null', '-T', '-', '-cf', '-'], { input: files.join('\0'), maxBuffer: 1 << 30 });
  if (pack.status !== 0) throw new Error(`tar of the working tree failed: ${pack.stderr}`);
  const unpack = spawnSync('tar', ['-C', dest, '-xf', '-'], { input: pack.stdout, maxBuffer: 1 << 30 });
  if (unpack.status !== 0) throw new Error(`untar into ${dest} failed: ${unpack.stderr}`);
}

/** `[Service]` settings of a unit file, repeated keys kept in order. */
export function unitService(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let inService = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) inService = line === '[Service]';
    else if (inService && line && !line.startsWith('#')) {
      const eq = line.indexOf('=');
      if (eq > 0) out.set(line.slice(0, eq), [...(out.get(line.slice(0, eq)) ?? []), line.slice(eq + 1)]);
    }
  }
  return out;
}

/** uid and gid of a user in the root's /etc/passwd. */
export function userIn(root: string, name: string): { uid: number; gid: number } | undefined {
  for (const line of readFileSync(join(root, 'etc/passwd'), 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === name) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}
