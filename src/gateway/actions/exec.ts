/**
 * `action: { exec: [PROGRAM, ARGS...] }`: run a program with the line as its stdin and stdout
 * (stderr goes to the caller too, as on a terminal). Its exit ends the call. Carrier loss (or a
 * shutdown) aborts the signal: SIGHUP, then SIGKILL after `killGrace` seconds.
 *
 * Environment: PATH (from the daemon, or a safe default), LANG when set, the configured `env`,
 * and RASGATE_USER, RASGATE_DOMAIN, RASGATE_LINE, RASGATE_CALL, RASGATE_CALLER_ID, RASGATE_CALLBACK
 * (1 when the session runs on a callback, else 0) and RASGATE_CALLBACK_NUMBER. Nothing else
 * of the daemon's environment is passed on. With pipes, not a tty: run pppd with `notty`.
 */
import { spawn } from 'node:child_process';
import type { CallChannel } from '../../serial/types.js';
import type { Logger } from '../../logging.js';
import { ExecStartError } from './errors.js';

export interface ExecOptions {
  argv: string[];
  env: Record<string, string>;
  cwd?: string;
  /** Seconds between SIGHUP and SIGKILL. */
  killGrace: number;
  user: string;
  domain: string;
  /** Bytes the program reads first (a PPP frame already received at the prompt). */
  preface?: Uint8Array;
  /** The session runs on a callback to this number. */
  callbackNumber?: string;
  logger: Logger;
}

export function execEnvironment(channel: CallChannel, o: Pick<ExecOptions, 'env' | 'user' | 'domain' | 'callbackNumber'>, base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = { PATH: base.PATH ?? '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' };
  if (base.LANG) env.LANG = base.LANG;
  Object.assign(env, o.env);
  env.RASGATE_USER = o.user;
  env.RASGATE_DOMAIN = o.domain;
  env.RASGATE_LINE = channel.lineId;
  env.RASGATE_CALL = channel.callId;
  env.RASGATE_CALLER_ID = channel.callerId?.number ?? '';
  env.RASGATE_CALLBACK = o.callbackNumber !== undefined ? '1' : '0';
  env.RASGATE_CALLBACK_NUMBER = o.callbackNumber ?? '';
  return env;
}

export function runExec(channel: CallChannel, o: ExecOptions, signal: AbortSignal): Promise<void> {
  const [program, ...args] = o.argv;
  return new Promise<void>((resolve, reject) => {
    const child = spawn(program!, args, { cwd: o.cwd, env: execEnvironment(channel, o), stdio: ['pipe', 'pipe', 'pipe'] });
    let started = false;
    let killTimer: NodeJS.Timeout | undefined;
    const unsubscribe: (() => void)[] = [];
    const stop = (why: string) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      o.logger.info('stopping program', { area: 'action', program, pid: child.pid, why });
      child.kill('SIGHUP');
      killTimer = setTimeout(() => child.kill('SIGKILL'), o.killGrace * 1000);
      killTimer.unref();
    };
    const onAbort = () => stop('call ended');
    signal.addEventListener('abort', onAbort, { once: true });
    unsubscribe.push(() => signal.removeEventListener('abort', onAbort));
    unsubscribe.push(channel.onEnd((reason) => stop(reason)));

    // The preface (a PPP frame), then whatever the caller typed while the program started.
    const early: Buffer[] = o.preface?.length ? [Buffer.from(o.preface)] : [];
    unsubscribe.push(
      channel.onData((bytes) => {
        if (!started) early.push(bytes);
        else if (child.stdin.writable) child.stdin.write(bytes);
      }),
    );
    child.once('spawn', () => {
      started = true;
      o.logger.info('program started', { area: 'action', program, pid: child.pid });
      for (const b of early.splice(0)) child.stdin.write(b);
    });
    // A program that exits without reading its input must not crash us (EPIPE).
    child.stdin.on('error', () => {});
    const toCaller = (bytes: Buffer) => channel.write(bytes);
    child.stdout.on('data', toCaller);
    child.stderr.on('data', toCaller);
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (!started) {
        for (const u of unsubscribe) u();
        reject(new ExecStartError(program!, err.code ?? err.message, { cause: err }));
      } else o.logger.warn('program error', { area: 'action', program, code: err.code });
    });
    child.once('close', (code, sig) => {
      if (killTimer) clearTimeout(killTimer);
      for (const u of unsubscribe) u();
      if (!started) return;
      o.logger.info('program ended', { area: 'action', program, pid: child.pid, exitCode: code, signal: sig });
      resolve();
    });
  });
}
