/** Drive the dialogue machine alone: SimulatedClock, recorded actions, a scripted verify actor. */
import { createActor, fromPromise, SimulatedClock } from 'xstate';
import { dialogueMachine, type DialogueMachineConfig, type DialogueOutcome } from '../../machines/dialogue.js';
import { resolveDialogueOptions } from '../../src/ras/options.js';
import type { VerifyInput, VerifyOutcome } from '../../src/ras/verify.js';

export interface VerifyCall {
  input: VerifyInput;
  signal: AbortSignal;
}

export function machineHarness(config: Partial<DialogueMachineConfig> = {}) {
  const clock = new SimulatedClock();
  const log: string[] = [];
  const calls: VerifyCall[] = [];
  /** What the next verify answers: an outcome, 'throw', or 'hang' (never settles). */
  const answers: Array<VerifyOutcome | 'throw' | 'hang'> = [];
  const machine = dialogueMachine.provide({
    actions: {
      prompt: (_, p) => log.push(`prompt:${p.field}`),
      tell: (_, p) => log.push(`tell:${p.message}${p.reason ? `:${p.reason}` : ''}${p.seconds !== undefined ? `:${p.seconds}` : ''}`),
      holdInput: () => log.push('hold'),
    },
    actors: {
      verify: fromPromise<VerifyOutcome, VerifyInput>(({ input, signal }) => {
        calls.push({ input, signal });
        const answer = answers.shift() ?? { kind: 'bad-credentials' };
        if (answer === 'throw') return Promise.reject(new Error('authority exploded'));
        if (answer === 'hang') return new Promise<VerifyOutcome>(() => {});
        return Promise.resolve(answer);
      }),
    },
  });
  const actor = createActor(machine, {
    clock,
    input: { config: { ...resolveDialogueOptions(), ...config }, lineId: 'tty0', callId: 'tty0-1' },
  });
  const errors: unknown[] = [];
  actor.subscribe({ error: (e) => errors.push(e) });
  actor.start();
  return {
    actor,
    clock,
    log,
    calls,
    answers,
    errors,
    /** 'session.username', 'success', ... */
    get state(): string {
      const v = actor.getSnapshot().value;
      return typeof v === 'string' ? v : Object.entries(v).map(([k, sub]) => `${k}.${String(sub)}`)[0];
    },
    get output(): DialogueOutcome | undefined {
      return actor.getSnapshot().output;
    },
    /** SimulatedClock's pending timeouts (none may be left once the machine stops). */
    get pendingTimers(): number {
      return (clock as unknown as { timeouts: Map<unknown, unknown> }).timeouts.size;
    },
  };
}

/** Let a verify promise settle. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
}
