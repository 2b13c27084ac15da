/**
 * One call's transition history, for replaying it step by step on the drawn statecharts. It holds
 * what the transition log holds (src/observe/transitions.ts): machine, from, to, the event's type
 * and the time; never context or event payloads. Bounded: the newest `maxCalls` calls, each with
 * at most `maxSteps` steps (the oldest go first, and the call says it was cut).
 */
export interface HistoryStep {
  /** ISO 8601 (UTC). */
  at: string;
  machine: string;
  /** null for the actor's first state. */
  from: string | null;
  to: string;
  /** The event's type as the chart labels it (`done verify`, `after loginTimeout`, `SECURITY_MESSAGE`). */
  event: string;
  /** State node ids occupied after the step (what the diagram highlights). */
  nodes: string[];
}

export interface CallHistory {
  call: string;
  line?: string;
  steps: HistoryStep[];
  /** Steps were dropped from the front (maxSteps). */
  truncated: boolean;
}

export interface CallHistoriesOptions {
  /** Calls kept (oldest dropped first). Default 256. */
  maxCalls?: number;
  /** Steps kept per call. Default 400. */
  maxSteps?: number;
}

export class CallHistories {
  private readonly calls = new Map<string, CallHistory>();
  private readonly maxCalls: number;
  private readonly maxSteps: number;

  constructor(o: CallHistoriesOptions = {}) {
    this.maxCalls = o.maxCalls ?? 256;
    this.maxSteps = o.maxSteps ?? 400;
  }

  add(call: string, line: string | undefined, step: HistoryStep): void {
    let h = this.calls.get(call);
    if (!h) {
      h = { call, ...(line ? { line } : {}), steps: [], truncated: false };
      this.calls.set(call, h);
      while (this.calls.size > this.maxCalls) this.calls.delete(this.calls.keys().next().value as string);
    }
    if (!h.line && line) h.line = line;
    h.steps.push(step);
    if (h.steps.length > this.maxSteps) {
      h.steps.splice(0, h.steps.length - this.maxSteps);
      h.truncated = true;
    }
  }

  get(call: string): CallHistory | undefined {
    const h = this.calls.get(call);
    return h && { ...h, steps: h.steps.slice() };
  }

  /** Call ids kept, newest first. */
  list(): { call: string; line?: string; steps: number; first: string }[] {
    return [...this.calls.values()].reverse().map((h) => ({ call: h.call, ...(h.line ? { line: h.line } : {}), steps: h.steps.length, first: h.steps[0]?.at ?? '' }));
  }

  get size(): number {
    return this.calls.size;
  }
}

/** An xstate event type as the chart labels its transition (src/observe/statecharts.ts eventName). */
export function chartEventName(type: string): string {
  if (type.startsWith('xstate.after.')) return `after ${type.slice('xstate.after.'.length).split('.')[0]}`;
  if (type.startsWith('xstate.done.actor.')) return `done ${type.slice('xstate.done.actor.'.length)}`;
  if (type.startsWith('xstate.error.actor.')) return `error ${type.slice('xstate.error.actor.'.length)}`;
  if (type.startsWith('xstate.done.state.')) return 'done';
  return type;
}
