/**
 * Live machine states for the console, fed by the inspection stream: each `@xstate.snapshot` of a
 * machine actor records that actor's current state; a snapshot whose status is no longer
 * `active` (done, error, stopped: XState v5 emits one when an actor stops) drops it. Only what
 * the page needs is kept: machine id, line / call ids, the state value. Never context.
 */
import type { InspectionEvent, Observer } from 'xstate';
import { stateText } from '../transitions.js';
import { labelsOf } from '../inspector.js';
import { chartEventName, type CallHistories } from './history.js';

export interface LiveActor {
  /** The actor's session id (unique in the process). */
  id: string;
  machine: string;
  line?: string;
  call?: string;
  /** `a.b` for nested states, `a+b` for parallel regions (as the transition log writes it). */
  state: string;
  /** Every state node occupied, as node ids (`line.open.idle.waiting` and its ancestors). */
  nodes: string[];
  /** When the actor entered its current state (ISO 8601, UTC). */
  since: string;
}

export interface StateCount {
  /** State node id as in /api/machines (`line.open.idle`). */
  state: string;
  count: number;
}

export interface LiveSnapshot {
  actors: LiveActor[];
  /** Occupied state nodes with how many live actors are in each (a value list: node ids are not object keys, so redaction by key name cannot touch them). */
  counts: StateCount[];
}

interface Entry extends LiveActor {
  ref: { getSnapshot(): unknown };
}

interface MachineLogic {
  root?: unknown;
  id?: string;
  config?: { id?: string };
}

/** Node ids occupied by a state value: `{open: {idle: 'waiting'}}` -> line.open, line.open.idle, line.open.idle.waiting. */
export function occupiedNodes(machine: string, value: unknown): string[] {
  const out: string[] = [];
  const walk = (prefix: string, v: unknown) => {
    if (typeof v === 'string') {
      out.push(`${prefix}.${v}`);
      return;
    }
    if (!v || typeof v !== 'object') return;
    for (const [k, sub] of Object.entries(v as Record<string, unknown>)) {
      out.push(`${prefix}.${k}`);
      walk(`${prefix}.${k}`, sub);
    }
  };
  walk(machine, value);
  return out;
}

/** Line and call ids: from the actor's context (call, dialogue), else from its labels (line machines, NTLM contexts). */
function idsOf(snapshot: unknown, ref: object): { line?: string; call?: string } {
  const c = (snapshot as { context?: { lineId?: unknown; callId?: unknown } }).context;
  const labels = labelsOf(ref);
  const line = typeof c?.lineId === 'string' ? c.lineId : labels?.line;
  const call = typeof c?.callId === 'string' ? c.callId : labels?.call;
  const out: { line?: string; call?: string } = {};
  if (typeof line === 'string') out.line = line.slice(0, 64);
  if (typeof call === 'string') out.call = call.slice(0, 64);
  return out;
}

export interface LiveStatesOptions {
  /** Called (synchronously, cheaply) whenever the set of live states may have changed. */
  onChange?: () => void;
  /** Actors kept at most (oldest dropped first). Default 4096. */
  maxActors?: number;
  /** Where each call's transitions are kept for replay. */
  history?: CallHistories;
  /** The clock (tests). Default Date.now. */
  now?: () => number;
}

export class LiveStates {
  private readonly actors = new Map<string, Entry>();
  private readonly maxActors: number;

  constructor(private readonly o: LiveStatesOptions = {}) {
    this.maxActors = o.maxActors ?? 4096;
  }

  /** The observer to put into the actors' inspect chain. Never throws into a machine. */
  readonly observer: Observer<InspectionEvent> = {
    next: (ev: InspectionEvent) => {
      try {
        this.take(ev);
      } catch {
        // observability only listens: a fault here must never reach a machine
      }
    },
  };

  private take(ev: InspectionEvent): void {
    if (ev.type !== '@xstate.snapshot') return;
    const ref = ev.actorRef;
    const logic = (ref as unknown as { logic?: MachineLogic }).logic;
    if (!logic?.root) return; // machines only, not promise / callback actors
    const snap = ev.snapshot as { value?: unknown; status?: string };
    const id = ref.sessionId;
    if (snap.status !== 'active' || snap.value === undefined) {
      const gone = this.actors.get(id);
      // A machine that reached a final state: its last step is part of the call's history.
      if (gone?.call && snap.status === 'done' && snap.value !== undefined && stateText(snap.value) !== gone.state) {
        this.o.history?.add(gone.call, gone.line, { at: new Date((this.o.now ?? Date.now)()).toISOString(), machine: gone.machine, from: gone.state, to: stateText(snap.value), event: chartEventName(String(ev.event.type).slice(0, 128)), nodes: occupiedNodes(gone.machine, snap.value) });
      }
      if (this.actors.delete(id)) this.o.onChange?.();
      return;
    }
    const machine = logic.config?.id ?? logic.id ?? 'machine';
    const state = stateText(snap.value);
    const prev = this.actors.get(id);
    if (prev && prev.state === state) return;
    const at = new Date((this.o.now ?? Date.now)()).toISOString();
    const entry: Entry = { id, machine, ...idsOf(snap, ref), state, nodes: occupiedNodes(machine, snap.value), since: at, ref };
    if (entry.call) this.o.history?.add(entry.call, entry.line, { at, machine, from: prev?.state ?? null, to: state, event: chartEventName(String(ev.event.type).slice(0, 128)), nodes: entry.nodes });
    this.actors.delete(id); // re-insert: Map order = most recently changed last
    this.actors.set(id, entry);
    while (this.actors.size > this.maxActors) this.actors.delete(this.actors.keys().next().value as string);
    this.o.onChange?.();
  }

  /** Drop actors that stopped without us seeing it (e.g. an observer attached late). */
  sweep(): boolean {
    let changed = false;
    for (const [id, e] of this.actors) {
      let status: string | undefined;
      try {
        status = (e.ref.getSnapshot() as { status?: string }).status;
      } catch {
        status = undefined;
      }
      if (status !== 'active') {
        this.actors.delete(id);
        changed = true;
      }
    }
    return changed;
  }

  get size(): number {
    return this.actors.size;
  }

  snapshot(maxListed = 200): LiveSnapshot {
    const counts = new Map<string, number>();
    for (const e of this.actors.values()) for (const n of e.nodes) counts.set(n, (counts.get(n) ?? 0) + 1);
    const actors = [...this.actors.values()].slice(-maxListed).map(({ ref: _ref, ...rest }) => rest);
    return { actors, counts: [...counts].map(([state, count]) => ({ state, count })) };
  }
}
