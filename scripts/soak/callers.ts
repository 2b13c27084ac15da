/**
 * The soak's callers: ordinary and hostile, in a seeded random mix. Each run of a behaviour is
 * one connection (one call, unless the line refuses it) and ends with a caller-side outcome;
 * ordinary callers also say whether the line answered as it should.
 *
 *  login-ok      right password (plain, DOMAIN\user, user@domain, typed slowly, CR LF, a typo
 *                erased with DEL); expects "Login accepted".
 *  login-wrong   wrong passwords (and unknown users), sometimes the right one at the last try;
 *                expects the refusal, or the acceptance when the last try was right.
 *  hangup-mid    hangs up at a random point of the dialogue (before the prompt, mid-field, while
 *                the password is verified, during the failure delay; on a modem line also just
 *                after CONNECT, in the line's quiet period).
 *  stop-reading  stops reading and keeps sending (telnet `IAC WILL 99` flood, keystrokes, a
 *                line typed and erased with ^U so that every byte is echoed several times).
 *  garbage       random bytes, telnet negotiation floods, control characters and escape
 *                sequences, very long lines, a PPP frame, on a modem line the Hayes escape
 *                (`+++` between guard times); then hangs up or waits to be hung up.
 *  hog           (TCP lines) one peer opens more connections than the line's maxCalls and holds
 *                them; another peer then tries an ordinary login on that line ("probe").
 *
 * Ordinary callers (login-ok, the hog's probe) log in to their own accounts from addresses and
 * caller numbers the soak's penalties allow (127.10.x.y and 127.11.x.y, 5551xxxx), as distinct
 * peers would. Hostile callers guess at other accounts (victims, and a bounded set of unknown
 * names, so that the lockout table fills and stays full) from a few addresses of their own
 * (127.12.x.y) or numbers 5559xxxx: their sources are penalised now and then, and then refused.
 * Every wait has a bound well above the dialogue's own timeouts: a caller left waiting past it
 * is an outcome of its own (`no-answer`), never a hang.
 */
import { connect, type Socket } from 'node:net';
import { Cmd, Opt } from '../../src/serial/telnet-codes.js';

export type LineKind = 'telnet' | 'raw' | 'sim';

export interface Target {
  kind: LineKind;
  lineId: string;
  /** TCP line: its port; sim line: the modem's far-side port. */
  port: number;
}

export const BEHAVIOURS = ['login-ok', 'login-wrong', 'hangup-mid', 'stop-reading', 'garbage', 'hog'] as const;
export type Behaviour = (typeof BEHAVIOURS)[number];

export interface Outcome {
  behaviour: Behaviour;
  variant: string;
  kind: LineKind;
  /** What the caller saw: accepted, refused, busy, hung-up, cut-off, closed, held, no-answer, ... */
  outcome: string;
  /** Ordinary callers: the line did not answer as it should (the outcome says how). */
  unexpected?: boolean;
  /** With an unexpected outcome: the end of what the caller received. */
  seen?: string;
  /** Connections the behaviour opened (a hog opens many). */
  connections: number;
}

/** What one behaviour found, before the runner adds what it knows (connections, transcript). */
type Finding = Omit<Outcome, 'connections' | 'seen'>;

export interface Users {
  domain: string;
  /** Ordinary callers' accounts: never sent a wrong password, never locked. */
  accounts: Array<{ name: string; password: string }>;
  /** The accounts hostile callers guess at (locked now and then). */
  victims: Array<{ name: string; password: string }>;
}

export interface CallerContext {
  rand: () => number;
  users: Users;
  /** The dialogue's limits, to bound the caller's own waits and floods. */
  fieldTimeoutMs: number;
  loginTimeoutMs: number;
  /** The TCP lines' maxCalls (hog opens more than this). */
  maxCalls: number;
  /** Ordinary callers' source address. */
  localAddress: string;
  /** Another source address (the hog's probe comes from a different peer). */
  probeAddress: string;
  /** A hostile caller's source address (one of a few, picked per call). */
  hostileAddress: () => string;
  /** Caller numbers on modem lines start with these (then four digits). */
  numberPrefixes: { ordinary: string; hostile: string };
  signal: AbortSignal;
  /** Every connection the behaviour opened (for the report of surprises). */
  opened?: LineCaller[];
}

const pick = <T>(rand: () => number, items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
const between = (rand: () => number, lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

const LOGIN = /login: $/;
const PASSWORD = /Password: $/;
const ACCEPTED = /Login accepted/;
const INCORRECT = /Login incorrect/;
const BUSY = /BUSY/;
/** What a penalised source hears before the line closes (penalties.refusal, the default). */
const PENALISED = /Too many failed logins/;
/** A modem call from DIAL to CONNECT: the second RING (the sim modem rings every 6 s), then 1500 ms of handshake. */
const SIM_CONNECT_MS = 6000 + 1500;
/** Unknown names hostile callers try: a bounded set (the lockout counts them like real names). */
const UNKNOWN_NAMES = 64;
/** Kept of what a caller received: enough for prompts and results, never the whole flood. */
const TAIL = 4096;

type Wait = 'match' | 'closed' | 'timeout' | 'aborted';

/** One connection to a line, as a terminal or script would make it. */
export class LineCaller {
  readonly socket: Socket;
  private tail = '';
  /** The end of everything received (not cleared by until()). */
  history = '';
  received = 0;
  closed = false;
  error?: string;
  /** This end's address, as the gateway logs the peer. */
  peer = '';
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly target: Target,
    o: { localAddress: string; politeTelnet: boolean; dialNumber?: string; signal: AbortSignal },
  ) {
    this.socket = connect({ host: '127.0.0.1', port: target.port, localAddress: o.localAddress, noDelay: true });
    this.socket.on('connect', () => {
      this.peer = `${this.socket.localAddress}:${this.socket.localPort}`;
      if (target.kind === 'sim') this.socket.write(`DIAL ${o.dialNumber ?? '5550100'}\r\n`);
    });
    this.socket.on('data', (b: Buffer) => {
      this.received += b.length;
      const text = target.kind === 'telnet' ? this.telnet(b, o.politeTelnet) : b.toString('latin1');
      this.tail = (this.tail + text).slice(-TAIL);
      this.history = (this.history + text).slice(-160);
      this.wake();
    });
    this.socket.on('error', (err) => (this.error = (err as NodeJS.ErrnoException).code ?? err.message));
    this.socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    const abort = () => this.hangup();
    o.signal.addEventListener('abort', abort, { once: true });
    this.socket.once('close', () => o.signal.removeEventListener('abort', abort));
  }

  get text(): string {
    return this.tail;
  }

  private wake(): void {
    for (const w of this.waiters) w();
  }

  /** Telnet commands out of the text; a polite client agrees to our echo and SGA, refuses the rest. */
  private telnet(b: Buffer, polite: boolean): string {
    const out: number[] = [];
    for (let i = 0; i < b.length; i++) {
      if (b[i] !== Cmd.IAC) {
        out.push(b[i]!);
        continue;
      }
      const cmd = b[i + 1];
      if (cmd === undefined) break;
      if (cmd >= Cmd.WILL && cmd <= Cmd.DONT) {
        const opt = b[i + 2];
        if (opt === undefined) break;
        if (polite && !this.socket.destroyed) {
          if (cmd === Cmd.WILL) this.socket.write(Buffer.of(Cmd.IAC, opt === Opt.ECHO || opt === Opt.SGA ? Cmd.DO : Cmd.DONT, opt));
          else if (cmd === Cmd.DO) this.socket.write(Buffer.of(Cmd.IAC, opt === Opt.SGA ? Cmd.WILL : Cmd.WONT, opt));
        }
        i += 2;
      } else if (cmd === Cmd.SB) {
        const end = b.indexOf(Buffer.of(Cmd.IAC, Cmd.SE), i);
        i = end < 0 ? b.length : end + 1;
      } else if (cmd === Cmd.IAC) {
        out.push(Cmd.IAC);
        i += 1;
      } else i += 1;
    }
    return Buffer.from(out).toString('latin1');
  }

  /** Wait until the text so far matches `re` (then clear it), the line closes, or `ms` pass. */
  until(re: RegExp, ms: number, signal: AbortSignal): Promise<Wait> {
    return new Promise((resolve) => {
      const done = (w: Wait) => {
        this.waiters.delete(check);
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(w);
      };
      const check = () => {
        if (re.test(this.tail)) {
          this.tail = '';
          done('match');
        } else if (this.closed) done('closed');
      };
      const onAbort = () => done('aborted');
      const timer = setTimeout(() => done('timeout'), ms);
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(check);
      check();
    });
  }

  /** Resolve when the line is closed (by either side), or after `ms`. */
  async closedWithin(ms: number, signal: AbortSignal): Promise<boolean> {
    return (await this.until(/(?!)/, ms, signal)) === 'closed';
  }

  type(text: string | Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(typeof text === 'string' ? Buffer.from(text, 'latin1') : text);
  }

  /** Write and wait until the kernel took it (or the line is gone). */
  send(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      if (this.socket.write(bytes)) return resolve();
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  stopReading(): void {
    this.socket.pause();
  }

  hangup(): void {
    this.socket.destroy();
  }
}

/** What the caller saw when a wait did not match. */
function missed(w: Wait, c: LineCaller): string {
  if (w === 'aborted') return 'aborted';
  if (BUSY.test(c.text)) return 'busy';
  if (PENALISED.test(c.text)) return 'refused-penalty';
  return w === 'closed' ? 'closed-early' : 'no-answer';
}

/** How long a caller waits for the next prompt or result: the dialogue's own limits, with margin. */
function patience(ctx: CallerContext, c: LineCaller): number {
  // A modem call rings, answers (about 2 s) and waits for the line to be quiet first; a loaded
  // machine (2 shared cores) may delay the gateway by seconds: only a line that never answers counts.
  return ctx.fieldTimeoutMs + (c.target.kind === 'sim' ? 50_000 : 40_000);
}

export async function runBehaviour(behaviour: Behaviour, target: Target, ctx: CallerContext): Promise<Outcome> {
  const opened: LineCaller[] = [];
  const o = { ...(await RUN[behaviour](target, { ...ctx, opened })), connections: opened.length };
  const last = opened.at(-1);
  // The caller's address names the call in the gateway's log (`call connected`, peer).
  return o.unexpected && last ? { ...o, seen: `${last.target.lineId} from ${last.peer}${last.error ? ` (${last.error})` : ''}: ${JSON.stringify(last.history)}` } : o;
}

const RUN: Record<Behaviour, (target: Target, ctx: CallerContext) => Promise<Finding>> = {
  'login-ok': (t, c) => loginOk(t, c),
  'login-wrong': loginWrong,
  'hangup-mid': hangupMid,
  'stop-reading': stopReading,
  garbage,
  hog,
};

/** A call from an ordinary caller (`localAddress`), or from a hostile one (`hostile`). */
function open(target: Target, ctx: CallerContext, o: { hostile: boolean; politeTelnet?: boolean; localAddress?: string }): LineCaller {
  const localAddress = o.localAddress ?? (o.hostile ? ctx.hostileAddress() : ctx.localAddress);
  const dialNumber = `${o.hostile ? ctx.numberPrefixes.hostile : ctx.numberPrefixes.ordinary}${between(ctx.rand, 1000, 9999)}`;
  const c = new LineCaller(target, { localAddress, politeTelnet: o.politeTelnet ?? ctx.rand() < 0.8, dialNumber, signal: ctx.signal });
  ctx.opened?.push(c);
  return c;
}

/** Type `text` one character at a time, `gapMs` apart. */
async function typeSlowly(c: LineCaller, text: string, gapMs: number, signal: AbortSignal): Promise<void> {
  for (const ch of text) {
    if (c.closed || signal.aborted) return;
    c.type(ch);
    await sleep(gapMs, signal);
  }
}

/** A user name as the variant types it. */
function userAs(variant: string, name: string, domain: string): string {
  if (variant === 'domain-form') return `${domain}\\${name}`;
  if (variant === 'upn') return `${name}@${domain}`;
  return name;
}

async function enter(c: LineCaller, variant: string, text: string, signal: AbortSignal): Promise<void> {
  if (variant === 'slow') return typeSlowly(c, `${text}\r`, 15, signal);
  if (variant === 'typo') {
    c.type(`${text}x\x7f\r`);
    return;
  }
  c.type(`${text}${variant === 'crlf' ? '\r\n' : '\r'}`);
}

async function loginOk(target: Target, ctx: CallerContext, localAddress = ctx.localAddress, polite?: boolean): Promise<Finding> {
  const variant = pick(ctx.rand, ['plain', 'plain', 'domain-form', 'upn', 'slow', 'crlf', 'typo']);
  const base = { behaviour: 'login-ok' as const, variant, kind: target.kind };
  const account = pick(ctx.rand, ctx.users.accounts);
  const c = open(target, ctx, { hostile: false, politeTelnet: polite ?? ctx.rand() < 0.8, localAddress });
  try {
    let w = await c.until(LOGIN, patience(ctx, c), ctx.signal);
    if (w !== 'match') return { ...base, outcome: missed(w, c), unexpected: w !== 'aborted' && missed(w, c) !== 'busy' };
    await enter(c, variant, userAs(variant, account.name, ctx.users.domain), ctx.signal);
    w = await c.until(PASSWORD, patience(ctx, c), ctx.signal);
    if (w !== 'match') return { ...base, outcome: `no-password-prompt:${missed(w, c)}`, unexpected: w !== 'aborted' };
    await enter(c, variant === 'typo' ? 'plain' : variant, account.password, ctx.signal);
    w = await c.until(ACCEPTED, patience(ctx, c), ctx.signal);
    if (w !== 'match') return { ...base, outcome: INCORRECT.test(c.text) ? 'refused' : `no-result:${missed(w, c)}`, unexpected: w !== 'aborted' };
    // On a hangup line the gateway drops the call after saying so.
    const closed = await c.closedWithin(patience(ctx, c), ctx.signal);
    return { ...base, outcome: closed || ctx.signal.aborted ? 'accepted' : 'accepted-not-hung-up', unexpected: !closed && !ctx.signal.aborted };
  } finally {
    c.hangup();
  }
}

async function loginWrong(target: Target, ctx: CallerContext): Promise<Finding> {
  const variant = pick(ctx.rand, ['wrong-password', 'wrong-password', 'unknown-user', 'empty-password', 'right-at-last']);
  const base = { behaviour: 'login-wrong' as const, variant, kind: target.kind };
  const account = pick(ctx.rand, ctx.users.victims);
  // maxAttempts is 3 in the soak configuration: the last try of right-at-last is the third.
  const tries = variant === 'right-at-last' ? 3 : between(ctx.rand, 1, 3);
  const c = open(target, ctx, { hostile: true });
  try {
    for (let i = 1; i <= tries; i++) {
      let w = await c.until(LOGIN, patience(ctx, c), ctx.signal);
      // Busy, or the source penalised (before the first prompt: the call is refused at once).
      if (w !== 'match') return { ...base, outcome: `attempt-${i}:${missed(w, c)}`, unexpected: w !== 'aborted' && !['busy', 'refused-penalty'].includes(missed(w, c)) };
      const right = variant === 'right-at-last' && i === tries;
      c.type(`${variant === 'unknown-user' ? `nobody${between(ctx.rand, 0, UNKNOWN_NAMES - 1)}` : account.name}\r`);
      w = await c.until(PASSWORD, patience(ctx, c), ctx.signal);
      if (w !== 'match') return { ...base, outcome: `no-password-prompt:${missed(w, c)}`, unexpected: w !== 'aborted' };
      c.type(`${right ? account.password : variant === 'empty-password' ? '' : `${account.password}-wrong${i}`}\r`);
      if (right) {
        // The guessed account may be locked now: then the right password is heard as a wrong one.
        w = await c.until(/Login accepted|Login incorrect/, patience(ctx, c), ctx.signal);
        const outcome = w !== 'match' ? `no-result:${missed(w, c)}` : ACCEPTED.test(c.history) ? 'accepted' : 'refused-at-last (locked)';
        return { ...base, outcome, unexpected: w !== 'match' && w !== 'aborted' };
      }
      w = await c.until(INCORRECT, patience(ctx, c), ctx.signal);
      if (w !== 'match') return { ...base, outcome: `no-refusal:${missed(w, c)}`, unexpected: w !== 'aborted' };
    }
    if (tries < 3) return { ...base, outcome: 'refused-then-hung-up' };
    // After the last attempt the line is hung up.
    const closed = await c.closedWithin(patience(ctx, c), ctx.signal);
    return { ...base, outcome: closed || ctx.signal.aborted ? 'refused' : 'refused-not-hung-up', unexpected: !closed && !ctx.signal.aborted };
  } finally {
    c.hangup();
  }
}

async function hangupMid(target: Target, ctx: CallerContext): Promise<Finding> {
  // in-quiet (modem lines): just after CONNECT, while the line waits for quiet before the call.
  const variant = pick(ctx.rand, ['on-connect', 'before-prompt', 'mid-user', 'at-password', 'mid-password', 'after-enter', 'failure-delay', ...(target.kind === 'sim' ? ['in-quiet'] : [])]);
  const base = { behaviour: 'hangup-mid' as const, variant, kind: target.kind };
  const account = pick(ctx.rand, ctx.users.victims);
  const c = open(target, ctx, { hostile: true });
  const p = patience(ctx, c);
  const hungUp = () => {
    c.hangup();
    return { ...base, outcome: 'hung-up' };
  };
  try {
    if (variant === 'on-connect') {
      await new Promise<void>((r) => (c.socket.connecting ? c.socket.once('connect', () => r()).once('close', () => r()) : r()));
      return hungUp();
    }
    if (variant === 'in-quiet') {
      // The soak's modem lines answer on the second RING (caller ID comes after the first), 6 s
      // after the first; the sim modem connects 1500 ms after ATA; quietMs is 300.
      await sleep(between(ctx.rand, SIM_CONNECT_MS - 50, SIM_CONNECT_MS + 350), ctx.signal);
      return hungUp();
    }
    if (variant === 'before-prompt') {
      await sleep(between(ctx.rand, 0, target.kind === 'sim' ? SIM_CONNECT_MS + 1000 : 600), ctx.signal);
      return hungUp();
    }
    let w = await c.until(LOGIN, p, ctx.signal);
    if (w !== 'match') return { ...base, outcome: missed(w, c) };
    if (variant === 'mid-user') {
      c.type(account.name.slice(0, between(ctx.rand, 1, account.name.length)));
      await sleep(between(ctx.rand, 0, 50), ctx.signal);
      return hungUp();
    }
    c.type(`${account.name}\r`);
    w = await c.until(PASSWORD, p, ctx.signal);
    if (w !== 'match') return { ...base, outcome: `no-password-prompt:${missed(w, c)}` };
    if (variant === 'at-password') return hungUp();
    if (variant === 'mid-password') {
      c.type(account.password.slice(0, between(ctx.rand, 1, account.password.length)));
      return hungUp();
    }
    const right = variant === 'after-enter' && ctx.rand() < 0.5;
    c.type(`${right ? account.password : 'not-the-password'}\r`);
    if (variant === 'after-enter') {
      // During the verification: the NTLM legs are in flight.
      await sleep(between(ctx.rand, 0, 3), ctx.signal);
      return hungUp();
    }
    // failure-delay: after "Login incorrect", before the next prompt.
    w = await c.until(INCORRECT, p, ctx.signal);
    return w === 'match' ? hungUp() : { ...base, outcome: `no-refusal:${missed(w, c)}` };
  } finally {
    c.hangup();
  }
}

/** Whole commands only (3 x 21845 bytes): a chunk boundary must not split one into data. */
const TELNET_WILL_99 = Buffer.alloc(3 * 21845, Buffer.of(Cmd.IAC, Cmd.WILL, 99));

/** Keep sending `next()` until the line is gone, `budget` bytes went, or `ms` passed. */
async function keepSending(c: LineCaller, next: () => Uint8Array, budget: number, ms: number, gapMs: number, signal: AbortSignal): Promise<'cut-off' | 'held' | 'aborted'> {
  const end = Date.now() + ms;
  let sent = 0;
  while (!c.closed && !signal.aborted && sent < budget && Date.now() < end) {
    const chunk = next();
    await c.send(chunk);
    sent += chunk.length;
    if (gapMs) await sleep(gapMs, signal);
  }
  if (signal.aborted) return 'aborted';
  return c.closed ? 'cut-off' : 'held';
}

async function stopReading(target: Target, ctx: CallerContext): Promise<Finding> {
  const variants = target.kind === 'telnet' ? ['iac-will-flood', 'iac-will-flood', 'keystrokes', 'erase-echo'] : ['keystrokes', 'erase-echo'];
  const variant = pick(ctx.rand, variants);
  const base = { behaviour: 'stop-reading' as const, variant, kind: target.kind };
  const c = open(target, ctx, { hostile: true });
  try {
    // Read the first prompt, then stop reading for good.
    const w = await c.until(LOGIN, patience(ctx, c), ctx.signal);
    if (w !== 'match') return { ...base, outcome: missed(w, c) };
    c.stopReading();
    // Long enough for field warnings and timeouts to be written to a caller that does not read.
    const holdMs = between(ctx.rand, ctx.fieldTimeoutMs / 2, ctx.fieldTimeoutMs * 2);
    let outcome: string;
    if (variant === 'iac-will-flood') {
      outcome = await keepSending(c, () => TELNET_WILL_99, 16 * 1024 * 1024, holdMs, 0, ctx.signal);
    } else if (variant === 'keystrokes') {
      let i = 0;
      outcome = await keepSending(c, () => Buffer.from(`user${i++ % 97}\r`, 'latin1'), 16 * 1024 * 1024, holdMs, 20, ctx.signal);
    } else {
      // A line typed, then erased with ^U: the gateway echoes it, then rubs it out.
      const line = Buffer.from(`${'a'.repeat(120)}\x15`, 'latin1');
      // On a modem line the far side has the line's pace: keep to a few KiB a second there.
      outcome = await keepSending(c, () => line, 64 * 1024 * 1024, holdMs, target.kind === 'sim' ? 40 : 1, ctx.signal);
    }
    return { ...base, outcome };
  } finally {
    c.hangup();
  }
}

function randomBytes(rand: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

/** A flood of negotiation: every verb on random options, subnegotiations long and unfinished. */
function negotiationFlood(rand: () => number, n: number): Buffer {
  const out: number[] = [];
  while (out.length < n) {
    const r = rand();
    if (r < 0.6) out.push(Cmd.IAC, pick(rand, [Cmd.WILL, Cmd.WONT, Cmd.DO, Cmd.DONT]), Math.floor(rand() * 256));
    else if (r < 0.75) out.push(Cmd.IAC, Cmd.SB, pick(rand, [Opt.TTYPE, Opt.NAWS, 99]), ...randomBytes(rand, between(rand, 0, 300)), ...(rand() < 0.5 ? [Cmd.IAC, Cmd.SE] : []));
    else if (r < 0.85) out.push(Cmd.IAC, pick(rand, [Cmd.NOP, Cmd.AYT, Cmd.IP, Cmd.AO, Cmd.BRK, Cmd.EC, Cmd.EL, Cmd.GA, Cmd.DM]));
    else if (r < 0.95) out.push(Cmd.IAC, Cmd.IAC);
    else out.push(Cmd.IAC);
  }
  return Buffer.from(out);
}

const CONTROL_PIECES = ['\x03', '\x04', '\x1a', '\x13', '\x11', '\x15', '\x17', '\x08', '\x7f', '\x00', '\x1b', '\x1b[', '\x1b[99999999999999m', '\x1b]0;title\x07', '\x1bP', '\x9b', '\x1b[?1049h', '\r\0', '\n', '\r\n\r\n', '\t'];

function controlFlood(rand: () => number, n: number): Buffer {
  let s = '';
  while (s.length < n) s += rand() < 0.8 ? pick(rand, CONTROL_PIECES) : String.fromCharCode(between(rand, 0, 31));
  return Buffer.from(s, 'latin1');
}

/** LCP Configure-Request as a PPP peer starts (RFC 1662 framing): the AutoPPP signature. */
const PPP_FRAME = Buffer.from('7eff7d23c0217d217d217d207d347d227d267d207d207d207d207d257d267d2a7d3b5b2b7e', 'hex');

async function garbage(target: Target, ctx: CallerContext): Promise<Finding> {
  const variants = ['random-bytes', 'control-chars', 'long-line', 'ppp-frame', 'high-bytes', ...(target.kind === 'telnet' ? ['negotiation', 'negotiation'] : []), ...(target.kind === 'sim' ? ['escape'] : [])];
  const variant = pick(ctx.rand, variants);
  const base = { behaviour: 'garbage' as const, variant, kind: target.kind };
  const c = open(target, ctx, { hostile: true });
  try {
    if (variant === 'escape') return { ...base, outcome: await escape(c, ctx) };
    // Half of them do not even wait for the prompt.
    if (ctx.rand() < 0.5) {
      const w = await c.until(LOGIN, patience(ctx, c), ctx.signal);
      if (w !== 'match') return { ...base, outcome: missed(w, c) };
    }
    // A modem line has the line's pace: smaller amounts there.
    const size = target.kind === 'sim' ? between(ctx.rand, 64, 4096) : between(ctx.rand, 256, 256 * 1024);
    const chunks: Buffer[] = [];
    if (variant === 'random-bytes') chunks.push(randomBytes(ctx.rand, size));
    else if (variant === 'negotiation') chunks.push(negotiationFlood(ctx.rand, size));
    else if (variant === 'control-chars') chunks.push(controlFlood(ctx.rand, size));
    else if (variant === 'long-line') chunks.push(Buffer.alloc(target.kind === 'sim' ? size : between(ctx.rand, 64 * 1024, 2 * 1024 * 1024), 'x'), Buffer.from('\r'));
    else if (variant === 'ppp-frame') chunks.push(PPP_FRAME);
    else chunks.push(Buffer.from(Array.from({ length: size }, () => between(ctx.rand, 0x80, 0xff))));
    for (const chunk of chunks) {
      // In random pieces, as a line delivers them.
      for (let at = 0; at < chunk.length && !c.closed; ) {
        const n = between(ctx.rand, 1, 8192);
        await c.send(chunk.subarray(at, at + n));
        at += n;
      }
    }
    if (ctx.rand() < 0.4) return { ...base, outcome: 'hung-up' };
    // Wait for the gateway to end the call (timeouts, attempts, PPP refused).
    const closed = await c.closedWithin(ctx.loginTimeoutMs + 20_000, ctx.signal);
    return { ...base, outcome: ctx.signal.aborted ? 'aborted' : closed ? 'closed-by-line' : 'not-hung-up', unexpected: !closed && !ctx.signal.aborted };
  } finally {
    c.hangup();
  }
}

/**
 * The Hayes escape typed at the prompt: guard time, `+++`, guard time (V.250 S2, S12; the sim
 * modem's guard is 1 s). Echoed by the gateway with the caller's timing, it reaches the modem as
 * an escape from the gateway's own side; what follows the escape would be an AT command.
 */
async function escape(c: LineCaller, ctx: CallerContext): Promise<string> {
  const w = await c.until(LOGIN, patience(ctx, c), ctx.signal);
  if (w !== 'match') return missed(w, c);
  await sleep(1300, ctx.signal);
  for (let i = 0; i < 3; i++) {
    c.type('+');
    await sleep(100, ctx.signal);
  }
  await sleep(1500, ctx.signal);
  if (ctx.rand() < 0.5) return 'hung-up';
  // Then wait for the gateway to end the call (timeouts).
  const closed = await c.closedWithin(ctx.loginTimeoutMs + 20_000, ctx.signal);
  return ctx.signal.aborted ? 'aborted' : closed ? 'closed-by-line' : 'not-hung-up';
}

/**
 * One peer takes more calls than the line allows at once and holds them silently; then an
 * ordinary caller from another address tries to log in on the same line.
 */
async function hog(target: Target, ctx: CallerContext): Promise<Finding> {
  const base = { behaviour: 'hog' as const, variant: `${ctx.maxCalls + 8}-connections`, kind: target.kind };
  const localAddress = ctx.hostileAddress();
  const held = Array.from({ length: ctx.maxCalls + 8 }, () => open(target, ctx, { hostile: true, politeTelnet: false, localAddress }));
  try {
    // Let the line answer (or refuse) them all.
    await sleep(800, ctx.signal);
    const probe = await loginOk(target, ctx, ctx.probeAddress, true);
    // The hog's own surplus being refused is right; the probe from another peer being refused is not.
    return { ...base, outcome: `probe-${probe.outcome}`, unexpected: probe.outcome !== 'accepted' && probe.outcome !== 'aborted' };
  } finally {
    for (const c of held) c.hangup();
  }
}
