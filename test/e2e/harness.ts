/**
 * End-to-end harness: the real `rasgate` command (`node --import tsx src/cli/main.ts`) in a
 * child process with a config file in a temporary folder, callers on loopback sockets, and
 * every line the process writes kept for assertions (stdout JSON logs and stderr).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = [process.execPath, '--import', 'tsx', join(ROOT, 'src/cli/main.ts')];

export function tempDir(prefix = 'rasgate-e2e-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `rasgate user add NAME --password-stdin` against a config. */
export function addUser(config: string, name: string, password: string, action: 'add' | 'passwd' = 'add'): void {
  const r = spawnSync(CLI[0]!, [...CLI.slice(1), 'user', action, name, '--config', config, '--password-stdin'], { cwd: ROOT, input: `${password}\n`, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`user ${action} ${name} failed: ${r.stderr}`);
}

export interface Gateway {
  proc: ChildProcess;
  dir: string;
  config: string;
  /** Every stdout line parsed as JSON (non-JSON lines kept as { raw }). */
  logs: Record<string, unknown>[];
  stdout: string[];
  stderr: string[];
  waitLog(pred: (l: Record<string, unknown>) => boolean, what: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** The port a line listens on (its own, or a simulated modem's far side): lines configured on port 0 get theirs from the kernel. */
  port(lineId: string): number;
  signal(sig: NodeJS.Signals): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

export async function startGateway(
  yaml: string,
  o: { dir?: string; args?: string[]; env?: NodeJS.ProcessEnv; waitStarted?: boolean; users?: [string, string][]; name?: string; uid?: number; gid?: number } = {},
): Promise<Gateway> {
  const dir = o.dir ?? tempDir().dir;
  const config = join(dir, o.name ?? 'rasgate.yaml');
  writeFileSync(config, yaml);
  for (const [user, password] of o.users ?? []) addUser(config, user, password);
  const proc = spawn(CLI[0]!, [...CLI.slice(1), 'serve', '--config', config, ...(o.args ?? [])], {
    cwd: ROOT,
    env: { ...process.env, ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(o.uid !== undefined ? { uid: o.uid, gid: o.gid ?? o.uid } : {}),
  });
  const logs: Record<string, unknown>[] = [];
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  const lines = (stream: NodeJS.ReadableStream, sink: string[], parse: boolean) => {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        sink.push(line);
        if (parse) {
          try {
            // Under systemd (JOURNAL_STREAM set) a record follows its syslog priority, <0>..<7>.
            logs.push(JSON.parse(line.replace(/^<[0-7]>/, '')) as Record<string, unknown>);
          } catch {
            logs.push({ raw: line });
          }
        }
        for (const w of waiters) w();
      }
    });
  };
  lines(proc.stdout!, stdout, true);
  lines(proc.stderr!, stderr, false);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.once('exit', (code, signal) => r({ code, signal })));
  const waitLog = (pred: (l: Record<string, unknown>) => boolean, what: string, timeoutMs = 15_000) =>
    new Promise<Record<string, unknown>>((res, rej) => {
      let seen = 0;
      const check = () => {
        for (; seen < logs.length; seen++) {
          if (pred(logs[seen]!)) {
            waiters.delete(check);
            clearTimeout(t);
            res(logs[seen]!);
            return;
          }
        }
      };
      const t = setTimeout(() => {
        waiters.delete(check);
        rej(new Error(`timed out waiting for ${what}\n--- stdout\n${stdout.slice(-30).join('\n')}\n--- stderr\n${stderr.join('\n')}`));
      }, timeoutMs);
      waiters.add(check);
      void exited.then(() => check());
      check();
    });
  const gw: Gateway = {
    proc,
    dir,
    config,
    logs,
    stdout,
    stderr,
    waitLog,
    port(lineId) {
      const heard = logs.findLast((l) => l.line === lineId && (l.message === 'listening' || l.message === 'far side listening'));
      const port = Number(/:(\d+)$/.exec(String(heard?.listen ?? ''))?.[1]);
      if (!port) throw new Error(`line ${lineId} has not said where it listens`);
      return port;
    },
    signal: (sig) => proc.kill(sig),
    exited,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
  };
  // No daemon outlives its test: not one that failed to start, nor any left when this file ends.
  running.add(proc);
  void exited.then(() => running.delete(proc));
  if (o.waitStarted !== false) {
    try {
      await waitLog((l) => l.message === 'gateway started', 'gateway started', 20_000);
    } catch (err) {
      proc.kill('SIGKILL');
      throw err;
    }
  }
  return gw;
}

/** A caller on a TCP line (raw, or answering telnet negotiation with refusals). */
export class Caller {
  readonly socket: Socket;
  text = '';
  closed = false;
  private waiters = new Set<() => void>();
  readonly ready: Promise<void>;

  constructor(port: number, host = '127.0.0.1') {
    this.socket = connect({ port, host });
    this.ready = new Promise((r, j) => {
      this.socket.once('connect', () => r());
      this.socket.once('error', j);
    });
    this.socket.on('data', (b: Buffer) => {
      this.text += stripTelnet(b, this.socket);
      for (const w of this.waiters) w();
    });
    this.socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters) w();
    });
    this.socket.on('error', () => {});
  }

  /** Wait until the text received so far matches. */
  expect(re: RegExp, timeoutMs = 10_000): Promise<void> {
    return new Promise((res, rej) => {
      const check = () => {
        if (re.test(this.text)) {
          this.waiters.delete(check);
          clearTimeout(t);
          res();
        } else if (this.closed) {
          this.waiters.delete(check);
          clearTimeout(t);
          rej(new Error(`connection closed before ${re}; got ${JSON.stringify(this.text)}`));
        }
      };
      const t = setTimeout(() => {
        this.waiters.delete(check);
        rej(new Error(`timed out waiting for ${re}; got ${JSON.stringify(this.text)}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  waitClosed(timeoutMs = 10_000): Promise<void> {
    return new Promise((res, rej) => {
      const check = () => {
        if (this.closed) {
          this.waiters.delete(check);
          clearTimeout(t);
          res();
        }
      };
      const t = setTimeout(() => rej(new Error(`still connected; got ${JSON.stringify(this.text)}`)), timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  type(s: string): void {
    this.socket.write(s);
  }

  /** Log in: wait for each prompt, type the answer. */
  async login(user: string, password: string): Promise<void> {
    await this.expect(/login: $/);
    this.type(`${user}\r`);
    await this.expect(/Password: $/);
    this.type(`${password}\r`);
  }

  close(): void {
    this.socket.destroy();
  }
}

const IAC = 255;

/** Drop telnet commands from what we show; refuse every option (DONT/WONT) so negotiation ends. */
function stripTelnet(b: Buffer, socket: Socket): string {
  const out: number[] = [];
  for (let i = 0; i < b.length; i++) {
    if (b[i] !== IAC) {
      out.push(b[i]!);
      continue;
    }
    const cmd = b[i + 1];
    if (cmd === undefined) break;
    if (cmd >= 251 && cmd <= 254) {
      const opt = b[i + 2]!;
      // WILL/WONT -> DONT; DO/DONT -> WONT; except WILL ECHO / WILL SGA which we accept (DO).
      if (cmd === 251 && (opt === 1 || opt === 3)) socket.write(Buffer.from([IAC, 253, opt]));
      else if (cmd === 251) socket.write(Buffer.from([IAC, 254, opt]));
      else if (cmd === 253) socket.write(Buffer.from([IAC, 252, opt]));
      i += 2;
    } else if (cmd === 250) {
      const end = b.indexOf(Buffer.from([IAC, 240]), i);
      i = end < 0 ? b.length : end + 1;
    } else if (cmd === IAC) {
      out.push(IAC);
      i += 1;
    } else i += 1;
  }
  return Buffer.from(out).toString('latin1');
}
