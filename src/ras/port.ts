/**
 * The RAS server's side of one port (rasshost.h RasSecurityDialogSend / Receive / GetInfo over a
 * CallChannel): caller bytes are queued until a receive takes them, at most `maxBytes` at a time
 * (the rest waits for the next receive); a receive with a timeout in SECONDS (0 = none) ends
 * with zero bytes when it passes. A receive that started always resolves (bytes, or zero bytes on
 * timeout / disconnection; getInfo() tells which); one that cannot start rejects with a RasError.
 */
import type { Logger } from '../logging.js';
import type { CallChannel, CallEndReason } from '../serial/types.js';
import { printable } from '../terminal/output.js';
import {
  ERROR_BUFFER_TOO_SMALL,
  ERROR_DISCONNECTION,
  ERROR_HARDWARE_FAILURE,
  ERROR_INVALID_PARAMETER,
  ERROR_PORT_DISCONNECTED,
  ERROR_PORT_NOT_OPEN,
  ERROR_REMOTE_DISCONNECTION,
  MAX_DEVICE_NAME,
  NO_ERROR,
  PENDING,
} from './codes.js';
import { RasError } from './errors.js';
import type { PortHandle, RasSecurityInfo, Timers } from './types.js';

/** Which raserror.h code reports each way a call can end under the dialogue. */
export const END_REASON_ERRORS: Record<CallEndReason, number> = {
  'carrier-lost': ERROR_REMOTE_DISCONNECTION,
  'device-lost': ERROR_HARDWARE_FAILURE,
  hangup: ERROR_DISCONNECTION,
  overrun: ERROR_DISCONNECTION,
  shutdown: ERROR_DISCONNECTION,
};

export type PortState = 'open' | 'begun' | 'completed' | 'disconnected' | 'closed';

interface PendingReceive {
  maxBytes: number;
  resolve: (bytes: Buffer) => void;
  timer?: unknown;
}

export class RasPort {
  readonly deviceName: string;
  state: PortState = 'open';
  sendBufSize = 0;
  recvBufSize = 0;
  /** Why the call ended under us (set on disconnection). */
  endReason?: CallEndReason;

  private inbox: Buffer[] = [];
  private inboxBytes = 0;
  private pending?: PendingReceive;
  private lastError: number = NO_ERROR;
  private bytesReceived = 0;
  private overrunLogged = false;
  private readonly unsubscribe: Array<() => void> = [];
  private readonly endListeners: Array<(reason: CallEndReason) => void> = [];

  constructor(
    readonly handle: PortHandle,
    readonly channel: CallChannel,
    private readonly timers: Timers,
    private readonly logger: Logger,
    /** Caller bytes queued before a receive takes them; the excess is dropped (an overrun). */
    private readonly maxQueuedBytes: number,
  ) {
    this.deviceName = printable(channel.deviceName).slice(0, MAX_DEVICE_NAME);
    this.unsubscribe.push(channel.onData((bytes) => this.arrived(bytes)));
    this.unsubscribe.push(channel.onEnd((reason) => this.disconnected(reason)));
  }

  /** Called once when the call ends under the port (not after close()). */
  onEnd(listener: (reason: CallEndReason) => void): void {
    this.endListeners.push(listener);
  }

  get active(): boolean {
    return this.state === 'begun';
  }

  /** RasSecurityDialogSend: PENDING when queued, else an error code. */
  send(bytes: Uint8Array): number {
    if (this.state === 'open') return ERROR_PORT_NOT_OPEN;
    if (this.state !== 'begun') return ERROR_PORT_DISCONNECTED;
    if (bytes.length > this.sendBufSize) return ERROR_BUFFER_TOO_SMALL;
    this.channel.write(bytes);
    return PENDING;
  }

  /** RasSecurityDialogReceive. */
  receive(maxBytes: number, timeoutSeconds: number): Promise<Buffer> {
    if (this.state === 'open') return Promise.reject(new RasError(ERROR_PORT_NOT_OPEN, 'begin() has not been called'));
    if (this.state !== 'begun') return Promise.reject(new RasError(ERROR_PORT_DISCONNECTED));
    if (!Number.isInteger(maxBytes) || maxBytes < 1) return Promise.reject(new RasError(ERROR_INVALID_PARAMETER, '"maxBytes" must be an integer >= 1'));
    if (maxBytes > this.recvBufSize) return Promise.reject(new RasError(ERROR_BUFFER_TOO_SMALL, `"maxBytes" ${maxBytes} exceeds the receive buffer (${this.recvBufSize})`));
    if (!Number.isFinite(timeoutSeconds) || timeoutSeconds < 0) return Promise.reject(new RasError(ERROR_INVALID_PARAMETER, '"timeoutSeconds" must be >= 0'));
    if (this.pending) return Promise.reject(new RasError(PENDING, 'a receive is already pending on this port'));
    if (this.inboxBytes > 0) {
      const bytes = this.take(maxBytes);
      this.settled(NO_ERROR, bytes.length);
      return Promise.resolve(bytes);
    }
    this.lastError = PENDING;
    return new Promise<Buffer>((resolve) => {
      const pending: PendingReceive = { maxBytes, resolve };
      if (timeoutSeconds > 0) {
        pending.timer = this.timers.setTimeout(() => {
          if (this.pending !== pending) return;
          this.pending = undefined;
          this.settled(NO_ERROR, 0);
          resolve(Buffer.alloc(0));
        }, timeoutSeconds * 1000);
      }
      this.pending = pending;
    });
  }

  info(): RasSecurityInfo {
    return { lastError: this.lastError, bytesReceived: this.lastError === NO_ERROR ? this.bytesReceived : 0, deviceName: this.deviceName };
  }

  /** Drop queued caller bytes (before a fresh prompt). */
  flushInput(): void {
    this.inbox = [];
    this.inboxBytes = 0;
  }

  /** Release the channel; a pending receive ends with zero bytes and `error`. */
  close(error = ERROR_PORT_DISCONNECTED): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    for (const off of this.unsubscribe.splice(0)) off();
    this.endListeners.length = 0;
    this.abortReceive(error);
    this.flushInput();
  }

  private arrived(bytes: Buffer): void {
    if (this.state === 'closed' || this.state === 'disconnected' || bytes.length === 0) return;
    const room = this.maxQueuedBytes - this.inboxBytes;
    if (bytes.length > room) {
      if (!this.overrunLogged) {
        this.overrunLogged = true;
        this.logger.warn('ras port input overrun: caller bytes dropped', { port: this.handle, dropped: bytes.length - Math.max(0, room) });
      }
      if (room <= 0) return;
      bytes = bytes.subarray(0, room);
    }
    this.inbox.push(bytes);
    this.inboxBytes += bytes.length;
    const pending = this.pending;
    if (pending) {
      this.pending = undefined;
      if (pending.timer !== undefined) this.timers.clearTimeout(pending.timer);
      const taken = this.take(pending.maxBytes);
      this.settled(NO_ERROR, taken.length);
      pending.resolve(taken);
    }
  }

  private disconnected(reason: CallEndReason): void {
    if (this.state === 'closed' || this.state === 'disconnected') return;
    this.state = 'disconnected';
    this.endReason = reason;
    this.abortReceive(END_REASON_ERRORS[reason] ?? ERROR_DISCONNECTION);
    for (const listener of this.endListeners.splice(0)) listener(reason);
  }

  private abortReceive(error: number): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    if (pending.timer !== undefined) this.timers.clearTimeout(pending.timer);
    this.settled(error, 0);
    pending.resolve(Buffer.alloc(0));
  }

  private settled(error: number, bytes: number): void {
    this.lastError = error;
    this.bytesReceived = bytes;
  }

  private take(maxBytes: number): Buffer {
    const first = this.inbox[0];
    if (this.inbox.length === 1 && first.length <= maxBytes) {
      this.inbox = [];
      this.inboxBytes = 0;
      return first;
    }
    const all = Buffer.concat(this.inbox);
    const out = all.subarray(0, maxBytes);
    const rest = all.subarray(maxBytes);
    this.inbox = rest.length > 0 ? [rest] : [];
    this.inboxBytes = rest.length;
    return Buffer.from(out);
  }
}
