/**
 * Samba `smbd` as a standalone server on a loopback high port, everything private to one temp
 * dir (smb.conf, passdb, locks, pid, state, cache, log), with one smbpasswd user. The real
 * acceptor our NTLM client logs in to.
 *
 * Samba's passdb needs a unix account behind every SAM user (pdb_smbpasswd refuses a line
 * whose name getpwnam does not know), so the fixture creates a system user with useradd
 * when it is missing, and removes it again in stop(): that needs root, like smbd itself.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedPort, waitFor } from '../../test/helpers/net.js';
import { toolPath } from '../../test/helpers/tools.js';

export interface SmbdFixtureOptions {
  /** Unix and SAM account name. Default 'rasinterop'. */
  user?: string;
  password: string;
  /** Workgroup (the NTLM domain the server announces). Default 'RASTEST'. */
  workgroup?: string;
  /** NetBIOS name. Default 'SMBFIXTURE'. */
  netbiosName?: string;
  /** More accounts (any unix-valid or, with useradd --badname, non-ASCII name). Default none. */
  extraUsers?: { user: string; password: string }[];
  /** Start deadline in ms. Default 15000. */
  startTimeoutMs?: number;
}

export interface SmbdFixture {
  port: number;
  user: string;
  workgroup: string;
  netbiosName: string;
  dir: string;
  /** smbd's log so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

function run(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(toolPath(cmd), args, { input, encoding: 'utf8', timeout: 15_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** Creates the unix account when missing; true when it did (stop() then removes it). */
function ensureUnixUser(name: string): boolean {
  if (spawnSync('id', ['-u', name]).status === 0) return false;
  // --badname: the Unicode user-name tests need names useradd's default pattern refuses.
  run('useradd', ['--system', '--badname', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', name]);
  return true;
}

function conf(dir: string, port: number, workgroup: string, netbiosName: string): string {
  return `[global]
  server role = standalone server
  workgroup = ${workgroup}
  netbios name = ${netbiosName}
  smb ports = ${port}
  interfaces = lo
  bind interfaces only = yes
  private dir = ${dir}/private
  lock directory = ${dir}/lock
  pid directory = ${dir}/pid
  state directory = ${dir}/state
  cache directory = ${dir}/cache
  ncalrpc dir = ${dir}/ncalrpc
  passdb backend = smbpasswd:${dir}/private/smbpasswd
  # a wrong password must fail, not become guest; anonymous gets nothing
  map to guest = never
  restrict anonymous = 2
  # no RPC helpers (samba-dcerpcd): the tests only do NEGOTIATE and SESSION_SETUP
  rpc start on demand helpers = no
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
  server min protocol = SMB2_02
  server signing = mandatory
  obey pam restrictions = no
  unix password sync = no
  log file = ${dir}/log.smbd
  logging = file
`;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Pids of processes whose command line names our private smb.conf (smbd's forked children). */
function pidsUsing(confPath: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'latin1').includes(confPath)) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export async function startSmbd(options: SmbdFixtureOptions): Promise<SmbdFixture> {
  const user = options.user ?? 'rasinterop';
  const workgroup = options.workgroup ?? 'RASTEST';
  const netbiosName = options.netbiosName ?? 'SMBFIXTURE';
  const accounts = [{ user, password: options.password }, ...(options.extraUsers ?? [])];
  const created: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'rasgate-smbd-'));
  const removeUsersAndDir = (): void => {
    for (const name of created) spawnSync(toolPath('userdel'), [name]);
    rmSync(dir, { recursive: true, force: true });
  };
  // smbd cannot listen on port 0 and say which port it got: it binds one just seen free (the
  // close-then-bind race remains here).
  const port = await closedPort();
  const confPath = join(dir, 'smb.conf');
  try {
    for (const a of accounts) if (ensureUnixUser(a.user)) created.push(a.user);
    for (const d of ['private', 'lock', 'pid', 'state', 'cache', 'ncalrpc']) mkdirSync(join(dir, d), { mode: 0o700 });
    writeFileSync(confPath, conf(dir, port, workgroup, netbiosName));
    for (const a of accounts) run('smbpasswd', ['-c', confPath, '-a', '-s', a.user], `${a.password}\n${a.password}\n`);
  } catch (err) {
    removeUsersAndDir();
    throw err;
  }

  let output = '';
  // smbd signals its whole process group when it shuts down: give it a group of its own
  // (detached), or the SIGTERM lands on the test runner too.
  const child: ChildProcess = spawn(toolPath('smbd'), ['-s', confPath, '--foreground', '--no-process-group', '--debug-stdout', '-d1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout?.setEncoding('utf8').on('data', (c: string) => (output += c));
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (output += c));
  const log = (): string => {
    let file = '';
    try {
      file = readFileSync(join(dir, 'log.smbd'), 'utf8');
    } catch {
      // not written yet
    }
    return `${output}\n${file}`.slice(-8000);
  };
  // If the test process exits without after(), take smbd's process group, the accounts and the dir with it.
  const killGroup = (): void => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // group already gone
    }
  };
  const onExit = (): void => {
    killGroup();
    removeUsersAndDir();
  };
  process.once('exit', onExit);
  const stop = async (): Promise<void> => {
    process.removeListener('exit', onExit);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await waitFor(() => child.exitCode !== null || child.signalCode !== null, 'smbd to exit', 5000).catch(() => undefined);
    killGroup();
    // Helpers smbd may have started outside its group (samba-dcerpcd daemonizes).
    for (const pid of pidsUsing(confPath)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    removeUsersAndDir();
  };
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`smbd exited (${child.exitCode}): ${log()}`);
      return portOpen(port);
    }, `smbd listening on 127.0.0.1:${port}`, options.startTimeoutMs ?? 15_000, 100);
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, user, workgroup, netbiosName, dir, log, stop };
}
