/**
 * Runs a state machine without an actor: each event goes through the machine's own transition
 * function (StateMachine.transition, the pure function under xstate's `transition()`), and the
 * actions it hands back are carried out here. Made for the ntlmAccept machine, one run per
 * security context: what an actor costs per context (its system, mailbox, observers and
 * inspection) is paid once per credential instead, and the machine still decides every step.
 *
 * What a machine run this way may use: assign and raise (resolved inside the transition),
 * delayed raise and cancel (`after`: scheduled here), and its own provided actions, which run
 * after the transition with `self` being the run (`self.send` queues an event). Anything
 * else (invoke, spawn, sendTo) throws when reached, so that a machine change that needs an
 * actor cannot pass unnoticed. An observed context runs in a real actor instead (server.ts).
 *
 * Timers: every pending delay of one length, across all runs of a host, waits in one queue
 * ordered by due time, with one clock timer for its head. A CHALLENGE waiting for its
 * AUTHENTICATE costs a queue entry, not a timer.
 */
import { createActor, type ActorScope, type AnyStateMachine, type EventFromLogic, type InputFrom, type Observer, type SnapshotFrom } from 'xstate';

/** xstate's Clock plus `now()`; without `now()` performance.now() measures the delays. */
export interface RunnerClock {
  setTimeout(fn: (...args: unknown[]) => void, timeout: number): unknown;
  clearTimeout(id: unknown): void;
  now?(): number;
}

interface Delayed {
  due: number;
  run: { fire(entry: Delayed): void };
  /** The delayed event, and the id `cancel` names it by. */
  event: { type: string };
  key: string;
  delay: number;
}

/** Entries of one delay length: due times grow with insertion order, so the first is the next. */
class DelayQueue {
  private readonly entries = new Set<Delayed>();
  private timer: unknown;

  constructor(
    private readonly clock: RunnerClock,
    private readonly now: () => number,
  ) {}

  add(entry: Delayed): void {
    this.entries.add(entry);
    if (this.entries.size === 1) this.arm();
  }

  delete(entry: Delayed): void {
    this.entries.delete(entry);
    // The last entry gone: no timer is left behind (a deleted context leaves nothing armed).
    if (this.entries.size === 0 && this.timer !== undefined) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    const now = this.now();
    for (const e of this.entries) {
      if (e.due > now) break;
      this.entries.delete(e);
      e.run.fire(e);
    }
    this.arm();
  };

  private arm(): void {
    if (this.timer !== undefined) return;
    const head = this.entries.values().next();
    if (head.done) return;
    this.timer = this.clock.setTimeout(this.fire, Math.max(0, head.value.due - this.now()));
  }
}

interface ExecutableAction {
  type: string;
  info: unknown;
  params: unknown;
  exec: ((info: never, params: never) => void) | undefined;
}

/** What one machine, one input and one clock share across their runs (one per credential). */
export class MachineHost<TMachine extends AnyStateMachine> {
  /** The initial snapshot: computed once (the input is the same for every run), immutable. */
  readonly initial: SnapshotFrom<TMachine>;
  /** One scope for every transition: `self` is set to the run that steps (transitions never nest). */
  private readonly scope: { self: unknown; [key: string]: unknown };
  private readonly collected: ExecutableAction[] = [];
  private readonly queues = new Map<number, DelayQueue>();
  private readonly now: () => number;

  constructor(
    readonly machine: TMachine,
    input: InputFrom<TMachine>,
    private readonly clock: RunnerClock,
  ) {
    this.now = clock.now ? () => clock.now!() : () => performance.now();
    // An actor that never starts: its system serves the transitions' scope (nothing runs in it).
    const inert = createActor(machine, { input } as never);
    this.initial = inert.getSnapshot();
    this.scope = {
      self: undefined,
      system: inert.system,
      id: '',
      sessionId: '',
      logger: () => undefined,
      defer: () => undefined,
      emit: () => undefined,
      stopChild: () => undefined,
      actionExecutor: (action: ExecutableAction) => this.collected.push(action),
    };
  }

  /** A new run from the initial snapshot; `observer` hears every snapshot and a thrown transition. */
  run(observer: Observer<SnapshotFrom<TMachine>>): MachineRun<TMachine> {
    return new MachineRun(this, observer);
  }

  /** @internal One transition of `run`, and the actions it asks for (to be carried out by the run). */
  transition(run: MachineRun<TMachine>, snapshot: SnapshotFrom<TMachine>, event: EventFromLogic<TMachine>): [SnapshotFrom<TMachine>, ExecutableAction[]] {
    this.scope.self = run;
    this.collected.length = 0;
    try {
      const next = this.machine.transition(snapshot, event, this.scope as unknown as ActorScope<SnapshotFrom<TMachine>, EventFromLogic<TMachine>>) as SnapshotFrom<TMachine>;
      return [next, this.collected.length ? this.collected.splice(0) : NO_ACTIONS];
    } finally {
      this.scope.self = undefined;
    }
  }

  /** @internal */
  schedule(run: MachineRun<TMachine>, delay: number, event: { type: string }, key: string): Delayed {
    let queue = this.queues.get(delay);
    if (!queue) this.queues.set(delay, (queue = new DelayQueue(this.clock, this.now)));
    const entry: Delayed = { due: this.now() + delay, run, event, key, delay };
    queue.add(entry);
    return entry;
  }

  /** @internal */
  unschedule(entry: Delayed): void {
    this.queues.get(entry.delay)?.delete(entry);
  }
}

const NO_ACTIONS: ExecutableAction[] = [];

/**
 * One machine run: a snapshot, its pending delays and the events queued while it steps. It is
 * the `self` of the machine's actions: `self.send(event)` queues an event for it.
 */
export class MachineRun<TMachine extends AnyStateMachine> {
  private snapshot: SnapshotFrom<TMachine>;
  private queue: Array<EventFromLogic<TMachine>> | undefined;
  /** Pending delayed events (a machine state has one or two `after` at most). */
  private timers: Delayed[] | undefined;
  private stopped = false;
  readonly id: string;

  constructor(
    private readonly host: MachineHost<TMachine>,
    private readonly observer: Observer<SnapshotFrom<TMachine>>,
  ) {
    this.snapshot = host.initial;
    this.id = host.machine.id;
  }

  getSnapshot(): SnapshotFrom<TMachine> {
    return this.snapshot;
  }

  /** Deliver an event; events sent while a step runs (by its actions) follow it, in order. */
  send(event: EventFromLogic<TMachine>): void {
    if (this.queue) {
      this.queue.push(event);
      return;
    }
    this.queue = [];
    try {
      let next: EventFromLogic<TMachine> | undefined = event;
      while (next && !this.stopped && this.active()) {
        this.step(next);
        next = this.queue.shift();
      }
    } finally {
      this.queue = undefined;
    }
  }

  private active(): boolean {
    return (this.snapshot as { status: string }).status === 'active';
  }

  /** Stop: pending delays are dropped, later events ignored. */
  stop(): void {
    this.stopped = true;
    this.clearTimers();
  }

  private step(event: EventFromLogic<TMachine>): void {
    try {
      const [next, actions] = this.host.transition(this, this.snapshot, event);
      this.snapshot = next;
      for (const action of actions) this.execute(action);
    } catch (err) {
      this.stopped = true;
      this.clearTimers();
      this.observer.error?.(err);
      return;
    }
    if (!this.active()) this.clearTimers();
    this.observer.next?.(this.snapshot);
  }

  private execute(action: ExecutableAction): void {
    switch (action.type) {
      case 'xstate.raise': {
        const { event, delay, id } = action.params as { event: EventFromLogic<TMachine>; delay?: number; id?: string };
        if (typeof delay !== 'number') return; // undelayed: already taken inside the transition
        const key = id ?? event.type;
        this.cancel(key);
        (this.timers ??= []).push(this.host.schedule(this, delay, event, key));
        return;
      }
      case 'xstate.cancel':
        this.cancel((action.params as { sendId: string }).sendId);
        return;
      default:
        if (action.type.startsWith('xstate.')) throw new Error(`MachineRun cannot carry out ${action.type}: run this machine in an actor`);
        (action.exec as ((info: unknown, params: unknown) => void) | undefined)?.(action.info, action.params);
    }
  }

  /** @internal A delayed event is due. */
  fire(entry: Delayed): void {
    const i = this.timers?.indexOf(entry) ?? -1;
    if (i < 0) return;
    this.timers!.splice(i, 1);
    this.send(entry.event as EventFromLogic<TMachine>);
  }

  private cancel(key: string): void {
    const timers = this.timers;
    if (!timers) return;
    for (let i = 0; i < timers.length; i++) {
      if (timers[i]!.key !== key) continue;
      this.host.unschedule(timers[i]!);
      timers.splice(i, 1);
      return;
    }
  }

  private clearTimers(): void {
    const timers = this.timers;
    if (!timers) return;
    this.timers = undefined;
    for (const t of timers) this.host.unschedule(t);
  }
}
