/**
 * winbind: Samba's ntlm_auth ntlm-server-1 helper protocol (src/authority/winbind/protocol.ts):
 * the answer parser fed helper output (real answer lines, errors, out-of-step lines) as the
 * helper's stdout delivers it (UTF-8 text in pipe-sized chunks), and the request encoder fed
 * hostile user and domain names.
 * Invariants: only WinbindProtocolError; the parser holds a bounded amount (its line and line
 * count limits); answers are well formed (a session key is 16 bytes); the same bytes in other
 * chunks give the same answers or the same error; a request is always the same lines, whatever
 * the names contain.
 */
import { StringDecoder } from 'node:string_decoder';
import { isDeepStrictEqual } from 'node:util';
import { HelperAnswerParser, WinbindProtocolError, denyReasonForStatus, encodeRequest, type HelperAnswer } from '../../../src/authority/winbind/protocol.js';
import { invariant, type FuzzTarget, type Rand } from '../engine.js';

const MAX_LINE = 4096;
const MAX_LINES = 33;

const LINES = [
  'Authenticated: Yes',
  'Authenticated: No',
  'User-Session-Key: 000102030405060708090A0B0C0D0E0F',
  'User-Session-Key: 0011',
  'Authentication-Error: The user account has expired.',
  'Authentication-Error: NT_STATUS_WRONG_PASSWORD',
  'Authentication-Error:: VGhlIGF0dGVtcHRlZCBsb2dvbiBpcyBpbnZhbGlkLg==',
  'Error: winbind client not authorized to use winbindd_pam_auth_crap',
  'BH winbind not running',
  '.',
  '',
];

interface Outcome {
  answers: unknown[];
  error?: string;
}

function view(a: HelperAnswer): unknown {
  if (a.authenticated) {
    invariant(a.userSessionKey === undefined || a.userSessionKey.length === 16, `a ${a.userSessionKey?.length}-byte session key`);
    return { ok: true, key: a.userSessionKey?.toString('hex') };
  }
  invariant(typeof a.error === 'string', 'a failure without an error text');
  denyReasonForStatus(a.error);
  return { ok: false, error: a.error };
}

function parse(chunks: Buffer[]): Outcome {
  const p = new HelperAnswerParser();
  const decoder = new StringDecoder('utf8');
  const answers: unknown[] = [];
  for (const c of chunks) {
    try {
      answers.push(...p.feed(decoder.write(c)).map(view));
    } catch (err) {
      invariant(err instanceof WinbindProtocolError, `feed threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
      return { answers, error: err.message.replace(/\d+ characters/g, 'N characters') };
    }
    const inner = p as unknown as { partial: string; lines: string[] };
    invariant(inner.partial.length <= MAX_LINE, `${inner.partial.length} characters of a partial line held`);
    invariant(inner.lines.length <= MAX_LINES, `${inner.lines.length} lines held`);
    for (const l of inner.lines) invariant(l.length <= MAX_LINE, `a held line of ${l.length} characters (the parser's bound is ${MAX_LINE})`);
  }
  return { answers };
}

function hostileName(rand: Rand): string {
  const pieces = ['\n', '\r', '.', '\n.\n', ':: ', 'Authenticated: Yes', '\u0000', '\u2028', '\ud800', 'é', '\\', ' '];
  let s = '';
  for (let n = rand.size(12); n > 0; n--) s += rand.chance(0.5) ? rand.pick(pieces) : String.fromCharCode(rand.int(0x10000));
  return s;
}

function checkRequest(plan: Rand): void {
  const lm = plan.pick([0, 24, 16]);
  const text = encodeRequest({ user: hostileName(plan), domain: hostileName(plan), workstation: hostileName(plan), serverChallenge: plan.bytes(8), ntResponse: plan.bytes(plan.size(300)), lmResponse: plan.bytes(lm) });
  const lines = text.split('\n');
  invariant(lines.length === (lm === 24 ? 8 : 7) && lines.at(-2) === '.' && lines.at(-1) === '', `a request with names in it is not the fixed set of lines: ${JSON.stringify(lines.map((l) => l.slice(0, 30)))}`);
  for (const l of lines.slice(0, -2)) invariant(/^[A-Za-z-]+::? [A-Za-z0-9+/=]*$/.test(l), `a request line out of shape: ${JSON.stringify(l.slice(0, 60))}`);
}

export const winbind: FuzzTarget = {
  name: 'winbind',
  invariant: 'only WinbindProtocolError; parser state bounded; answers well formed; chunking does not change the answers; requests keep their lines whatever the names',
  dictionary: [...LINES.map((l) => Buffer.from(`${l}\n`)), Buffer.from('\r\n'), Buffer.from(':: '), Buffer.from(': '), Buffer.from([0xc3]), Buffer.from([0xe2, 0x80, 0xa8])],
  maxInput: 64 * 1024,
  generate(rand) {
    const out: string[] = [];
    for (let n = rand.size(60); n > 0; n--) out.push(rand.chance(0.85) ? rand.pick(LINES) : rand.bytes(rand.size(5000)).toString('latin1'));
    return Buffer.from(`${out.join('\n')}${rand.chance(0.8) ? '\n' : ''}`, rand.chance(0.5) ? 'utf8' : 'latin1');
  },
  run(input, plan) {
    const whole = parse([input]);
    const split = parse(plan.chunks(input));
    invariant(whole.error === split.error && (whole.error !== undefined || isDeepStrictEqual(whole.answers, split.answers)), `chunking changed the outcome: ${whole.error ?? 'ok'} / ${split.error ?? 'ok'}`);
    checkRequest(plan);
  },
};
