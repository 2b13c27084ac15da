/**
 * The simulated modem's outgoing calls (ATD, V.250 §6.3.1), carried over TCP.
 *
 * Where a call goes: a dialled number is looked up in the modem's dial plan
 * (`sim://NAME?dial=NUMBER=tcp://HOST:PORT`, src/serial/sim-path.ts). An IP address with a port
 * (`ATDT127.0.0.1:6400`, as Hayes emulators for BBS software dial) is dialled as it is when it
 * is a loopback address; other hosts only through a number of the plan, so that whoever gets the
 * gateway to dial (a caller giving a callback number) reaches no host the operator did not name.
 *
 * What the modem reports (V.250 §5.7.1 Table 1, as under X4; callProgress() in sim-commands.ts
 * maps them for X0-X3):
 *   no dial tone (`dialtone=off`), after S6 seconds                      NO DIALTONE
 *   a number not in the plan, a non-loopback address (unobtainable)      NO CARRIER
 *   connection refused: nothing listens there, the far side turns away  BUSY
 *   no connection within S7 seconds: nobody picks up                     NO ANSWER
 *   closed or reset during the handshake, or S7 over during it           NO CARRIER
 *   any other connection error (host unreachable, ...)                   NO CARRIER
 *   connected, and the handshake (connectDelayMs) over                   CONNECT <speed>
 *   then the far side closes (carrier lost)                              NO CARRIER
 * S7 runs from dialling to CONNECT (V.250 §6.3.10). Bytes the far side sends before CONNECT are
 * not data and are dropped.
 */
import { BlockList, connect, isIP, type Socket } from 'node:net';
import type { TcpAddress } from '../options/address.js';
import type { LineClock } from './clock.js';
import type { DialTarget } from './sim-commands.js';
import type { DialPlan } from './sim-path.js';

export type DialFailure = 'BUSY' | 'NO_ANSWER' | 'NO_CARRIER';

/** Bytes queued to the far side before the modem holds CTS off (flow control). */
export const FAR_WRITE_LIMIT = 64 * 1024;

/** A hung-up call's connection is closed after its last bytes, or cut after this long (real time). */
const LINGER_MS = 5000;

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

function isLoopback(host: string): boolean {
  const family = isIP(host);
  return family !== 0 && LOOPBACK.check(host, family === 4 ? 'ipv4' : 'ipv6');
}

/** Where a dialled target goes, or undefined when it is unobtainable. */
export function resolveDialTarget(to: DialTarget, plan: DialPlan): TcpAddress | undefined {
  if ('number' in to) return plan.get(to.number);
  return isLoopback(to.host) ? { host: to.host, port: to.port } : undefined;
}

export interface OutgoingCallOptions {
  clock: LineClock;
  /** S7: from dialling to CONNECT. */
  waitMs: number;
  /** The modems' handshake once the far side picked up. */
  handshakeMs: number;
}

export interface OutgoingCallEvents {
  /** Carrier up: report CONNECT, go online. */
  connected(): void;
  /** Bytes from the far side, once connected. */
  data(bytes: Buffer): void;
  /** The far side took what was queued (CTS may come back on). */
  drained(): void;
  /** The call failed or the carrier was lost; not called after end(). */
  ended(result: DialFailure): void;
}

/** One outgoing call from dialling to hang-up. */
export class OutgoingCall {
  state: 'dialling' | 'handshake' | 'connected' | 'ended' = 'dialling';
  private readonly socket: Socket;
  private waitTimer?: unknown;
  private handshakeTimer?: unknown;

  constructor(readonly to: TcpAddress, private readonly o: OutgoingCallOptions, private readonly events: OutgoingCallEvents) {
    this.socket = connect({ host: to.host, port: to.port, noDelay: true });
    this.waitTimer = o.clock.setTimeout(() => this.fail(this.state === 'dialling' ? 'NO_ANSWER' : 'NO_CARRIER'), o.waitMs);
    this.socket.on('connect', () => {
      if (this.state !== 'dialling') return;
      this.state = 'handshake';
      this.handshakeTimer = o.clock.setTimeout(() => this.carrierUp(), o.handshakeMs);
    });
    this.socket.on('data', (bytes: Buffer) => {
      if (this.state === 'connected') events.data(bytes);
    });
    this.socket.on('drain', () => events.drained());
    this.socket.on('error', (err: NodeJS.ErrnoException) => this.fail(this.state === 'dialling' && err.code === 'ECONNREFUSED' ? 'BUSY' : 'NO_CARRIER'));
    this.socket.on('close', () => this.fail('NO_CARRIER'));
  }

  /** More queued to the far side than it takes: the modem holds CTS off. */
  get backedUp(): boolean {
    return this.state === 'connected' && this.socket.writableLength > FAR_WRITE_LIMIT;
  }

  /** Data from the DTE, once connected. */
  deliver(bytes: Buffer): void {
    if (this.state === 'connected') this.socket.write(bytes);
  }

  /** We hang up: the far side gets what was queued, then the connection closes. */
  end(): void {
    if (this.state === 'ended') return;
    const wasConnected = this.state === 'connected';
    this.finish();
    if (!wasConnected) return void this.socket.destroy();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), LINGER_MS).unref();
  }

  private carrierUp(): void {
    this.handshakeTimer = undefined;
    if (this.state !== 'handshake') return;
    this.clearTimers();
    this.state = 'connected';
    this.events.connected();
  }

  private fail(result: DialFailure): void {
    if (this.state === 'ended') return;
    this.finish();
    this.socket.destroy();
    this.events.ended(result);
  }

  private finish(): void {
    this.state = 'ended';
    this.clearTimers();
  }

  private clearTimers(): void {
    for (const t of [this.waitTimer, this.handshakeTimer]) if (t !== undefined) this.o.clock.clearTimeout(t);
    this.waitTimer = this.handshakeTimer = undefined;
  }
}
