/**
 * A real peer driven over stdin/stdout one line at a time (the python drivers in ./peers,
 * Samba's ntlm_auth helper protocols). Every read has a deadline, stderr is kept for the
 * failure message, and `kill()` is safe to call twice.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export interface LinePeerOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Deadline of one readLine() in ms. Default 10000. */
  readTimeoutMs?: number;
}

export class LinePeer {
  readonly name: string;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly readTimeoutMs: number;
  private buffered = '';
  private readonly lines: string[] = [];
  private waiter: (() => void) | undefined;
  private stderrText = '';
  private exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  constructor(command: string, args: readonly string[], options: LinePeerOptions = {}) {
    this.name = `${command} ${args.join(' ')}`;
    this.readTimeoutMs = options.readTimeoutMs ?? 10_000;
    this.child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: 'pipe' });
    this.child.stdout.setEncoding('utf8');
    this.child.stderr.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => {
      this.buffered += chunk;
      let nl: number;
      while ((nl = this.buffered.indexOf('\n')) >= 0) {
        this.lines.push(this.buffered.slice(0, nl).replace(/\r$/, ''));
        this.buffered = this.buffered.slice(nl + 1);
      }
      this.wake();
    });
    this.child.stderr.on('data', (chunk: string) => {
      if (this.stderrText.length < 16_384) this.stderrText += chunk;
    });
    this.child.on('error', (err) => {
      this.stderrText += `\nspawn error: ${err.message}`;
      this.exited ??= { code: null, signal: null };
      this.wake();
    });
    this.child.on('exit', (code, signal) => {
      this.exited = { code, signal };
      this.wake();
    });
    // A peer that dies early must not crash the test with EPIPE.
    this.child.stdin.on('error', () => {});
  }

  get stderr(): string {
    return this.stderrText;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  writeLine(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /** The next stdout line; rejects on deadline or when the peer exits first. */
  async readLine(timeoutMs = this.readTimeoutMs): Promise<string> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines.shift();
      if (line !== undefined) return line;
      if (this.exited) throw new Error(`${this.name}: exited (${this.exited.code ?? this.exited.signal}) before a line; stderr: ${this.stderrText.trim()}`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no line within ${timeoutMs} ms; stderr: ${this.stderrText.trim()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
  }

  /** Resolves with the exit code once the peer is gone (bounded). */
  async exit(timeoutMs = this.readTimeoutMs): Promise<number | null> {
    const end = Date.now() + timeoutMs;
    while (!this.exited) {
      if (Date.now() > end) throw new Error(`${this.name}: still running after ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.exited.code;
  }

  kill(): void {
    if (!this.exited && this.child.exitCode === null) this.child.kill('SIGKILL');
    this.child.stdin.destroy();
  }

  private wake(): void {
    this.waiter?.();
  }
}
