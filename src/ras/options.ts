/** Options of the login dialogue, their defaults, and validation (bad options fail with the key named). */
import type { DomainPromptMode, DialogueMachineConfig } from '../../machines/dialogue.js';
import type { DenyReason } from '../ntlm/authority.js';
import { OptionError } from '../errors.js';
import { DNLEN } from './codes.js';

export interface DialogueMessages {
  /** After a wrong user name or password. Default 'Login incorrect'. */
  failure?: string;
  /** When the authority cannot be reached. Default 'Service unavailable, please try again later'. */
  error?: string;
  /** When a field or the whole login timed out. Default 'Login timed out'. */
  timeout?: string;
  /** Before a field times out; `{seconds}` is replaced. Default 'Please answer within {seconds} seconds'. */
  fieldWarning?: string;
  /** Before the login time ends; `{seconds}` is replaced. Default 'Login time ends in {seconds} seconds'. */
  loginWarning?: string;
  /** After a successful login. Default '' (nothing). */
  success?: string;
  /** A policy refusal without a more specific message. Default 'Access denied'. */
  denied?: string;
  /** Per DenyReason; defaults in DEFAULT_DENIED_MESSAGES. A verifier's own message wins. */
  deniedReasons?: Partial<Record<DenyReason, string>>;
}

export interface DialogueOptions {
  /** Issue text before the first prompt, with escapes (src/ras/issue.ts). Default '' (none). */
  banner?: string;
  /** Default 'login: '. */
  userPrompt?: string;
  /** Default 'Password: '. */
  passwordPrompt?: string;
  /** Default 'Domain: '. */
  domainPrompt?: string;
  /** When to ask for the domain (after the user name, before the password). Default 'never'. */
  askDomain?: DomainPromptMode;
  /** Domain used when none is typed. Default ''. At most DNLEN (15) characters. */
  defaultDomain?: string;
  /** Split `DOMAIN\user` and `user@DOMAIN` at the user-name prompt. Default true. */
  splitDomainForms?: boolean;
  /** Seconds from a field's prompt to its Enter; 0 = no limit. Default 60. */
  fieldTimeoutSeconds?: number;
  /** Warn this many seconds before a field times out; 0 = no warning. Default 10. */
  fieldWarningSeconds?: number;
  /** Seconds for the whole login (mgetty login-time); 0 = no limit. Default 240. */
  loginTimeoutSeconds?: number;
  /** Warn this many seconds before the login time ends; 0 = no warning. Default 60. */
  loginWarningSeconds?: number;
  /** A caller who has sent nothing at all since the call began is let go after this long; 0 = never. Default 30. */
  idleTimeoutSeconds?: number;
  /** Failed attempts before SECURITYMSG_FAILURE. Default 3. */
  maxAttempts?: number;
  /** Pause after the 1st, 2nd, ... failure (the last value repeats). Default [1, 2, 4]. */
  failureDelaysSeconds?: number[];
  /** Echo this string per password character; '' echoes nothing. Default ''. */
  passwordMask?: string;
  /** Strip bit 7 of input and send 7-bit output. Default false. */
  sevenBit?: boolean;
  /** Ring the bell when a field is full (not in the password field). Default false. */
  bellOnOverflow?: boolean;
  messages?: DialogueMessages;
}

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

export interface ResolvedDialogueOptions {
  machine: DialogueMachineConfig;
  banner: string;
  prompts: { user: string; password: string; domain: string };
  splitDomainForms: boolean;
  passwordMask: string;
  sevenBit: boolean;
  bellOnOverflow: boolean;
  messages: Required<Omit<DialogueMessages, 'deniedReasons'>> & { deniedReasons: Record<string, string> };
}

function seconds(key: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new OptionError(key, 'must be a number of seconds >= 0');
  return v;
}

function text(key: string, value: string | undefined, fallback: string): string {
  const v = value ?? fallback;
  if (typeof v !== 'string') throw new OptionError(key, 'must be a string');
  return v;
}

/** Fill in defaults and check every option; throws OptionError naming the key. */
export function resolveDialogueOptions(o: DialogueOptions = {}, keyPrefix = 'dialogue'): ResolvedDialogueOptions {
  const k = (name: string) => `${keyPrefix}.${name}`;
  const askDomain = o.askDomain ?? 'never';
  if (!['never', 'always', 'when-missing'].includes(askDomain)) throw new OptionError(k('askDomain'), "must be 'never', 'always' or 'when-missing'");
  const defaultDomain = text(k('defaultDomain'), o.defaultDomain, '');
  if (defaultDomain.length > DNLEN) throw new OptionError(k('defaultDomain'), `must be at most ${DNLEN} characters`);
  const maxAttempts = o.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new OptionError(k('maxAttempts'), 'must be an integer >= 1');
  const delays = o.failureDelaysSeconds ?? [1, 2, 4];
  if (!Array.isArray(delays)) throw new OptionError(k('failureDelaysSeconds'), 'must be a list of seconds');
  delays.forEach((d, i) => seconds(`${k('failureDelaysSeconds')}[${i}]`, d, 0));
  const m = o.messages ?? {};
  const mk = (name: string) => `${k('messages')}.${name}`;
  return {
    machine: {
      domainPrompt: askDomain,
      defaultDomain,
      fieldTimeoutSeconds: seconds(k('fieldTimeoutSeconds'), o.fieldTimeoutSeconds, 60),
      fieldWarningSeconds: seconds(k('fieldWarningSeconds'), o.fieldWarningSeconds, 10),
      loginTimeoutSeconds: seconds(k('loginTimeoutSeconds'), o.loginTimeoutSeconds, 240),
      loginWarningSeconds: seconds(k('loginWarningSeconds'), o.loginWarningSeconds, 60),
      idleTimeoutSeconds: seconds(k('idleTimeoutSeconds'), o.idleTimeoutSeconds, 30),
      maxAttempts,
      failureDelaysSeconds: [...delays],
    },
    banner: text(k('banner'), o.banner, ''),
    prompts: {
      user: text(k('userPrompt'), o.userPrompt, 'login: '),
      password: text(k('passwordPrompt'), o.passwordPrompt, 'Password: '),
      domain: text(k('domainPrompt'), o.domainPrompt, 'Domain: '),
    },
    splitDomainForms: o.splitDomainForms ?? true,
    passwordMask: text(k('passwordMask'), o.passwordMask, ''),
    sevenBit: o.sevenBit ?? false,
    bellOnOverflow: o.bellOnOverflow ?? false,
    messages: {
      failure: text(mk('failure'), m.failure, 'Login incorrect'),
      error: text(mk('error'), m.error, 'Service unavailable, please try again later'),
      timeout: text(mk('timeout'), m.timeout, 'Login timed out'),
      fieldWarning: text(mk('fieldWarning'), m.fieldWarning, 'Please answer within {seconds} seconds'),
      loginWarning: text(mk('loginWarning'), m.loginWarning, 'Login time ends in {seconds} seconds'),
      success: text(mk('success'), m.success, ''),
      denied: text(mk('denied'), m.denied, 'Access denied'),
      deniedReasons: { ...DEFAULT_DENIED_MESSAGES, ...(m.deniedReasons ?? {}) },
    },
  };
}
