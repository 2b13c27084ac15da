/**
 * The security dialogue of one port, as the "security DLL" side of rasshost.h: it talks to the
 * caller only through the host's send/receive, feeds caller bytes to the terminal discipline,
 * turns its events into dialogue-machine events, carries out the machine's output actions, and
 * reports the machine's outcome through complete(). The machine is provided per session with
 * this session's actions and verifier.
 *
 * Faults stay inside the session: an action or the verifier that throws fails the machine,
 * which completes the port with an error (the call ends, counted as crashed); an end(port) that
 * arrives while the machine is running one of this session's own actions (the caller's line
 * dropped during a write) stops the machine once that step is over, never in the middle of it.
 */
import { createActor, fromPromise, type Actor, type InspectionEvent, type Observer } from 'xstate';
import { dialogueMachine, type DialogueEvent, type DialogueOutcome, type LoginField, type TellParams } from '../../machines/dialogue.js';
import { errorStack, errorSummary } from '../errors.js';
import type { Logger } from '../logging.js';
import { LineDiscipline, type DisciplineEvent, type FieldMode } from '../terminal/discipline.js';
import { crlf } from '../terminal/output.js';
import { DNLEN, PENDING, PWLEN, UNLEN, rasErrorName } from './codes.js';
import { expandIssue } from './issue.js';
import { parseLogin } from './login.js';
import { securityMessageFor } from './message.js';
import { DEFAULT_DENIED_MESSAGES, machineConfig, type DialogueOptions } from './options.js';
import type { DenyReason } from '../ntlm/authority.js';
import type { RasPort } from './port.js';
import type { CallChannel } from '../serial/types.js';
import type { CompletionDetail, PortHandle, SecurityMessage, Timers } from './types.js';
import type { VerifyInput, VerifyOutcome, Verifier } from './verify.js';

/** The host services a session uses (RasSecurityDialogSend / Receive / Complete). */
export interface SessionHost {
  send(port: PortHandle, bytes: Uint8Array): number;
  receive(port: PortHandle, maxBytes: number, timeoutSeconds: number): Promise<Buffer>;
  complete(message: SecurityMessage, detail?: CompletionDetail): number;
}

export interface SessionDeps {
  options: DialogueOptions;
  verifier: Verifier;
  logger: Logger;
  now: () => Date;
  timers?: Timers;
  inspect?: Observer<InspectionEvent>;
  /** Per-call inspection (e.g. src/observe's transitionLogger with line and call); wins over `inspect`. */
  inspectCall?: (channel: CallChannel) => Observer<InspectionEvent> | undefined;
}

type SessionMachine = ReturnType<typeof dialogueMachine.provide>;

export class DialogueSession {
  private actor?: Actor<SessionMachine>;
  private readonly discipline: LineDiscipline;
  private readonly log: Logger;
  private field?: LoginField;
  private stopped = false;
  private feeding = false;
  private droppedLogged = false;
  /** Depth of this session's own actions on the stack (the machine is mid-step while > 0). */
  private inAction = 0;
  private heard = false;

  constructor(
    private readonly host: SessionHost,
    private readonly port: RasPort,
    private readonly deps: SessionDeps,
  ) {
    const o = deps.options;
    this.discipline = new LineDiscipline({ sevenBit: o.sevenBit, bellOnOverflow: o.bellOnOverflow });
    this.log = deps.logger.child({ area: 'dialogue', line: port.channel.lineId, call: port.channel.callId, port: port.handle });
  }

  /** Start the machine and the receive loop; returns at once. */
  start(): void {
    const { channel } = this.port;
    const inspect = this.deps.inspectCall?.(channel) ?? this.deps.inspect;
    const actor = createActor(this.machine(), {
      input: { config: machineConfig(this.deps.options), lineId: channel.lineId, callId: channel.callId },
      // Only when given: an explicit `clock: undefined` would replace xstate's default clock.
      ...(this.deps.timers ? { clock: this.deps.timers as never } : {}),
      ...(inspect ? { inspect } : {}),
    });
    this.actor = actor;
    actor.subscribe({ complete: () => this.guard('completion', () => this.finished()), error: (err) => this.guard('crash report', () => this.crashed(err)) });
    this.port.onEnd((reason) => this.send({ type: 'CARRIER_LOST', reason }));
    actor.start();
    if (!this.stopped) void this.pump();
  }

  /** end(port): the machine stops in 'ended' (no completion), its timers and verify are cancelled. */
  stop(): void {
    if (this.stopped) return;
    this.send({ type: 'END' });
    this.stopped = true;
    const actor = this.actor;
    // Called from inside one of our actions (a write that found the line gone): the machine is
    // mid-step; END is queued behind that step, and the actor is stopped once the stack unwinds.
    if (this.inAction > 0) queueMicrotask(() => actor?.stop());
    else actor?.stop();
  }

  /** The dialogue machine with this session's actions and verifier. */
  private machine(): SessionMachine {
    const own = <A extends unknown[]>(fn: (...args: A) => void) => (...args: A) => {
      this.inAction++;
      try {
        fn(...args);
      } finally {
        this.inAction--;
      }
    };
    return dialogueMachine.provide({
      actions: {
        prompt: own((_, params: { field: LoginField }) => this.prompt(params.field)),
        tell: own((_, params: TellParams) => this.tell(params)),
        holdInput: own(() => this.holdInput()),
      },
      actors: {
        verify: fromPromise<VerifyOutcome, VerifyInput>(({ input, signal }) => this.verify(input, signal)),
      },
    });
  }

  /** Run an observer callback: whatever it throws is logged here, never left to reach the process. */
  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error(`dialogue ${what} failed`, { error: errorSummary(err), stack: errorStack(err) });
    }
  }

  // --- the machine's actions -------------------------------------------------------------

  prompt(field: LoginField): void {
    const o = this.deps.options;
    if (field === 'user') {
      // A fresh login: nothing typed before this prompt may land in it (a password typed ahead
      // after "Login incorrect" would otherwise be echoed as a user name).
      this.discipline.flush();
      this.port.flushInput();
    }
    this.field = field;
    this.write(crlf(promptOf(o, field), { sevenBit: o.sevenBit }));
    this.discipline.setField(this.modeFor(field));
    if (!this.feeding && this.discipline.pending > 0) queueMicrotask(() => this.input(Buffer.alloc(0)));
  }

  tell(p: TellParams): void {
    const o = this.deps.options;
    const m = o.messages;
    const channel = this.port.channel;
    switch (p.message) {
      case 'banner': {
        if (!o.banner) return;
        const text = expandIssue(o.banner, { lineId: channel.lineId, deviceName: channel.deviceName, callId: channel.callId, callerId: channel.callerId, connectSpeed: channel.connectSpeed, now: this.deps.now() });
        this.say(text.endsWith('\n') ? text : `${text}\n`);
        return;
      }
      case 'fieldWarning':
      case 'loginWarning': {
        const text = (p.message === 'fieldWarning' ? m.fieldWarning : m.loginWarning).replace(/\{seconds\}/g, String(p.seconds ?? ''));
        this.say(`\n${text}\n`);
        // Show the prompt again with what was typed so far (nothing of a hidden password).
        if (this.field && this.discipline.fieldOpen) {
          this.say(promptOf(o, this.field));
          this.write(this.discipline.redraw());
        }
        return;
      }
      case 'timeout':
        if (m.timeout) this.say(`\n${m.timeout}\n`);
        return;
      case 'failure': {
        // A refusal heard as a wrong password (a locked account) unless the operator wrote its own text.
        const text = p.text ?? (p.reason !== undefined ? m.deniedReasons[p.reason] : undefined) ?? m.failure;
        if (text) this.say(`${text}\n`);
        return;
      }
      case 'denied': {
        const text = p.text ?? (p.reason !== undefined ? m.deniedReasons[p.reason] ?? DEFAULT_DENIED_MESSAGES[p.reason as DenyReason] : undefined) ?? m.denied;
        if (text) this.say(`${text}\n`);
        return;
      }
      default: {
        const text = m[p.message];
        if (text) this.say(`${text}\n`);
      }
    }
  }

  holdInput(): void {
    this.field = undefined;
    this.discipline.closeField();
  }

  /** The verify actor's body: the gateway's verifier, logged without the password. */
  async verify(input: VerifyInput, signal: AbortSignal): Promise<VerifyOutcome> {
    this.log.debug('verifying credentials', { user: input.user, domain: input.domain });
    try {
      const outcome = await this.deps.verifier(input, signal);
      this.log.debug('verifier answered', { outcome: outcome.kind, ...('reason' in outcome ? { reason: outcome.reason } : {}) });
      return outcome;
    } catch (err) {
      this.log.warn('verifier failed', { error: errorSummary(err), aborted: signal.aborted });
      throw err;
    }
  }

  // --- input -----------------------------------------------------------------------------

  private async pump(): Promise<void> {
    while (!this.stopped && this.port.active) {
      let bytes: Buffer;
      try {
        bytes = await this.host.receive(this.port.handle, this.port.recvBufSize, 0);
      } catch (err) {
        this.log.warn('receive failed', { error: errorSummary(err) });
        return;
      }
      if (this.stopped) return;
      if (bytes.length > 0) this.input(bytes);
    }
  }

  private input(bytes: Buffer): void {
    if (this.stopped) return;
    if (!this.heard && bytes.length > 0) {
      this.heard = true;
      this.send({ type: 'FIRST_INPUT' });
    }
    this.feeding = true;
    try {
      let events = this.discipline.feed(bytes);
      for (;;) {
        for (const event of events) this.handle(event);
        if (this.stopped || !this.discipline.fieldOpen || this.discipline.pending === 0) break;
        events = this.discipline.resume();
      }
    } catch (err) {
      // Caller bytes must never crash the process: drop what is pending and carry on.
      this.log.error('caller input could not be processed', { error: errorSummary(err) });
      this.discipline.flush();
    } finally {
      this.feeding = false;
    }
  }

  private handle(event: DisciplineEvent): void {
    switch (event.type) {
      case 'echo':
        this.write(event.bytes);
        return;
      case 'line': {
        const field = this.field;
        this.field = undefined;
        if (field === 'user') {
          const login = parseLogin(event.text, this.deps.options.splitDomainForms);
          this.send({ type: 'USER', user: login.user, domain: login.domain, valid: login.valid });
        } else if (field === 'domain') this.send({ type: 'DOMAIN', domain: event.text.slice(0, DNLEN) });
        else if (field === 'password') this.send({ type: 'PASSWORD', password: event.text });
        return;
      }
      case 'abort':
        this.field = undefined;
        this.send({ type: 'ABORT' });
        return;
      case 'ppp-start':
        this.field = undefined;
        this.log.info('PPP frame at the login prompt');
        this.send({ type: 'PPP', frame: event.bytes });
        return;
      case 'dropped':
        if (!this.droppedLogged) this.log.warn('caller input dropped while no field was open', { bytes: event.bytes });
        this.droppedLogged = true;
        return;
      case 'overflow':
        this.log.debug('field full: excess input dropped', { field: this.field, maxChars: event.maxChars });
        return;
      case 'kill':
        return;
    }
  }

  private modeFor(field: LoginField): FieldMode {
    const o = this.deps.options;
    if (field === 'user') return { echo: 'on', maxChars: UNLEN, detectPpp: true };
    if (field === 'domain') return { echo: 'on', maxChars: DNLEN };
    return o.passwordMask ? { echo: 'mask', mask: o.passwordMask, maxChars: PWLEN } : { echo: 'off', maxChars: PWLEN };
  }

  // --- output and completion ---------------------------------------------------------------

  private say(text: string): void {
    this.write(crlf(text, { sevenBit: this.deps.options.sevenBit }));
  }

  /** Send in pieces of at most sendBufSize (RasSecurityDialogSend's buffer is the one from begin). */
  private write(bytes: Uint8Array): void {
    const size = this.port.sendBufSize;
    for (let at = 0; at < bytes.length; at += size) {
      const rc = this.host.send(this.port.handle, bytes.subarray(at, at + size));
      if (rc !== PENDING) {
        this.log.debug('send refused', { rasError: rc, name: rasErrorName(rc) });
        return;
      }
    }
  }

  private send(event: DialogueEvent): void {
    const actor = this.actor;
    if (!actor || actor.getSnapshot().status !== 'active') return;
    actor.send(event);
  }

  private finished(): void {
    const snapshot = this.actor!.getSnapshot();
    const wasStopped = this.stopped;
    this.stopped = true;
    this.discipline.flush();
    // end(port) came first (the actor was stopped, or ended in 'ended'): no completion follows.
    if (wasStopped || snapshot.status !== 'done') return;
    const outcome = snapshot.output as DialogueOutcome | undefined;
    if (!outcome || outcome.ended) return;
    const message = securityMessageFor(outcome, this.port.handle);
    const detail: CompletionDetail = { outcome };
    if (outcome.kind === 'ppp' && outcome.frame) detail.pppFrame = Buffer.from(outcome.frame);
    const rc = this.host.complete(message, detail);
    if (rc !== 0) this.log.error('complete refused', { rasError: rc, name: rasErrorName(rc), outcome: outcome.kind });
  }

  private crashed(err: unknown): void {
    this.log.error('dialogue machine failed', { error: errorSummary(err), stack: errorStack(err) });
    const wasStopped = this.stopped;
    this.stopped = true;
    this.discipline.flush();
    if (wasStopped) return;
    const outcome: DialogueOutcome = { kind: 'internal-error', reason: 'dialogue-failed', user: '', domain: '', tried: [], attempts: 0 };
    this.host.complete(securityMessageFor(outcome, this.port.handle), { outcome, crashed: true });
  }
}

/** A field's prompt text. */
function promptOf(o: DialogueOptions, field: LoginField): string {
  return field === 'user' ? o.userPrompt : field === 'domain' ? o.domainPrompt : o.passwordPrompt;
}
