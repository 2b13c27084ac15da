/**
 * One answered call, end to end: the call machine (machines/call.ts) provided with its actors
 * over this call's channel, the RAS security host, and the line's post-login action. Every
 * failure stays inside the call: actor errors end it as `crashed`, a root-actor error hangs up
 * the line, and the summary is logged whatever happened.
 */
import { createActor, fromCallback, fromPromise, type InspectionEvent, type Observer } from 'xstate';
import type { LineClock } from '../serial/clock.js';
import { callMachine, type CallEvent, type CallOutput, type SayInput } from '../../machines/call.js';
import type { OutcomeKind } from '../../machines/outcome.js';
import type { RasSecurityHost } from '../ras/host.js';
import { SECURITYMSG_ERROR, rasErrorName } from '../ras/codes.js';
import { OUTCOME_RAS_ERRORS } from '../ras/message.js';
import type { CallChannel } from '../serial/types.js';
import type { Logger } from '../logging.js';
import type { Metrics } from '../observe/metrics.js';
import { combineInspect } from '../observe/inspector.js';
import { transitionLogger } from '../observe/transitions.js';
import { errorStack, errorSummary } from '../errors.js';
import { countingChannel, type ByteCounts } from './channel.js';
import type { DialogueConfig, LineConfig } from './config.js';
import { runBridge } from './actions/bridge.js';
import { runExec } from './actions/exec.js';
import { say } from './actions/say.js';
import { askLine, decideAnswer } from '../callback/ask.js';
import { maskNumber, parseCallbackNumber } from '../callback/number.js';
import { CallbackNumberError, checkedPolicy, NO_CALLBACK } from '../callback/policy.js';
import type { UserPolicyFile } from '../callback/user-policy.js';

export interface CallDeps {
  host: RasSecurityHost;
  line: LineConfig;
  /** What the gateway itself says (the dialogue's own messages are the host's). */
  messages: Pick<DialogueConfig['messages'], Exclude<SayInput['what'], 'unavailable'> | 'error' | 'callbackPrompt' | 'callbackPromptDefault'>;
  /** The Set By Caller question: 7-bit output, and the time to answer it (the dialogue's field timeout, else its login timeout). */
  terminal?: Pick<DialogueConfig, 'sevenBit' | 'fieldTimeoutSeconds' | 'loginTimeoutSeconds'>;
  /** The local authority's per-user policy file (callback policies of local accounts). */
  userPolicy?: UserPolicyFile;
  /** Time of the call machine (the Set By Caller timeout). Default: real time; tests pass a SimulatedClock. */
  clock?: LineClock;
  logger: Logger;
  metrics: Metrics;
  /** Log machine transitions. Default true. */
  transitions?: boolean;
  /** Their level. Default 'debug' (`log.transitions: true` makes it info). */
  transitionLevel?: string;
  /** The inspector, when --inspect is on. */
  inspect?: Observer<InspectionEvent>;
}

export interface CallSummary {
  line: string;
  call: string;
  /** How the call ended (machines/outcome.ts), as it was decided. */
  outcome: OutcomeKind;
  /** The outcome's reason (a policy refusal's DenyReason, a timeout's scope, ...). */
  reason?: string;
  rasError?: number;
  /** Who called: the caller ID number (modem lines) or the address (TCP lines). */
  peer?: string;
  /** Every user name an attempt was made with, in order (`DOMAIN\\user` when a domain was given). */
  users?: string[];
  /** The identity the authority established (accepted), else the last names typed. */
  user?: string;
  domain?: string;
  /** How the call ended when something ended it (shutdown, carrier-lost, an error code), and its raserror name. */
  detail?: string;
  /** The callback, when one was made or tried: the number, whose it is (preset, caller, default), the dial attempts. */
  callback?: { number: string; source: string; attempts?: number };
  durationMs: number;
  bytesIn: number;
  bytesOut: number;
}

/** A call in progress as `rasgate status` and the console show it. */
export interface ActiveCallInfo {
  call: string;
  line: string;
  /** ISO time the call was answered. */
  startedAt: string;
  /** The caller ID number (modem lines) or the address (TCP lines). */
  peer?: string;
  /** The caller ID name, when the modem gave one. */
  callerName?: string;
  /** `login` while the dialogue runs, `session` once the login was accepted. */
  phase: 'login' | 'session';
  /** The identity the authority established (once accepted). */
  user?: string;
  domain?: string;
  bytesIn: number;
  bytesOut: number;
}

export interface RunningCall {
  readonly callId: string;
  /** Where the call is now (status, console). */
  info(): ActiveCallInfo;
  /** The gateway is stopping: sessions end now (with the shutdown line); a dialogue may finish, refused. */
  shutdown(): void;
  /** Hang up now (operator, or the shutdown's grace is over). */
  hangup(reason: string): void;
  readonly done: Promise<CallSummary>;
}

export function startCall(raw: CallChannel, deps: CallDeps): RunningCall {
  const counts: ByteCounts = { in: 0, out: 0 };
  const channel = countingChannel(raw, counts);
  const log = deps.logger.child({ line: channel.lineId, call: channel.callId });
  const started = performance.now();
  const startedAt = new Date().toISOString();
  let identity: { user: string; domain: string } | undefined;
  const action = deps.line.action;
  deps.metrics.callStarted(channel.lineId);
  log.info('call answered', { area: 'call', device: channel.deviceName, peer: channel.peer, speed: channel.connectSpeed });

  const machine = callMachine.provide({
    actors: {
      securityDialogue: fromCallback<CallEvent, { lineId: string; callId: string }>(({ sendBack }) => {
        const { port, result } = deps.host.beginCall(channel, (message, detail) => {
          if (detail.crashed) sendBack({ type: 'FAULT', detail: 'dialogue-crashed' });
          else if (detail.pppFrame) sendBack({ type: 'PPP_START', bytes: detail.pppFrame });
          else {
            if (detail.outcome?.kind === 'accepted') identity = { user: message.userName, domain: message.domain };
            sendBack({ type: 'SECURITY_MESSAGE', message, ...(detail.outcome ? { outcome: detail.outcome } : {}) });
          }
        });
        // A nonzero begin(): the host has hung up and logged why; no completion follows.
        if (result !== 0) sendBack({ type: 'SECURITY_MESSAGE', message: { msgId: SECURITYMSG_ERROR, error: result, userName: '', domain: '' }, outcome: { kind: 'internal-error', reason: 'begin-refused', rasError: result } });
        return () => {
          deps.host.end(port);
        };
      }),
      carrier: fromCallback<CallEvent, { lineId: string; callId: string }>(({ sendBack }) => {
        if (raw.ended) sendBack({ type: 'CARRIER_LOST', reason: 'carrier-lost' });
        return raw.onEnd((reason) => sendBack({ type: 'CARRIER_LOST', reason }));
      }),
      say: fromPromise(async ({ input }) => say(channel, sayText(deps.messages, input))),
      bridge: fromPromise(async ({ signal }) => {
        if (action.kind !== 'bridge') throw new Error('bridge: not the line action');
        return runBridge(channel, { target: action.target, connectTimeout: action.connectTimeout, logger: log }, signal);
      }),
      exec: fromPromise(async ({ input, signal }) => {
        if (action.kind !== 'exec') throw new Error('exec: not the line action');
        return runExec(channel, { argv: action.argv, env: action.env, cwd: action.cwd, killGrace: action.killGrace, user: input.userName, domain: input.domain, preface: input.preface, callbackNumber: input.callbackNumber, logger: log }, signal);
      }),
      hangup: fromPromise(() => channel.hangup()),
      callbackPolicy: fromPromise(async ({ input }) => {
        const from = input.directory ? 'directory' : deps.userPolicy ? 'policy file' : 'none';
        const policy = checkedPolicy(input.directory ?? deps.userPolicy?.callback(input.userName) ?? NO_CALLBACK, `${from} policy of ${input.userName}`);
        if (policy.mode !== 'none') log.info('callback policy', { area: 'call', user: input.userName, mode: policy.mode, from });
        return policy;
      }),
      askNumber: fromPromise(async ({ input, signal }) => {
        const shown = input.defaultNumber !== undefined ? parseCallbackNumber(input.defaultNumber) : undefined;
        const prompt = shown ? deps.messages.callbackPromptDefault.replace('{number}', maskNumber(shown)) : deps.messages.callbackPrompt;
        const typed = await askLine(channel, { prompt, sevenBit: deps.terminal?.sevenBit ?? false }, signal);
        const answer = decideAnswer(typed, deps.line.callback?.allow ?? [], input.defaultNumber);
        if (answer.kind === 'refused') log.warn('callback number refused', { area: 'call', number: answer.text });
        else log.info('callback number given', { area: 'call', answer: answer.kind, ...(answer.kind === 'number' ? { number: answer.number, source: answer.source } : {}) });
        return answer;
      }),
      callBack: fromPromise(async ({ input, signal }) => {
        const settings = deps.line.callback;
        if (!settings || !channel.callBack) throw new Error('callBack: this line does not call back');
        const n = parseCallbackNumber(input.number);
        if (!n) throw new CallbackNumberError('callBack: the number cannot be dialled');
        log.info('calling back', { area: 'call', number: input.number });
        const result = await channel.callBack(
          { dial: `${settings.dialPrefix}${n.dial}`, delayMs: settings.delaySeconds * 1000, answerTimeoutMs: settings.answerTimeoutSeconds * 1000, attempts: settings.attempts, retryDelayMs: settings.retryDelaySeconds * 1000 },
          signal,
        );
        log.log(result.result === 'connected' ? 'info' : 'warn', result.result === 'connected' ? 'callback connected' : 'callback given up', { area: 'call', number: input.number, result: result.result, attempts: result.attempts });
        return result;
      }),
    },
  });

  const inspect = combineInspect(
    deps.transitions === false ? undefined : transitionLogger({ logger: deps.logger, line: channel.lineId, call: channel.callId, level: deps.transitionLevel ?? 'debug', onTransition: (m) => deps.metrics.transition(m) }),
    deps.inspect,
  );
  const actor = createActor(machine, {
    id: `call-${channel.callId}`,
    input: {
      lineId: channel.lineId,
      callId: channel.callId,
      action: action.kind,
      pppToExec: deps.line.ppp === 'exec',
      offer: {
        offered: deps.line.callback?.offered === true && channel.callBack !== undefined,
        reauthenticate: deps.line.callback?.reauthenticate ?? true,
        askTimeoutMs: (deps.terminal ? deps.terminal.fieldTimeoutSeconds || deps.terminal.loginTimeoutSeconds : 60) * 1000,
      },
    },
    inspect,
    ...(deps.clock ? { clock: deps.clock } : {}),
  });

  const done = new Promise<CallSummary>((resolve) => {
    let finished = false;
    const finish = (output: CallOutput | undefined, crash?: unknown) => {
      if (finished) return;
      finished = true;
      if (crash !== undefined) {
        log.error('call machine failed: hanging up', { area: 'call', error: errorSummary(crash), stack: errorStack(crash) });
        void raw.hangup().catch(() => {});
      }
      let summary: CallSummary;
      try {
        summary = summarize(channel, output, crash, started, counts);
        deps.metrics.record(summary);
        log.log(SUMMARY_LEVEL[summary.outcome], 'call summary', { area: 'call', ...summary });
      } catch (err) {
        // Accounting must not fail a call's end: report the call as an internal error, whatever went wrong.
        summary = { line: channel.lineId, call: channel.callId, outcome: 'internal-error', reason: 'summary-failed', durationMs: 0, bytesIn: counts.in, bytesOut: counts.out };
        log.error('call summary failed', { area: 'call', error: errorSummary(err), stack: errorStack(err) });
      }
      resolve(summary);
    };
    // Observer callbacks must never throw into xstate (it would rethrow them outside the call).
    actor.subscribe({
      complete: () => finish(actor.getSnapshot().output),
      error: (err) => finish(undefined, err),
    });
  });
  actor.start();

  return {
    callId: channel.callId,
    info: () => ({
      call: channel.callId,
      line: channel.lineId,
      startedAt,
      ...(channel.peer ? { peer: channel.peer } : {}),
      ...(channel.callerId?.name ? { callerName: channel.callerId.name } : {}),
      phase: identity ? 'session' : 'login',
      ...(identity ? { user: identity.user, domain: identity.domain } : {}),
      bytesIn: counts.in,
      bytesOut: counts.out,
    }),
    shutdown: () => actor.send({ type: 'SHUTDOWN' }),
    hangup: (reason) => actor.send({ type: 'HANGUP', reason }),
    done,
  };
}

/**
 * The level a call's summary is logged at: what an operator must look at (an outage, a bug) is
 * an error; what a guesser or a broken call leaves is a warning; callers who time out, hang up
 * or are sent away at shutdown are ordinary (line noise and war-diallers must not fill the
 * error journal and drown a real outage).
 */
const SUMMARY_LEVEL: Record<OutcomeKind, 'error' | 'warn' | 'info'> = {
  accepted: 'info',
  'bad-credentials': 'warn',
  policy: 'warn',
  outage: 'error',
  'caller-timeout': 'info',
  'caller-hangup': 'info',
  'device-lost': 'warn',
  'refused-locked': 'warn',
  'refused-penalty': 'warn',
  shutdown: 'info',
  'callback-failed': 'warn',
  'callback-busy': 'warn',
  'callback-no-answer': 'warn',
  'callback-no-carrier': 'warn',
  'callback-no-dialtone': 'warn',
  'callback-timeout': 'warn',
  'callback-refused-number': 'warn',
  'callback-wrong-account': 'warn',
  'action-failed': 'warn',
  ppp: 'info',
  protocol: 'info',
  'operator-hangup': 'info',
  'internal-error': 'error',
};

function summarize(channel: CallChannel, output: CallOutput | undefined, crash: unknown, started: number, counts: ByteCounts): CallSummary {
  const m = output?.message;
  const outcome = crash !== undefined ? { kind: 'internal-error' as const } : (output?.outcome ?? { kind: 'operator-hangup' as const });
  const s: CallSummary = { line: channel.lineId, call: channel.callId, outcome: outcome.kind, durationMs: Math.round(performance.now() - started), bytesIn: counts.in, bytesOut: counts.out };
  if (outcome.reason) s.reason = outcome.reason;
  const rasError = outcome.rasError ?? (m?.error || undefined) ?? OUTCOME_RAS_ERRORS[outcome.kind];
  if (rasError) s.rasError = rasError;
  if (channel.peer) s.peer = channel.peer;
  const tried = (output?.outcome as { tried?: Array<{ user: string; domain: string }> } | undefined)?.tried;
  if (tried?.length) s.users = tried.map((t) => (t.domain ? `${t.domain}\\${t.user}` : t.user));
  if (m?.userName) s.user = m.userName;
  if (m?.domain) s.domain = m.domain;
  const detail = crash !== undefined ? errorSummary(crash).code ?? 'error' : output?.detail;
  if (detail) s.detail = detail;
  if (output?.callback) s.callback = { ...output.callback };
  if (s.rasError) s.detail = s.detail ? `${s.detail} ${rasErrorName(s.rasError)}` : rasErrorName(s.rasError);
  return s;
}

/** The text of what the gateway says: `unavailable` is the dialogue's error message; the callback number is shown masked. */
function sayText(messages: CallDeps['messages'], input: SayInput): string {
  if (input.what === 'unavailable') return messages.error;
  const text = messages[input.what];
  if (input.what !== 'callbackAnnounce') return text;
  const n = input.number !== undefined ? parseCallbackNumber(input.number) : undefined;
  return text.replace('{number}', n ? maskNumber(n) : '');
}
