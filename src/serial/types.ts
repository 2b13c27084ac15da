/**
 * Lines and calls, as the rest of rasgate sees them. Every transport (TCP listener,
 * serialport device with a Hayes modem, the simulated modem) produces the same two things:
 * a Line that answers, and per answered call a CallChannel carrying plain bytes (telnet
 * options, modem result codes and carrier handling already dealt with underneath).
 */
import type { EventEmitter } from 'node:events';

export interface CallerId {
  number?: string; // NMBR; 'P' private, 'O' unavailable as the modem sends them
  name?: string;
  date?: string; // MMDD
  time?: string; // HHMM
}

export type { CallEndReason } from '../../machines/outcome.js';
import type { CallEndReason } from '../../machines/outcome.js';
export type { CallbackRequest, CallbackResult, CallbackFailure } from '../../machines/line.js';
import type { CallbackRequest, CallbackResult } from '../../machines/line.js';

/** One answered call: the byte path to the caller. */
export interface CallChannel {
  readonly lineId: string;
  /** Unique per call, e.g. `tcp0-17`. */
  readonly callId: string;
  /** RAS_SECURITY_INFO.DeviceName (<= 128 chars): device path or `tcp://peer`. */
  readonly deviceName: string;
  /** Who called: the caller ID number (modem lines, when the modem gave one) or the address (TCP lines). */
  readonly peer?: string;
  readonly callerId?: CallerId;
  /** CONNECT speed when a modem reported one. */
  readonly connectSpeed?: number;
  /** Telnet: the peer agreed that we echo (so it does not echo locally). */
  readonly remoteEchoSuppressed?: boolean;
  /** Queue bytes to the caller, in order. No-op after close. */
  write(bytes: Uint8Array): void;
  /** Subscribe to caller bytes; returns the unsubscribe function. */
  onData(listener: (bytes: Buffer) => void): () => void;
  /** Called once when the call is over for any reason. */
  onEnd(listener: (reason: CallEndReason) => void): () => void;
  /** Hang up (DTR drop / socket close) and resolve when done. Idempotent. */
  hangup(): Promise<void>;
  readonly ended: boolean;
  /**
   * Modem lines: hang up, dial the caller back, and go on with this same call when they answer
   * (nothing is read or written in between). Resolves with how the callback ended; `signal`
   * abandons it (the line hangs up). Absent where a line cannot call back (TCP).
   */
  callBack?(request: CallbackRequest, signal: AbortSignal): Promise<CallbackResult>;
}

/** A caller as a line sees it before answering: the peer address (TCP) or the caller ID number (modem, when given). */
export type Caller = { kind: 'tcp'; address: string } | { kind: 'modem'; number?: string };

/**
 * What a line does with a caller before the call starts (the guessing defence decides):
 * answer, or not: a modem line lets it ring; a TCP line says `refusal` (one line) and closes.
 */
export type ScreenVerdict = { answer: true } | { answer: false; refusal: string };
export type CallScreen = (lineId: string, caller: Caller) => ScreenVerdict;

export type LineState =
  | 'closed'
  | 'opening'
  | 'initialising'
  | 'idle'
  | 'ringing'
  | 'answering'
  | 'connected'
  | 'hanging-up'
  | 'calling-back'
  | 'reopening'
  | 'failed';

export interface LineStatus {
  id: string;
  state: LineState;
  /** Calls in progress (TCP lines may have many; modem lines 0 or 1). */
  activeCalls: number;
  lastError?: string;
}

/**
 * A line that answers calls. Emits 'call' (CallChannel) and 'state' (LineStatus).
 * start() resolves when the line is ready to answer (or rejects with a clear error,
 * e.g. a lock held by another getty); stop() hangs up and releases the device.
 */
export interface Line extends EventEmitter {
  readonly id: string;
  start(): Promise<void>;
  /** Stop answering new calls; existing calls are left alone. */
  pause(): void;
  stop(): Promise<void>;
  status(): LineStatus;
  /**
   * Taken out of service by an operator (`text`: what a TCP caller is told before the close;
   * a modem line does not answer), or back in service (undefined). Calls in progress go on.
   */
  setOutOfService(text: string | undefined): void;
}
