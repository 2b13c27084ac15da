/**
 * One answered call, end to end: the call machine (machines/call.ts) provided with its actors
 * over this call's channel, the RAS security host, and the line's post-login action. Every
 * failure stays inside the call: actor errors end it as `crashed`, a root-actor error hangs up
 * the line, and the summary is logged whatever happened.
 */
import { createActor, fromCallback, fromPromise, type InspectionEvent, type Observer } from 'xstate';
import { callMachine, type CallEvent, type CallOutput, type CallResult, type SayInput } from '../../machines/call.js';
import type { RasSecurityHost } from '../ras/host.js';
import { SECURITYMSG_ERROR, SECURITYMSG_FAILURE, SECURITYMSG_SUCCESS, rasErrorName } from '../ras/codes.js';
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

export interface CallDeps {
  host: RasSecurityHost;
  line: LineConfig;
  /** What the gateway itself says (the dialogue's own messages are the host's). */
  messages: Pick<DialogueConfig['messages'], Exclude<SayInput['what'], 'unavailable'> | 'error'>;
  logger: Logger;
  metrics: Metrics;
  /** Log machine transitions. Default true. */
  transitions?: boolean;
  /** The inspector, when --inspect is on. */
  inspect?: Observer<InspectionEvent>;
}

export interface CallSummary {
  line: string;
  call: string;
  result: CallResult;
  callerId?: string;
  user?: string;
  domain?: string;
  rasError?: number;
  detail?: string;
  durationMs: number;
  bytesIn: number;
  bytesOut: number;
}

export interface RunningCall {
  readonly callId: string;
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
  const action = deps.line.action;
  deps.metrics.callsStarted++;
  deps.metrics.callsActive++;
  log.info('call answered', { area: 'call', device: channel.deviceName, callerId: channel.callerId?.number, speed: channel.connectSpeed });

  const machine = callMachine.provide({
    actors: {
      securityDialogue: fromCallback<CallEvent, { lineId: string; callId: string }>(({ sendBack }) => {
        const { port, result } = deps.host.beginCall(channel, (message, detail) => {
          if (detail.crashed) sendBack({ type: 'FAULT', detail: 'dialogue-crashed' });
          else if (detail.pppFrame) sendBack({ type: 'PPP_START', bytes: detail.pppFrame });
          else sendBack({ type: 'SECURITY_MESSAGE', message });
        });
        // A nonzero begin(): the host has hung up and logged why; no completion follows.
        if (result !== 0) sendBack({ type: 'SECURITY_MESSAGE', message: { msgId: SECURITYMSG_ERROR, error: result, userName: '', domain: '' } });
        return () => {
          deps.host.end(port);
        };
      }),
      carrier: fromCallback<CallEvent, { lineId: string; callId: string }>(({ sendBack }) => {
        if (raw.ended) sendBack({ type: 'CARRIER_LOST', reason: 'carrier-lost' });
        return raw.onEnd((reason) => sendBack({ type: 'CARRIER_LOST', reason }));
      }),
      say: fromPromise(async ({ input }) => say(channel, deps.messages[input.what === 'unavailable' ? 'error' : input.what])),
      bridge: fromPromise(async ({ signal }) => {
        if (action.kind !== 'bridge') throw new Error('bridge: not the line action');
        return runBridge(channel, { target: action.target, connectTimeout: action.connectTimeout, logger: log }, signal);
      }),
      exec: fromPromise(async ({ input, signal }) => {
        if (action.kind !== 'exec') throw new Error('exec: not the line action');
        return runExec(channel, { argv: action.argv, env: action.env, cwd: action.cwd, killGrace: action.killGrace, user: input.userName, domain: input.domain, preface: input.preface, logger: log }, signal);
      }),
      hangup: fromPromise(() => channel.hangup()),
    },
  });

  const inspect = combineInspect(
    deps.transitions === false ? undefined : transitionLogger({ logger: deps.logger, line: channel.lineId, call: channel.callId, onTransition: () => deps.metrics.transitions++ }),
    deps.inspect,
  );
  const actor = createActor(machine, {
    id: `call-${channel.callId}`,
    input: { lineId: channel.lineId, callId: channel.callId, action: action.kind, pppToExec: deps.line.ppp === 'exec' },
    inspect,
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
        deps.metrics.callEnded(summary.result, counts.in, counts.out);
        if (summary.result === 'success' && summary.user) deps.metrics.loginsAccepted++;
        if (summary.result === 'failure' || (summary.result === 'error' && isPolicy(summary.rasError))) deps.metrics.loginsRefused++;
        if (summary.result === 'error' && !isPolicy(summary.rasError)) deps.metrics.authorityErrors++;
        log.log(levelOf(summary), 'call summary', { area: 'call', ...summary });
      } catch (err) {
        // Accounting must not fail a call's end: report the call as crashed, whatever went wrong.
        summary = { line: channel.lineId, call: channel.callId, result: 'crashed', durationMs: 0, bytesIn: counts.in, bytesOut: counts.out };
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
    shutdown: () => actor.send({ type: 'SHUTDOWN' }),
    hangup: (reason) => actor.send({ type: 'HANGUP', reason }),
    done,
  };
}

/** raserror codes of policy refusals (646..649, 708); others are outages or our faults. */
function isPolicy(rasError: number | undefined): boolean {
  return rasError !== undefined && ((rasError >= 646 && rasError <= 649) || rasError === 708);
}

function levelOf(s: CallSummary): string {
  if (s.result === 'crashed') return 'error';
  if (s.result === 'shutdown') return 'info';
  if (s.result === 'error') return isPolicy(s.rasError) ? 'warn' : 'error';
  if (s.result === 'failure' || s.result === 'ppp-refused' || s.result === 'action-failed') return 'warn';
  return 'info';
}

function summarize(channel: CallChannel, output: CallOutput | undefined, crash: unknown, started: number, counts: ByteCounts): CallSummary {
  const m = output?.message;
  const s: CallSummary = {
    line: channel.lineId,
    call: channel.callId,
    result: crash !== undefined ? 'crashed' : (output?.result ?? 'hung-up'),
    durationMs: Math.round(performance.now() - started),
    bytesIn: counts.in,
    bytesOut: counts.out,
  };
  if (channel.callerId?.number) s.callerId = channel.callerId.number;
  if (m && (m.msgId === SECURITYMSG_SUCCESS || m.msgId === SECURITYMSG_FAILURE || m.userName)) {
    if (m.userName) s.user = m.userName;
    if (m.domain) s.domain = m.domain;
  }
  if (m?.error) s.rasError = m.error;
  const detail = crash !== undefined ? errorSummary(crash).code ?? 'error' : output?.detail;
  if (detail) s.detail = detail;
  if (s.rasError) s.detail = s.detail ? `${s.detail} ${rasErrorName(s.rasError)}` : rasErrorName(s.rasError);
  return s;
}

