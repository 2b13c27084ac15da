/**
 * The fixed limits that bound what one caller (or a slow log reader) can make rasgate hold, as
 * docs/configuration.md lists them (generated from here: the numbers are the code's own).
 * Limits an operator may change are configuration keys and are named here by key.
 */
import { DNLEN, PWLEN, UNLEN } from '../../ras/codes.js';
import { PORT_INPUT_LIMIT } from '../../ras/host.js';
import { EARLY_LIMIT } from '../../serial/call-channel.js';
import { SERIAL_WRITE_LIMIT } from '../../serial/modem-port.js';
import { WRITE_QUEUE_LIMIT } from '../../serial/tcp-line.js';
import { SUBNEGOTIATION_LIMIT } from '../../serial/telnet.js';
import { DEFAULT_MAX_HELD_BYTES } from '../../terminal/constants.js';
import { STDOUT_BUFFER_LIMIT } from '../../observe/stdout-transport.js';
import { MAX_REFUSAL_NOTES } from '../../guard/guard.js';

export interface Limit {
  what: string;
  /** A number with its unit, or the configuration key that sets it. */
  value: string;
  /** What happens when it is reached. */
  then: string;
}

const bytes = (n: number) => (n % 1024 === 0 ? (n % (1024 * 1024) === 0 ? `${n / 1024 / 1024} MiB` : `${n / 1024} KiB`) : `${n} bytes`);

export const LIMITS: Limit[] = [
  { what: 'bytes queued to one TCP caller (our text and telnet replies)', value: bytes(WRITE_QUEUE_LIMIT), then: 'the caller is not reading: the call is hung up' },
  { what: 'bytes queued to a serial device (flow control held off, a wedged modem)', value: bytes(SERIAL_WRITE_LIMIT), then: 'further output is dropped and logged once' },
  { what: 'caller bytes queued on a RAS port before the dialogue reads them', value: bytes(PORT_INPUT_LIMIT), then: 'the excess is dropped (an overrun, logged once per call)' },
  { what: 'caller bytes held while no field is open (typed ahead during a check)', value: bytes(DEFAULT_MAX_HELD_BYTES), then: 'the excess is dropped' },
  { what: 'caller bytes kept before the call has a listener', value: bytes(EARLY_LIMIT), then: 'the excess is dropped' },
  { what: 'telnet subnegotiation payload', value: bytes(SUBNEGOTIATION_LIMIT), then: 'the subnegotiation is ignored (logged)' },
  { what: 'user name, password, domain typed', value: `${UNLEN}, ${PWLEN}, ${DNLEN} characters (lmcons.h UNLEN, PWLEN, DNLEN)`, then: 'further characters are not taken' },
  { what: 'log bytes waiting for a slow stdout reader', value: bytes(STDOUT_BUFFER_LIMIT), then: 'records are dropped and the count is logged when it drains' },
  { what: 'calls at once on a TCP line', value: '`lines[].maxCalls`', then: 'further callers hear BUSY and are closed' },
  { what: 'calls at once from one address on a TCP line', value: '`lines[].maxCallsPerSource`', then: 'further callers from it hear so and are closed' },
  { what: 'a caller who sends nothing at all', value: '`dialogue.idleTimeoutSeconds`', then: 'the call ends (timeout)' },
  { what: 'each field, the whole login, failed attempts', value: '`dialogue.fieldTimeoutSeconds`, `dialogue.loginTimeoutSeconds`, `dialogue.maxAttempts`', then: 'the call ends' },
  { what: 'user names counted for the lockout (known and unknown alike)', value: '`lockout.maxAccounts` each for counted and for locked names', then: 'the name counted least recently is forgotten; a lock goes only when maxAccounts names are locked (logged)' },
  { what: 'sources (addresses, caller numbers) tracked for penalties', value: '`penalties.maxSources` each for pending and for active penalties', then: 'the source penalised least recently is forgotten; active penalties are kept before pending ones' },
  { what: 'sources whose refusals are counted for the audit trail', value: `${MAX_REFUSAL_NOTES} sources`, then: 'the oldest is forgotten (its next refusal is recorded at once)' },
  { what: 'audit records not written (full disk, read-only)', value: 'none kept', then: 'dropped and counted; an `audit-gap` record with the count precedes the next one written' },
];
