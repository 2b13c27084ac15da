/** A CallChannel in memory: the test plays the caller (type(), output) and the line (drop()). */
import type { CallChannel, CallEndReason, CallerId } from '../../src/serial/types.js';

export class FakeChannel implements CallChannel {
  /** Calls made so far: each gets its own id. */
  static made = 0;
  readonly lineId: string;
  readonly callId: string;
  readonly deviceName: string;
  readonly callerId?: CallerId;
  readonly connectSpeed?: number;
  ended = false;
  hangups = 0;
  /** Everything written to the caller. */
  written: Buffer[] = [];
  onWrite?: (bytes: Buffer) => void;
  private dataListeners = new Set<(b: Buffer) => void>();
  private endListeners = new Set<(r: CallEndReason) => void>();

  constructor(init: { lineId?: string; callId?: string; deviceName?: string; callerId?: CallerId; connectSpeed?: number } = {}) {
    this.lineId = init.lineId ?? 'test0';
    this.callId = init.callId ?? `test0-${++FakeChannel.made}`;
    this.deviceName = init.deviceName ?? '/dev/ttyTEST0';
    this.callerId = init.callerId;
    this.connectSpeed = init.connectSpeed;
  }

  write(bytes: Uint8Array): void {
    if (this.ended) return;
    const b = Buffer.from(bytes);
    this.written.push(b);
    this.onWrite?.(b);
  }
  onData(listener: (bytes: Buffer) => void): () => void {
    this.dataListeners.add(listener);
    return () => this.dataListeners.delete(listener);
  }
  onEnd(listener: (reason: CallEndReason) => void): () => void {
    this.endListeners.add(listener);
    return () => this.endListeners.delete(listener);
  }
  async hangup(): Promise<void> {
    this.hangups++;
    this.drop('hangup');
  }

  /** The caller types. */
  type(text: string | Uint8Array): void {
    const b = typeof text === 'string' ? Buffer.from(text, 'latin1') : Buffer.from(text);
    for (const l of [...this.dataListeners]) l(b);
  }
  /** The call ends under the dialogue. */
  drop(reason: CallEndReason = 'carrier-lost'): void {
    if (this.ended) return;
    this.ended = true;
    for (const l of [...this.endListeners]) l(reason);
  }
  get listenerCount(): number {
    return this.dataListeners.size + this.endListeners.size;
  }
  /** All output as latin1 text. */
  get output(): string {
    return Buffer.concat(this.written).toString('latin1');
  }
  clear(): void {
    this.written = [];
  }
}

/** Let promise callbacks (receive -> discipline -> machine) run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}
