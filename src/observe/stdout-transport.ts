/**
 * The log's line to standard output (what journald or a terminal reads), made safe for a
 * daemon that runs unattended:
 *  - The stream going away (EPIPE when `rasgate serve | head` ends, EIO on a lost terminal,
 *    EBADF) drops this transport for good: the loss is said once, on stderr and through the
 *    logger's other transports, and logging to it never fails again. Nothing here may raise
 *    an error that would be logged to the same dead stream.
 *  - A reader that does not keep up (a paused pager) cannot grow memory: past `maxBufferBytes`
 *    unwritten, records are dropped and counted, and the count is written once it drains.
 */
import TransportStream from 'winston-transport';

const MESSAGE = Symbol.for('message');

/** Log bytes waiting for a slow stdout reader before records are dropped (and counted). */
export const STDOUT_BUFFER_LIMIT = 4 * 1024 * 1024;

/** errno codes that mean the stream is gone for good. */
const GONE = new Set(['EPIPE', 'EIO', 'EBADF', 'ECONNRESET', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END']);

export interface StdoutTransportOptions extends TransportStream.TransportStreamOptions {
  /** Default process.stdout. */
  stream?: NodeJS.WritableStream & { writableLength?: number };
  /** Unwritten bytes kept before records are dropped. Default STDOUT_BUFFER_LIMIT. */
  maxBufferBytes?: number;
  /** Where the loss of the stream is said. Default: process.stderr (its own errors ignored). */
  report?: (line: string) => void;
  /** Transform of the finished line (journald's `<N>` prefix). */
  decorate?: (line: string, level: string) => string;
}

export class StdoutTransport extends TransportStream {
  private readonly out: NodeJS.WritableStream & { writableLength?: number };
  private readonly maxBufferBytes: number;
  private readonly report: (line: string) => void;
  private readonly decorate?: (line: string, level: string) => string;
  private gone = false;
  private dropped = 0;

  constructor(o: StdoutTransportOptions = {}) {
    super(o);
    this.out = o.stream ?? process.stdout;
    this.maxBufferBytes = o.maxBufferBytes ?? STDOUT_BUFFER_LIMIT;
    this.report = o.report ?? reportOnStderr;
    this.decorate = o.decorate;
    this.onStreamError = this.onStreamError.bind(this);
    this.out.on('error', this.onStreamError);
  }

  /** True once the stream went away (nothing is written to it any more). */
  get lost(): boolean {
    return this.gone;
  }

  override log(info: Record<string | symbol, unknown>, callback: () => void): void {
    callback();
    if (this.gone) return;
    const raw = info[MESSAGE];
    if (typeof raw !== 'string') return;
    const line = `${this.decorate ? this.decorate(raw, String(info.level)) : raw}\n`;
    if ((this.out.writableLength ?? 0) + line.length > this.maxBufferBytes) {
      this.dropped++;
      return;
    }
    if (this.dropped > 0) {
      const note = `{"level":"warn","message":"log records dropped: standard output was not being read","dropped":${this.dropped}}\n`;
      this.dropped = 0;
      this.emitLine(note);
    }
    this.emitLine(line);
  }

  private emitLine(text: string): void {
    try {
      this.out.write(text);
    } catch (err) {
      this.onStreamError(err);
    }
  }

  private onStreamError(err: unknown): void {
    if (this.gone) return;
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && !GONE.has(code)) {
      this.report(`rasgate: standard output error ${code}; log records to it may be lost`);
      return;
    }
    this.gone = true;
    this.report(`rasgate: standard output is gone (${typeof code === 'string' ? code : 'closed'}): logging to stdout stopped; other log destinations carry on`);
    // Said once through whatever else the logger writes to (a file), then this transport leaves.
    this.emit('lost', err);
  }

  override close(): void {
    this.out.off?.('error', this.onStreamError);
  }
}

function reportOnStderr(line: string): void {
  try {
    process.stderr.write(`${line}\n`);
  } catch {
    // stderr is gone too: there is nobody left to tell
  }
}

let stderrGuarded = false;

/** stderr errors (EPIPE with `2>&1 | head`) must never become an uncaught exception. */
export function guardStderr(): void {
  if (stderrGuarded) return;
  stderrGuarded = true;
  process.stderr.on('error', () => undefined);
}
