/**
 * The RAS security host surface (rasshost.h) over rasgate's CallChannels.
 *
 *   const host = new RasSecurityHost({ verifier });
 *   const port = host.openPort(channel);                         // HPORT for an answered call
 *   const rc = host.begin(port, 1024, 1024, (msg, detail) => …);  // returns at once: 0 or an error
 *   …  host.end(port);                                           // after the completion, or to abort
 *
 * begin() checks its arguments, copies the buffer sizes, starts the dialogue and returns NO_ERROR
 * without waiting on the caller. A nonzero result means the host has hung up the line, logged the
 * reason and released the handle; no completion follows. end() stops the dialogue (verify
 * aborted, timers cleared), releases the handle and returns ERROR_PORT_DISCONNECTED: nonzero, so
 * the transaction is over and no completion follows (RasSecurityDialogEnd's contract).
 */
import type { InspectionEvent, Observer } from 'xstate';
import { errorSummary } from '../errors.js';
import { nullLogger, type Logger } from '../logging.js';
import type { CallChannel } from '../serial/types.js';
import {
  ERROR_BUFFER_TOO_SMALL,
  ERROR_INVALID_PARAMETER,
  ERROR_INVALID_PORT_HANDLE,
  ERROR_PORT_DISCONNECTED,
  ERROR_PORT_NOT_CONNECTED,
  ERROR_PORT_NOT_OPEN,
  NO_ERROR,
  describeRasError,
  rasErrorName,
} from './codes.js';
import { RasError } from './errors.js';
import { securityMessageProblem } from './message.js';
import { resolveDialogueOptions, type DialogueOptions } from './options.js';
import { RasPort } from './port.js';
import { DialogueSession } from './session.js';
import type { CompletionCallback, CompletionDetail, PortHandle, RasSecurityInfo, SecurityMessage, Timers } from './types.js';
import type { Verifier } from './verify.js';

/** Smallest send/receive buffer begin() accepts (rasgate's floor: prompts go out in pieces of this size). */
export const MIN_DIALOGUE_BUFFER = 16;
/** Caller bytes queued on a port before a receive takes them; the excess is dropped (an overrun). */
export const PORT_INPUT_LIMIT = 64 * 1024;
/** Buffer sizes beginCall() uses when none are given. */
export const DEFAULT_DIALOGUE_BUFFER = 1024;

/** What begin() starts on a port; the built-in one is the login dialogue (DialogueSession). */
export type DialogueStarter = (host: RasSecurityHost, port: RasPort) => { stop(): void };

export interface RasSecurityHostOptions {
  /** Checks typed credentials (src/ras/verify.ts). Required by the built-in dialogue. */
  verifier?: Verifier;
  /** Prompts, messages, timeouts, attempts: resolveDialogueOptions({ ... }) completes a partial set (defaults in src/ras/options.ts). Default: all defaults. */
  /** Resolved dialogue settings (resolveDialogueOptions(partial) fills in the defaults); default: all defaults. */
  dialogue?: DialogueOptions;
  /** Default: a silent logger. */
  logger?: Logger;
  /** Timers for receive timeouts and the dialogue machine (xstate's SimulatedClock fits). Default: Node's. */
  timers?: Timers;
  /** Clock for the banner's \d and \t. Default: () => new Date(). */
  now?: () => Date;
  /** XState inspection observer for every dialogue actor (sanitize `password` keys in it). Default none. */
  inspect?: Observer<InspectionEvent>;
  /** Per-call inspection observer (e.g. transitionLogger({ logger, line, call })); wins over `inspect`. Default none. */
  inspectCall?: (channel: CallChannel) => Observer<InspectionEvent> | undefined;
  /** Caller bytes queued per port before a receive takes them. Default PORT_INPUT_LIMIT. */
  maxQueuedBytes?: number;
  /** Replace the dialogue begin() starts (surface tests, other dialogues). Default: the login dialogue. */
  startDialogue?: DialogueStarter;
}

interface PortEntry {
  port: RasPort;
  onComplete?: CompletionCallback;
  dialogue?: { stop(): void };
  completed: boolean;
  /** Inside begin(): a completion now is delivered after begin has returned. */
  beginning?: boolean;
}

const nodeTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as NodeJS.Timeout),
};

export class RasSecurityHost {
  private readonly ports = new Map<PortHandle, PortEntry>();
  private nextHandle = 1;
  private readonly logger: Logger;
  private readonly timers: Timers;
  private readonly startDialogue: DialogueStarter;
  private readonly maxQueuedBytes: number;

  constructor(options: RasSecurityHostOptions = {}) {
    this.logger = (options.logger ?? nullLogger()).child({ area: 'dialogue' });
    this.timers = options.timers ?? nodeTimers;
    this.maxQueuedBytes = options.maxQueuedBytes ?? PORT_INPUT_LIMIT;
    if (options.startDialogue) this.startDialogue = options.startDialogue;
    else {
      const verifier = options.verifier;
      if (!verifier) throw new TypeError('"verifier" is required (or "startDialogue")');
      const deps = {
        options: options.dialogue ?? resolveDialogueOptions(),
        verifier,
        logger: options.logger ?? nullLogger(),
        now: options.now ?? (() => new Date()),
        timers: options.timers,
        inspect: options.inspect,
        inspectCall: options.inspectCall,
      };
      this.startDialogue = (host, port) => {
        const session = new DialogueSession(host, port, deps);
        session.start();
        return session;
      };
    }
  }

  /** Bind an answered call to a new port handle. */
  openPort(channel: CallChannel): PortHandle {
    const handle = this.nextHandle++;
    this.ports.set(handle, { port: new RasPort(handle, channel, this.timers, this.logger, this.maxQueuedBytes), completed: false });
    return handle;
  }

  /** openPort + begin with default buffer sizes. `result` is begin()'s. */
  beginCall(channel: CallChannel, onComplete: CompletionCallback, sizes: { sendBufSize?: number; recvBufSize?: number } = {}): { port: PortHandle; result: number } {
    const port = this.openPort(channel);
    return { port, result: this.begin(port, sizes.sendBufSize ?? DEFAULT_DIALOGUE_BUFFER, sizes.recvBufSize ?? DEFAULT_DIALOGUE_BUFFER, onComplete) };
  }

  /** RasSecurityDialogBegin. Synchronous: NO_ERROR once the dialogue is started, else an error (line hung up). */
  begin(port: PortHandle, sendBufSize: number, recvBufSize: number, onComplete: CompletionCallback): number {
    const entry = this.ports.get(port);
    if (!entry) return this.refuse(port, undefined, ERROR_INVALID_PORT_HANDLE, 'unknown port handle');
    const p = entry.port;
    if (p.state === 'disconnected' || p.channel.ended) return this.refuse(port, entry, ERROR_PORT_NOT_CONNECTED, 'the call has already ended');
    if (p.state !== 'open') return this.refuse(port, entry, ERROR_PORT_NOT_OPEN, 'begin() already called on this port');
    for (const [name, size] of [['sendBufSize', sendBufSize], ['recvBufSize', recvBufSize]] as const) {
      if (!Number.isInteger(size) || size < MIN_DIALOGUE_BUFFER) return this.refuse(port, entry, ERROR_BUFFER_TOO_SMALL, `"${name}" must be an integer >= ${MIN_DIALOGUE_BUFFER}`);
    }
    if (typeof onComplete !== 'function') return this.refuse(port, entry, ERROR_INVALID_PARAMETER, '"onComplete" must be a function');
    p.sendBufSize = sendBufSize;
    p.recvBufSize = recvBufSize;
    p.state = 'begun';
    entry.onComplete = onComplete;
    entry.beginning = true;
    try {
      entry.dialogue = this.startDialogue(this, p);
    } catch (err) {
      this.logger.error('security dialogue failed to start', { port, error: errorSummary(err) });
      return this.refuse(port, entry, ERROR_PORT_NOT_OPEN, 'the dialogue failed to start');
    } finally {
      entry.beginning = false;
    }
    return NO_ERROR;
  }

  /** RasSecurityDialogSend: PENDING when queued; ERROR_BUFFER_TOO_SMALL beyond sendBufSize. */
  send(port: PortHandle, bytes: Uint8Array): number {
    const entry = this.ports.get(port);
    if (!entry) return ERROR_INVALID_PORT_HANDLE;
    if (entry.completed) return ERROR_PORT_DISCONNECTED;
    return entry.port.send(bytes);
  }

  /**
   * RasSecurityDialogReceive: resolves with at most `maxBytes` (<= recvBufSize) caller bytes, or
   * zero bytes when `timeoutSeconds` (0 = none) passes or the call ends (getInfo() says which).
   * Rejects with a RasError when the receive cannot start.
   */
  receive(port: PortHandle, maxBytes: number, timeoutSeconds: number): Promise<Buffer> {
    const entry = this.ports.get(port);
    if (!entry) return Promise.reject(new RasError(ERROR_INVALID_PORT_HANDLE));
    if (entry.completed) return Promise.reject(new RasError(ERROR_PORT_DISCONNECTED, 'the dialogue has completed'));
    return entry.port.receive(maxBytes, timeoutSeconds);
  }

  /**
   * RasSecurityDialogComplete: validate the SECURITY_MESSAGE and hand it to begin()'s callback.
   * NO_ERROR, ERROR_INVALID_PORT_HANDLE, ERROR_PORT_NOT_OPEN (no begin), ERROR_PORT_DISCONNECTED
   * (already completed) or ERROR_INVALID_PARAMETER (malformed message: nothing is delivered).
   */
  complete(message: SecurityMessage, detail: CompletionDetail = {}): number {
    const entry = message && typeof message === 'object' ? this.ports.get(message.port) : undefined;
    if (!entry) return ERROR_INVALID_PORT_HANDLE;
    if (entry.port.state === 'open') return ERROR_PORT_NOT_OPEN;
    if (entry.completed) return ERROR_PORT_DISCONNECTED;
    const problem = securityMessageProblem(message);
    if (problem) {
      this.logger.error('malformed SECURITY_MESSAGE refused', { port: message.port, problem });
      return ERROR_INVALID_PARAMETER;
    }
    entry.completed = true;
    if (entry.port.state === 'begun') entry.port.state = 'completed';
    const copy: SecurityMessage = { msgId: message.msgId, port: message.port, error: message.error, userName: message.userName, domain: message.domain };
    // The call's summary says the same at info: this one is for following a dialogue closely.
    this.logger.debug('security dialogue complete', {
      port: copy.port,
      line: entry.port.channel.lineId,
      call: entry.port.channel.callId,
      msgId: copy.msgId,
      error: copy.error,
      errorName: copy.error ? rasErrorName(copy.error) : undefined,
      user: copy.userName,
      domain: copy.domain,
      outcome: detail.outcome?.kind,
    });
    const deliver = () => {
      try {
        entry.onComplete?.(copy, detail);
      } catch (err) {
        this.logger.error('completion callback threw', { port: copy.port, error: errorSummary(err) });
      }
    };
    // The server must see begin() return before the completion (rasshost.h order).
    if (entry.beginning) queueMicrotask(deliver);
    else deliver();
    return NO_ERROR;
  }

  /**
   * RasSecurityDialogEnd: stop the port's dialogue (cleanly, in any state), release the handle.
   * Returns ERROR_PORT_DISCONNECTED (the transaction is over; no completion follows), or
   * ERROR_INVALID_PORT_HANDLE for an unknown or already-ended port.
   */
  end(port: PortHandle): number {
    const entry = this.ports.get(port);
    if (!entry) return ERROR_INVALID_PORT_HANDLE;
    this.ports.delete(port);
    try {
      entry.dialogue?.stop();
    } catch (err) {
      this.logger.error('security dialogue failed to stop', { port, error: errorSummary(err) });
    }
    entry.port.close(ERROR_PORT_DISCONNECTED);
    if (!entry.completed) this.logger.info('security dialogue ended before completion', { port, line: entry.port.channel.lineId, call: entry.port.channel.callId });
    return ERROR_PORT_DISCONNECTED;
  }

  /** RasSecurityDialogGetInfo. Throws RasError(ERROR_INVALID_PORT_HANDLE) for an unknown port. */
  getInfo(port: PortHandle): RasSecurityInfo {
    const entry = this.ports.get(port);
    if (!entry) throw new RasError(ERROR_INVALID_PORT_HANDLE);
    return entry.port.info();
  }

  /** Ports with a handle (opened and not yet ended). */
  get portCount(): number {
    return this.ports.size;
  }

  private refuse(port: PortHandle, entry: PortEntry | undefined, code: number, why: string): number {
    this.logger.warn('begin refused: hanging up', { port, rasError: code, name: rasErrorName(code), text: describeRasError(code), why });
    if (entry) {
      this.ports.delete(port);
      entry.dialogue?.stop();
      entry.port.close(code);
      entry.port.channel.hangup().catch((err: unknown) => this.logger.warn('hangup failed', { port, error: errorSummary(err) }));
    }
    return code;
  }
}
