/**
 * Samba's `ntlm_auth --helper-protocol=ntlm-server-1` framing (source3/utils/ntlm_auth.c,
 * manage_ntlm_server_1_request): a request is `Key: value` lines ended by a `.` line; binary
 * values are hex (challenge, responses) and text may be sent as `Key:: base64`. The answer is
 * `Authenticated: Yes` [+ `User-Session-Key: HEX`] `.`, or `Authenticated: No` +
 * `Authentication-Error: TEXT` `.` followed by a second `.` line. Pure: lines in, events out.
 */
import { RasgateError } from '../../errors.js';
import type { DenyReason, ResponseCheck } from '../../ntlm/authority.js';

export class WinbindProtocolError extends RasgateError {
  constructor(message: string) {
    super('WINBIND_PROTOCOL', message);
  }
}

/** One request. Names go base64 (`::`) so that no byte of theirs can break the line framing. */
export function encodeRequest(check: ResponseCheck): string {
  const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
  return [
    `Username:: ${b64(check.user)}`,
    `NT-Domain:: ${b64(check.domain)}`,
    `LANMAN-Challenge: ${check.serverChallenge.toString('hex')}`,
    `NT-Response: ${check.ntResponse.toString('hex')}`,
    ...(check.lmResponse.length === 24 ? [`LANMAN-Response: ${check.lmResponse.toString('hex')}`] : []),
    'Request-User-Session-Key: Yes',
    '.',
    '',
  ].join('\n');
}

export type HelperAnswer = { authenticated: true; userSessionKey?: Buffer } | { authenticated: false; error: string };

/** Longest answer line accepted, in characters (a session key line is 50). */
const MAX_LINE = 4096;

/** Incremental parser of the answers; `feed` returns every answer completed by the bytes. */
export class HelperAnswerParser {
  private partial = '';
  private lines: string[] = [];
  /** After a failure, the second `.` still to swallow. */
  private pendingDot = false;

  feed(chunk: string): HelperAnswer[] {
    const out: HelperAnswer[] = [];
    const text = this.partial + chunk;
    const parts = text.split('\n');
    this.partial = parts.pop()!;
    for (const raw of parts) {
      // The same bound whether the line came in one read or in many (see `partial` below).
      if (raw.length > MAX_LINE) throw new WinbindProtocolError('line too long');
      const line = raw.replace(/\r$/, '');
      if (this.pendingDot) {
        this.pendingDot = false;
        if (line === '.') continue;
        throw new WinbindProtocolError(`expected the second "." after a failure, got ${quoteLabel(line)}`);
      }
      if (line !== '.') {
        if (this.lines.length > 32) throw new WinbindProtocolError('answer too long');
        this.lines.push(line);
        continue;
      }
      const answer = this.interpret(this.lines);
      this.lines = [];
      if (!answer.authenticated) this.pendingDot = true;
      out.push(answer);
    }
    if (this.partial.length > MAX_LINE) throw new WinbindProtocolError('line too long');
    return out;
  }

  private interpret(lines: string[]): HelperAnswer {
    const fields = new Map<string, string>();
    for (const l of lines) {
      const m = /^([A-Za-z-]+)(::?) ?(.*)$/.exec(l);
      if (!m) throw new WinbindProtocolError(`unparsable line ${quoteLabel(l)}`);
      fields.set(m[1]!, m[2] === '::' ? Buffer.from(m[3]!, 'base64').toString('utf8') : m[3]!);
    }
    if (fields.has('Error')) return { authenticated: false, error: `helper error: ${fields.get('Error')}` };
    const auth = fields.get('Authenticated');
    if (auth === 'Yes') {
      const key = fields.get('User-Session-Key');
      if (key !== undefined && !/^[0-9a-fA-F]{32}$/.test(key)) throw new WinbindProtocolError('User-Session-Key is not 16 bytes of hex');
      return key ? { authenticated: true, userSessionKey: Buffer.from(key, 'hex') } : { authenticated: true };
    }
    if (auth === 'No') return { authenticated: false, error: fields.get('Authentication-Error') ?? '' };
    throw new WinbindProtocolError(`answer without Authenticated: (${[...fields.keys()].join(', ')})`);
  }
}

/**
 * winbind's error text -> DenyReason. ntlm_auth sends Samba's friendly NT_STATUS description
 * (libcli/util/nterr.c, seen from Samba 4.17), not the NT_STATUS_ name; both are matched.
 * NT_STATUS_LOGON_FAILURE ("The attempted logon is invalid...") is what a failed
 * --require-membership-of gives, so the caller decides between not-member and bad-credentials.
 * Unknown texts are outages, not verdicts about the user.
 */
const STATUS_REASONS: Array<[RegExp, DenyReason | 'logon-failure']> = [
  [/NT_STATUS_WRONG_PASSWORD\b|value provided as the current password is not correct/i, 'bad-credentials'],
  [/NT_STATUS_NO_SUCH_USER\b|specified account does not exist/i, 'bad-credentials'],
  [/NT_STATUS_ACCOUNT_DISABLED\b|account is currently disabled/i, 'account-disabled'],
  [/NT_STATUS_ACCOUNT_LOCKED_OUT\b|account has been automatically locked/i, 'account-locked'],
  [/NT_STATUS_ACCOUNT_EXPIRED\b|user account has expired/i, 'account-expired'],
  [/NT_STATUS_PASSWORD_EXPIRED\b|account password has expired/i, 'password-expired'],
  [/NT_STATUS_PASSWORD_MUST_CHANGE\b|password must be changed before logging on/i, 'password-must-change'],
  [/NT_STATUS_INVALID_LOGON_HOURS\b|has time restrictions/i, 'logon-hours'],
  [/NT_STATUS_INVALID_WORKSTATION\b|cannot be used to log on from the source workstation/i, 'workstation-restricted'],
  [/NT_STATUS_LOGON_FAILURE\b|attempted logon is invalid/i, 'logon-failure'],
];

export function denyReasonForStatus(error: string): DenyReason | 'logon-failure' | undefined {
  return STATUS_REASONS.find(([re]) => re.test(error))?.[1];
}

/**
 * A helper line for an error message: its label only, never its value (a line out of step could
 * be `User-Session-Key: <hex>`, and error messages reach the log).
 */
function quoteLabel(line: string): string {
  const colon = line.indexOf(':');
  return colon < 0 ? `(${line.length} characters, no label)` : `${JSON.stringify(line.slice(0, Math.min(colon, 40)))}: (${line.length} characters)`;
}
