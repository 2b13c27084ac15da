/**
 * The inspection -> log bridge: one JSON line per machine transition, with `line`, `call`,
 * `machine`, `from`, `to` and `event` (the event's type only: payloads never reach a log).
 * Attach with createActor(machine, { inspect: transitionLogger(...) }); every machine actor in
 * that actor system (the root and what it invokes) is logged under its own machine id.
 */
import type { InspectionEvent, Observer } from 'xstate';
import type { Logger } from './logger.js';

export interface TransitionLogOptions {
  logger: Logger;
  line?: string;
  call?: string;
  /**
   * Level of transition lines. Default 'info'. A transition between two states tagged `routine`
   * (a modem's periodic `AT` while idle) goes at 'debug'.
   */
  level?: string;
  /** Take `line` / `call` from each actor's context (`lineId`, `callId`) instead. */
  idsFromContext?: boolean;
  /** Count each logged transition (metrics). */
  onTransition?: (machine: string) => void;
}

/** `a.b` for nested state values, `a+b` for parallel regions. */
export function stateText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (!value || typeof value !== 'object') return String(value);
  return Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => (v && typeof v === 'object' && Object.keys(v).length === 0 ? k : `${k}.${stateText(v)}`))
    .join('+');
}

/** Machine id -> the log module whose level applies (config log.modules). */
const AREA: Record<string, string> = { ntlmAccept: 'ntlm', tcpLine: 'line' };

interface MachineLogic {
  config?: { id?: string };
  root?: unknown;
}

function contextIds(snap: unknown): { line?: string; call?: string } {
  const c = (snap as { context?: { lineId?: unknown; callId?: unknown } }).context;
  const out: { line?: string; call?: string } = {};
  if (typeof c?.lineId === 'string') out.line = c.lineId;
  if (typeof c?.callId === 'string') out.call = c.callId;
  return out;
}

export function transitionLogger(o: TransitionLogOptions): Observer<InspectionEvent> {
  const log = o.logger.child({ ...(o.line ? { line: o.line } : {}), ...(o.call ? { call: o.call } : {}) });
  const level = o.level ?? 'info';
  // Last state per actor (and whether it was routine); a WeakMap so that finished actors are forgotten with them.
  const last = new WeakMap<object, { state: string; routine: boolean }>();
  return {
    next(ev: InspectionEvent) {
      if (ev.type !== '@xstate.snapshot') return;
      const snap = ev.snapshot as { value?: unknown; status?: string; hasTag?: (tag: string) => boolean };
      const logic = (ev.actorRef as unknown as { logic?: MachineLogic }).logic;
      if (!logic?.root || snap.value === undefined) return; // machines only (not promise/callback actors)
      const to = stateText(snap.value);
      const prev = last.get(ev.actorRef);
      const from = prev?.state;
      if (from === to) return;
      const routine = snap.hasTag?.('routine') ?? false;
      last.set(ev.actorRef, { state: to, routine });
      const machine = logic.config?.id ?? (ev.actorRef as { id?: string }).id ?? 'machine';
      o.onTransition?.(machine);
      const lvl = routine && prev?.routine ? 'debug' : level;
      const ids = o.idsFromContext ? contextIds(snap) : {};
      log.log(lvl, 'transition', { ...ids, area: AREA[machine] ?? machine, machine, from: from ?? null, to, event: ev.event.type, status: snap.status });
    },
  };
}
