/**
 * Telnet option handling for one connection: pure and incremental (no sockets here).
 * `feed(bytes)` splits what the client sent into plain data, bytes we must reply, and
 * events; `encode(data)` escapes IAC for sending. Option negotiation follows RFC 1143's
 * Q method so neither side can loop; options we do not support are refused with
 * DONT / WONT (RFC 854), once per option: a peer that asks again and again is not answered
 * again (RFC 854: "a party may not send a command to announce a mode it is already in"; a
 * refused option stays refused). Are You There gets one answer per chunk received. So replies
 * never outgrow what the peer sent. NVT CR NUL becomes CR (RFC 854 p.11).
 */
import { Cmd, Opt, TTYPE_IS, TTYPE_SEND } from './telnet-codes.js';
import { TelnetProtocolError } from './errors.js';

/** RFC 1143 §7 states; the queue bit is kept beside it. */
type Q = 'no' | 'yes' | 'wantno' | 'wantyes';

export type TelnetEvent =
  | { type: 'option'; side: 'us' | 'him'; option: number; enabled: boolean }
  | { type: 'naws'; width: number; height: number }
  | { type: 'ttype'; name: string }
  | { type: 'error'; error: TelnetProtocolError };

export interface TelnetFeedResult {
  /** Plain bytes from the client. */
  data: Buffer;
  /** Bytes to send back at once (negotiation answers). */
  reply: Buffer;
  events: TelnetEvent[];
}

export interface TelnetOptions {
  /** Options we agree to perform (WILL). Default ECHO, SGA, BINARY. */
  usSupported?: readonly number[];
  /** Options we agree the client performs (DO). Default SGA, NAWS, TTYPE, BINARY. */
  himSupported?: readonly number[];
  /** Longest subnegotiation payload kept, in bytes. Default 64. */
  maxSubnegotiation?: number;
}

/** Longest telnet subnegotiation payload kept (NAWS needs 4, TTYPE a terminal name). */
export const SUBNEGOTIATION_LIMIT = 64;

const AYT_ANSWER = [...Buffer.from('\r\n[yes]\r\n', 'latin1')];

const enum S {
  Data,
  Iac,
  Verb,
  SbOpt,
  SbData,
  SbIac,
}

export class TelnetSession {
  private readonly us = new Map<number, Q>();
  private readonly usQueue = new Set<number>();
  private readonly him = new Map<number, Q>();
  private readonly himQueue = new Set<number>();
  /** Options we refused (per side): asked again, they are not answered again. */
  private readonly usRefused = new Set<number>();
  private readonly himRefused = new Set<number>();
  private readonly usSupported: Set<number>;
  private readonly himSupported: Set<number>;
  private readonly maxSb: number;

  private state = S.Data;
  private verb = 0;
  private afterCr = false;
  private sbOption = 0;
  private sb: number[] = [];
  private sbOverflow = false;
  private answeredAyt = false;

  constructor(options: TelnetOptions = {}) {
    this.usSupported = new Set(options.usSupported ?? [Opt.ECHO, Opt.SGA, Opt.BINARY]);
    this.himSupported = new Set(options.himSupported ?? [Opt.SGA, Opt.NAWS, Opt.TTYPE, Opt.BINARY]);
    this.maxSb = options.maxSubnegotiation ?? SUBNEGOTIATION_LIMIT;
  }

  /** The negotiation a server opens with: WILL ECHO, WILL SGA, DO SGA (character mode, no local echo). */
  start(): Buffer {
    const out: number[] = [];
    this.askUs(Opt.ECHO, out);
    this.askUs(Opt.SGA, out);
    this.askHim(Opt.SGA, out);
    return Buffer.from(out);
  }

  /** Whether an option is enabled on our side ('us') or the client's ('him'). */
  enabled(side: 'us' | 'him', option: number): boolean {
    return (side === 'us' ? this.us : this.him).get(option) === 'yes';
  }

  /** Whether we are still waiting for the client's answer about an option. */
  pending(side: 'us' | 'him', option: number): boolean {
    const q = (side === 'us' ? this.us : this.him).get(option);
    return q === 'wantyes' || q === 'wantno';
  }

  /**
   * Escape data for the wire: IAC doubled (RFC 854); outside BINARY a CR not followed by LF
   * in the same buffer is sent as CR NUL (RFC 854 p.11), so write "\r\n" in one piece.
   */
  encode(data: Uint8Array): Buffer {
    const binary = this.enabled('us', Opt.BINARY);
    if (data.indexOf(Cmd.IAC) < 0 && (binary || data.indexOf(0x0d) < 0)) return Buffer.from(data);
    const out: number[] = [];
    for (let i = 0; i < data.length; i++) {
      const b = data[i]!;
      out.push(b);
      if (b === Cmd.IAC) out.push(Cmd.IAC);
      else if (b === 0x0d && !binary && data[i + 1] !== 0x0a) out.push(0);
    }
    return Buffer.from(out);
  }

  feed(bytes: Uint8Array): TelnetFeedResult {
    const data: number[] = [];
    const reply: number[] = [];
    const events: TelnetEvent[] = [];
    this.answeredAyt = false;
    for (const b of bytes) {
      switch (this.state) {
        case S.Data:
          if (b === Cmd.IAC) {
            this.state = S.Iac;
          } else if (this.afterCr && b === 0 && !this.enabled('him', Opt.BINARY)) {
            this.afterCr = false; // CR NUL -> CR
          } else {
            data.push(b);
            this.afterCr = b === 0x0d;
          }
          break;
        case S.Iac:
          this.state = S.Data;
          this.command(b, data, reply);
          break;
        case S.Verb:
          this.state = S.Data;
          this.negotiate(this.verb, b, reply, events);
          break;
        case S.SbOpt:
          this.sbOption = b;
          this.sb = [];
          this.sbOverflow = false;
          this.state = S.SbData;
          break;
        case S.SbData:
          if (b === Cmd.IAC) this.state = S.SbIac;
          else this.sbByte(b, events);
          break;
        case S.SbIac:
          if (b === Cmd.IAC) {
            this.state = S.SbData;
            this.sbByte(b, events);
          } else {
            // IAC SE ends it; any other command ends it too (robustness), then runs.
            this.state = S.Data;
            if (!this.sbOverflow) this.subnegotiation(events);
            if (b !== Cmd.SE) this.command(b, data, reply);
          }
          break;
      }
    }
    return { data: Buffer.from(data), reply: Buffer.from(reply), events };
  }

  private command(b: number, data: number[], reply: number[]): void {
    this.afterCr = false;
    switch (b) {
      case Cmd.IAC:
        data.push(Cmd.IAC);
        break;
      case Cmd.WILL:
      case Cmd.WONT:
      case Cmd.DO:
      case Cmd.DONT:
        this.verb = b;
        this.state = S.Verb;
        break;
      case Cmd.SB:
        this.state = S.SbOpt;
        break;
      case Cmd.IP:
        data.push(0x03); // ^C: the line discipline aborts
        break;
      case Cmd.EC:
        data.push(0x7f);
        break;
      case Cmd.EL:
        data.push(0x15); // ^U
        break;
      case Cmd.AYT:
        if (!this.answeredAyt) reply.push(...AYT_ANSWER);
        this.answeredAyt = true;
        break;
      default:
        break; // NOP, DM, BRK, AO, GA, SE out of place, or noise: ignored
    }
  }

  private sbByte(b: number, events: TelnetEvent[]): void {
    if (this.sbOverflow) return;
    if (this.sb.length >= this.maxSb) {
      this.sbOverflow = true;
      this.sb = [];
      events.push({ type: 'error', error: new TelnetProtocolError('TELNET_SB_TOO_LONG', `subnegotiation for option ${this.sbOption} longer than ${this.maxSb} bytes`) });
      return;
    }
    this.sb.push(b);
  }

  private subnegotiation(events: TelnetEvent[]): void {
    const p = this.sb;
    if (this.sbOption === Opt.NAWS && this.enabled('him', Opt.NAWS) && p.length === 4) {
      events.push({ type: 'naws', width: (p[0]! << 8) | p[1]!, height: (p[2]! << 8) | p[3]! });
    } else if (this.sbOption === Opt.TTYPE && this.enabled('him', Opt.TTYPE) && p[0] === TTYPE_IS) {
      const name = Buffer.from(p.slice(1)).toString('latin1').replace(/[^\x20-\x7e]/g, '').slice(0, 40);
      events.push({ type: 'ttype', name });
    }
  }

  /** RFC 1143 §7: receiving WILL/WONT (him) or DO/DONT (us). */
  private negotiate(verb: number, opt: number, reply: number[], events: TelnetEvent[]): void {
    const himSide = verb === Cmd.WILL || verb === Cmd.WONT;
    const positive = verb === Cmd.WILL || verb === Cmd.DO;
    const table = himSide ? this.him : this.us;
    const queue = himSide ? this.himQueue : this.usQueue;
    const supported = himSide ? this.himSupported : this.usSupported;
    const yesVerb = himSide ? Cmd.DO : Cmd.WILL;
    const noVerb = himSide ? Cmd.DONT : Cmd.WONT;
    const side = himSide ? 'him' : 'us';
    const refused = himSide ? this.himRefused : this.usRefused;
    const before = table.get(opt) ?? 'no';
    const set = (q: Q) => {
      table.set(opt, q);
      if ((before === 'yes') !== (q === 'yes')) {
        events.push({ type: 'option', side, option: opt, enabled: q === 'yes' });
        if (q === 'yes') this.enabledHook(side, opt, reply);
      }
    };
    const queued = queue.has(opt);
    if (positive) {
      switch (before) {
        case 'no':
          if (supported.has(opt)) {
            reply.push(Cmd.IAC, yesVerb, opt);
            set('yes');
          } else if (!refused.has(opt)) {
            refused.add(opt);
            reply.push(Cmd.IAC, noVerb, opt);
          }
          break;
        case 'yes':
          break;
        case 'wantno':
          queue.delete(opt);
          set(queued ? 'yes' : 'no'); // EMPTY: peer answered our DONT with WILL (error), take NO
          break;
        case 'wantyes':
          if (queued) {
            queue.delete(opt);
            set('wantno');
            reply.push(Cmd.IAC, noVerb, opt);
          } else set('yes');
          break;
      }
    } else {
      switch (before) {
        case 'no':
          break;
        case 'yes':
          set('no');
          reply.push(Cmd.IAC, noVerb, opt);
          break;
        case 'wantno':
          if (queued) {
            queue.delete(opt);
            set('wantyes');
            reply.push(Cmd.IAC, yesVerb, opt);
          } else set('no');
          break;
        case 'wantyes':
          queue.delete(opt);
          set('no');
          break;
      }
    }
  }

  /** Follow-ups once an option is on: ask for the terminal type (RFC 1091 §3). */
  private enabledHook(side: 'us' | 'him', opt: number, reply: number[]): void {
    if (side === 'him' && opt === Opt.TTYPE) reply.push(Cmd.IAC, Cmd.SB, Opt.TTYPE, TTYPE_SEND, Cmd.IAC, Cmd.SE);
  }

  private askUs(opt: number, out: number[]): void {
    this.ask(this.us, this.usQueue, Cmd.WILL, opt, out);
  }

  private askHim(opt: number, out: number[]): void {
    this.ask(this.him, this.himQueue, Cmd.DO, opt, out);
  }

  /** RFC 1143 §7: we ask to enable an option. */
  private ask(table: Map<number, Q>, queue: Set<number>, verb: number, opt: number, out: number[]): void {
    const q = table.get(opt) ?? 'no';
    if (q === 'no') {
      table.set(opt, 'wantyes');
      out.push(Cmd.IAC, verb, opt);
    } else if (q === 'wantno') queue.add(opt);
    else if (q === 'wantyes') queue.delete(opt);
  }
}
