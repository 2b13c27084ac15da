/**
 * The CallChannel every transport hands out: listener bookkeeping, the once-only end, and
 * a write path supplied by the transport. Transports call `deliver()` with caller bytes and
 * `finish(reason)` when the call is over.
 *
 * A call that ends while one of our own writes is on the stack (the transport found the line
 * gone, or cut off a caller who does not read) tells its end listeners after that write has
 * returned: the writer is usually a machine in the middle of a step, and stopping it from
 * inside that step is never safe.
 */
import type { CallChannel, CallEndReason, CallerId, CallbackRequest, CallbackResult } from './types.js';

export interface CallChannelInit {
  lineId: string;
  callId: string;
  deviceName: string;
  /** Who called (CallChannel.peer). */
  peer?: string;
  callerId?: CallerId;
  connectSpeed?: number;
  /** Sends bytes to the caller (already encoded for the transport by the caller of this). */
  send(bytes: Uint8Array): void;
  /** Ends the call from our side; resolves when the line has hung up. */
  hangup(): Promise<void>;
  /** Reads the telnet echo agreement (TCP lines). */
  echoSuppressed?: () => boolean;
  /** Calls the caller back (modem lines): CallChannel.callBack. */
  callBack?: (request: CallbackRequest, signal: AbortSignal) => Promise<CallbackResult>;
}

/** Caller bytes kept before the call has a listener (the dialogue subscribes at once). */
export const EARLY_LIMIT = 64 * 1024;

export class BasicCallChannel implements CallChannel {
  readonly lineId: string;
  readonly callId: string;
  readonly deviceName: string;
  readonly peer?: string;
  readonly callerId?: CallerId;
  readonly connectSpeed?: number;
  private readonly dataListeners = new Set<(bytes: Buffer) => void>();
  private readonly endListeners = new Set<(reason: CallEndReason) => void>();
  private endReason?: CallEndReason;
  private hangingUp?: Promise<void>;
  /** Bytes that arrived before anyone listened (the call is emitted, then subscribed). */
  private early: Buffer[] = [];
  private earlyBytes = 0;
  /** write() calls on the stack. */
  private writing = 0;

  /** Present when the transport can call back. */
  readonly callBack?: (request: CallbackRequest, signal: AbortSignal) => Promise<CallbackResult>;

  constructor(private readonly init: CallChannelInit) {
    if (init.callBack) this.callBack = init.callBack;
    this.lineId = init.lineId;
    this.callId = init.callId.slice(0, 128);
    this.deviceName = init.deviceName.slice(0, 128);
    if (init.peer) this.peer = init.peer.slice(0, 64);
    if (init.callerId) this.callerId = init.callerId;
    if (init.connectSpeed !== undefined) this.connectSpeed = init.connectSpeed;
  }

  get remoteEchoSuppressed(): boolean | undefined {
    return this.init.echoSuppressed?.();
  }

  get ended(): boolean {
    return this.endReason !== undefined;
  }

  write(bytes: Uint8Array): void {
    if (this.ended || bytes.length === 0) return;
    this.writing++;
    try {
      this.init.send(bytes);
    } finally {
      this.writing--;
    }
  }

  onData(listener: (bytes: Buffer) => void): () => void {
    this.dataListeners.add(listener);
    if (this.early.length) {
      const early = this.early;
      this.early = [];
      this.earlyBytes = 0;
      for (const chunk of early) listener(chunk);
    }
    return () => this.dataListeners.delete(listener);
  }

  onEnd(listener: (reason: CallEndReason) => void): () => void {
    if (this.endReason !== undefined) {
      const reason = this.endReason;
      queueMicrotask(() => listener(reason));
      return () => undefined;
    }
    this.endListeners.add(listener);
    return () => this.endListeners.delete(listener);
  }

  hangup(): Promise<void> {
    this.finish('hangup');
    this.hangingUp ??= this.init.hangup();
    return this.hangingUp;
  }

  /** Transport side: bytes from the caller. */
  deliver(bytes: Buffer): void {
    if (this.ended || bytes.length === 0) return;
    if (this.dataListeners.size === 0) {
      if (this.earlyBytes < EARLY_LIMIT) {
        this.early.push(bytes);
        this.earlyBytes += bytes.length;
      }
      return;
    }
    for (const l of this.dataListeners) l(bytes);
  }

  /** Transport side: the call is over. Runs the end listeners once. */
  finish(reason: CallEndReason): void {
    if (this.endReason !== undefined) return;
    this.endReason = reason;
    this.dataListeners.clear();
    this.early = [];
    this.earlyBytes = 0;
    const listeners = [...this.endListeners];
    this.endListeners.clear();
    const tell = () => {
      for (const l of listeners) l(reason);
    };
    if (this.writing > 0) queueMicrotask(tell);
    else tell();
  }
}
