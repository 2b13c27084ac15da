/**
 * One long-running ntlm_auth child: one request at a time on its pipe, a FIFO queue in front
 * with a per-request timeout, restarted with exponential backoff when it dies. A request in
 * flight when the child dies is sent again once to the restarted child (checking a response is
 * idempotent; at worst a wrong password counts twice towards lockout); one that stalls the
 * child past its timeout fails as an outage. Queued ones wait for the restart until their own
 * timeout.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Logger } from '../../logging.js';
import { RasgateError, errorSummary } from '../../errors.js';
import { HelperAnswerParser, type HelperAnswer } from './protocol.js';

export class WinbindHelperError extends RasgateError {
  constructor(code: 'WINBIND_TIMEOUT' | 'WINBIND_DIED' | 'WINBIND_PROTOCOL' | 'WINBIND_CLOSED' | 'WINBIND_QUEUE_FULL' | 'WINBIND_ABORTED', message: string) {
    super(code, message);
  }
}

export interface HelperOptions {
  argv: string[];
  requestTimeoutMs: number;
  restartMinMs: number;
  restartMaxMs: number;
  queueLimit: number;
  logger: Logger;
}

interface Job {
  request: string;
  /** Re-sent once if the helper died before answering (a check is idempotent). */
  retried: boolean;
  resolve(a: HelperAnswer): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
  signal: AbortSignal;
  onAbort: () => void;
}

export class NtlmAuthHelper {
  private child: ChildProcessWithoutNullStreams | undefined;
  private parser = new HelperAnswerParser();
  private queue: Job[] = [];
  private current: Job | undefined;
  private backoff: number;
  private restartTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** How many times the child was (re)started; for tests and logs. */
  starts = 0;

  constructor(private readonly o: HelperOptions) {
    this.backoff = o.restartMinMs;
    this.start();
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Requests on this helper: the one it answers and those waiting. */
  get load(): number {
    return this.queue.length + (this.current ? 1 : 0);
  }

  ask(request: string, signal: AbortSignal): Promise<HelperAnswer> {
    if (this.closed) return Promise.reject(new WinbindHelperError('WINBIND_CLOSED', 'the winbind authority is closed'));
    if (this.queue.length >= this.o.queueLimit) return Promise.reject(new WinbindHelperError('WINBIND_QUEUE_FULL', `${this.queue.length} requests already waiting for ntlm_auth`));
    return new Promise((resolve, reject) => {
      const job: Job = {
        request,
        retried: false,
        resolve,
        reject,
        signal,
        timer: setTimeout(() => this.expire(job), this.o.requestTimeoutMs),
        onAbort: () => this.drop(job, new WinbindHelperError('WINBIND_ABORTED', 'request aborted')),
      };
      if (signal.aborted) return job.onAbort();
      signal.addEventListener('abort', job.onAbort, { once: true });
      this.queue.push(job);
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.restartTimer);
    const err = new WinbindHelperError('WINBIND_CLOSED', 'the winbind authority is closed');
    for (const j of [...this.queue, ...(this.current ? [this.current] : [])]) this.settle(j, err);
    this.queue = [];
    this.current = undefined;
    const c = this.child;
    this.child = undefined;
    if (c && c.exitCode === null && c.signalCode === null) {
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.stdin.end();
        c.kill('SIGTERM');
        setTimeout(() => {
          c.kill('SIGKILL');
          resolve();
        }, 2000).unref();
      });
    }
  }

  private start(): void {
    if (this.closed) return;
    const [cmd, ...args] = this.o.argv;
    this.parser = new HelperAnswerParser();
    const child = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.starts++;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.receive(child, chunk));
    // ntlm_auth logs to stderr; keep a short, secret-free line (it never prints responses).
    child.stderr.on('data', (chunk: string) => this.o.logger.debug('ntlm_auth stderr', { text: chunk.slice(0, 200) }));
    child.stdin.on('error', () => undefined); // EPIPE when it died: handled by 'exit'
    child.on('error', (err) => this.died(child, `cannot run ${cmd}: ${err.message}`));
    child.on('exit', (code, sig) => this.died(child, `ntlm_auth exited (${sig ?? code})`));
    this.pump();
  }

  private died(child: ChildProcessWithoutNullStreams, why: string): void {
    if (this.child !== child) return;
    this.child = undefined;
    const lost = this.current;
    this.current = undefined;
    if (lost && !lost.retried && !this.closed) {
      // Died before answering: ask the next helper first, once. A crash loop still fails it.
      lost.retried = true;
      this.queue.unshift(lost);
    } else if (lost) this.settle(lost, new WinbindHelperError('WINBIND_DIED', why));
    if (this.closed) return;
    this.o.logger.warn('winbind authority: ntlm_auth helper stopped; restarting', { error: why, restartInMs: this.backoff });
    this.restartTimer = setTimeout(() => this.start(), this.backoff);
    this.backoff = Math.min(this.backoff * 2, this.o.restartMaxMs);
  }

  /** Our decision to drop the child (stalled, garbled): fail its request, never re-ask it, restart. */
  private replace(why: string, code: 'WINBIND_TIMEOUT' | 'WINBIND_PROTOCOL'): void {
    const child = this.child;
    this.child = undefined;
    child?.kill('SIGKILL');
    const job = this.current;
    this.current = undefined;
    if (job) this.settle(job, new WinbindHelperError(code, why));
    if (this.closed) return;
    this.o.logger.warn('winbind authority: replacing the ntlm_auth helper', { error: why, restartInMs: this.backoff });
    this.restartTimer = setTimeout(() => this.start(), this.backoff);
    this.backoff = Math.min(this.backoff * 2, this.o.restartMaxMs);
  }

  private receive(child: ChildProcessWithoutNullStreams, chunk: string): void {
    if (this.child !== child) return;
    let answers: HelperAnswer[];
    try {
      answers = this.parser.feed(chunk);
    } catch (err) {
      const s = errorSummary(err);
      this.replace(`ntlm_auth answer malformed: ${s.message}`, 'WINBIND_PROTOCOL');
      return;
    }
    for (const a of answers) {
      const job = this.current;
      this.current = undefined;
      if (!job) {
        this.replace('ntlm_auth answered with nothing asked', 'WINBIND_PROTOCOL');
        return;
      }
      this.backoff = this.o.restartMinMs;
      this.settle(job, undefined, a);
    }
    this.pump();
  }

  private pump(): void {
    if (this.current || !this.child || this.queue.length === 0) return;
    const job = this.queue.shift()!;
    this.current = job;
    this.child.stdin.write(job.request);
  }

  private expire(job: Job): void {
    const err = new WinbindHelperError('WINBIND_TIMEOUT', `ntlm_auth gave no answer in ${this.o.requestTimeoutMs} ms`);
    if (this.current === job) {
      // A stalled helper would answer this request into the next one's slot: replace it.
      this.replace(err.message, 'WINBIND_TIMEOUT');
    } else this.drop(job, err);
  }

  private drop(job: Job, err: Error): void {
    if (this.current === job) {
      // Already on the pipe: its answer still comes and is read (settling again is a no-op).
      this.settle(job, err);
      return;
    }
    this.queue = this.queue.filter((j) => j !== job);
    this.settle(job, err);
  }

  private settle(job: Job, err?: Error, answer?: HelperAnswer): void {
    clearTimeout(job.timer);
    job.signal.removeEventListener('abort', job.onAbort);
    if (err) job.reject(err);
    else job.resolve(answer!);
  }
}
