/**
 * Options of the login dialogue: each key's type, default and meaning, described once. The
 * gateway's YAML `dialogue:` section is this description (plus the gateway's own messages);
 * library users resolve partial options with resolveDialogueOptions().
 */
import type { DialogueMachineConfig } from '../../machines/dialogue.js';
import type { DenyReason } from '../ntlm/authority.js';
import { bool, dict, list, num, obj, oneOf, resolveOptions, str, type Infer, type Input } from '../options/fields.js';
import { DNLEN } from './codes.js';

export const DEFAULT_DENIED_MESSAGES: Record<DenyReason, string> = {
  'bad-credentials': 'Login incorrect',
  'account-disabled': 'Account disabled',
  'account-locked': 'Account locked out',
  'account-expired': 'Account expired',
  'password-expired': 'Password expired',
  'password-must-change': 'Password must be changed before logging on',
  'logon-hours': 'Logon not permitted at this time',
  'workstation-restricted': 'Logon not permitted from this line',
  'no-dialin-permission': 'Dial-in not permitted for this account',
  'not-member': 'Access denied',
};

const DENY_REASONS = Object.keys(DEFAULT_DENIED_MESSAGES) as DenyReason[];

const message = <const D extends string>(doc: string, def: D) => str({ doc, default: def, empty: true });
const seconds = <const D extends number>(doc: string, def: D) => num({ doc, default: def, min: 0, max: 86_400, unit: 'seconds' });

/** What the dialogue says; the gateway adds its own (src/gateway/config/schema.ts). */
export const dialogueMessageFields = {
  failure: message('after a wrong user name or password', 'Login incorrect'),
  error: message('when the authority cannot be reached', 'Service unavailable, please try again later'),
  timeout: message('when a field or the whole login timed out', 'Login timed out'),
  fieldWarning: message('before a field times out; `{seconds}` is replaced', 'Please answer within {seconds} seconds'),
  loginWarning: message('before the login time ends; `{seconds}` is replaced', 'Login time ends in {seconds} seconds'),
  success: message('after a successful login', ''),
  denied: message('a policy refusal without a more specific message', 'Access denied'),
  deniedReasons: dict(message('', ''), { doc: `per refusal reason (${DENY_REASONS.join(', ')}); the defaults are DEFAULT_DENIED_MESSAGES in src/ras/options.ts`, default: {}, keys: DENY_REASONS, keyName: 'reason' }),
};

export const dialogueFields = {
  banner: message('sent when the call is answered; escapes \\l line, \\L device, \\C call, \\d date, \\t time, \\N caller number, \\n caller name, \\b speed', ''),
  userPrompt: message('user name prompt', 'login: '),
  passwordPrompt: message('password prompt (typed characters are never echoed)', 'Password: '),
  domainPrompt: message('domain prompt', 'Domain: '),
  askDomain: oneOf(['never', 'always', 'when-missing'], { doc: 'ask for the domain after the user name, before the password (`DOMAIN\\user` and `user@domain` always work)', default: 'never' }),
  defaultDomain: str({ doc: "domain used when none is typed (empty: the authority's own); at most 15 characters", default: '', empty: true, check: (v) => (v.length <= DNLEN ? undefined : `must be at most ${DNLEN} characters (DNLEN)`) }),
  splitDomainForms: bool({ doc: 'split `DOMAIN\\user` and `user@DOMAIN` at the user name prompt', default: true }),
  fieldTimeoutSeconds: seconds("from a field's prompt to its Enter (0 = no limit)", 60),
  fieldWarningSeconds: seconds('warn this long before a field times out (0 = no warning)', 10),
  loginTimeoutSeconds: seconds('the whole login, all attempts (mgetty login-time; 0 = no limit)', 240),
  loginWarningSeconds: seconds('warn this long before the login time ends (0 = no warning)', 60),
  idleTimeoutSeconds: seconds('a caller who has sent nothing at all since the call began is let go after this long (0 = never); keeps silent connections from holding a line for the whole field timeout', 30),
  maxAttempts: num({ doc: 'failed attempts before the call is refused', default: 3, min: 1, max: 20, integer: true }),
  failureDelaysSeconds: list(num({ doc: '', min: 0, max: 600, unit: 'seconds' }), { doc: 'pause after the 1st, 2nd, ... failure (the last value repeats)', default: [1, 2, 4], maxItems: 20 }),
  passwordMask: message('echoed per password character (empty: nothing)', ''),
  sevenBit: bool({ doc: 'strip bit 7 of input and send 7-bit output', default: false }),
  bellOnOverflow: bool({ doc: 'ring the bell when a field is full (not in the password field)', default: false }),
  messages: obj(dialogueMessageFields, { doc: 'what the caller is told', defaultEmpty: true }),
};

export const dialogueOptionsField = obj(dialogueFields, { doc: 'the login dialogue', defaultEmpty: true });

/** The dialogue's options, every key present (what the session and the machine read). */
export type DialogueOptions = Infer<typeof dialogueFields>;
export type DialogueMessages = DialogueOptions['messages'];

/** The machine's input: its own part of the options, as they are (no copy, no renaming). */
export function machineConfig(o: DialogueOptions): DialogueMachineConfig {
  return o;
}

/** Fill in defaults and check every option; throws OptionError naming the key (`dialogue.KEY`). */
export function resolveDialogueOptions(o: Input<DialogueOptions> = {}, keyPrefix = 'dialogue'): DialogueOptions {
  return resolveOptions(dialogueOptionsField, o, keyPrefix);
}
