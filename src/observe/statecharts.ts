/**
 * Statecharts from the machine definitions themselves (machine.root: state nodes, transitions,
 * invokes, delays): `rasgate machines --format json|mermaid` and docs/machines.md
 * (scripts/gen-machines-doc.ts). Nothing is written by hand, so the pictures cannot drift.
 */
import type { AnyStateMachine } from 'xstate';
import { lineMachine } from '../../machines/line.js';
import { tcpLineMachine } from '../../machines/tcpLine.js';
import { gatewayMachine } from '../../machines/gateway.js';
import { dialogueMachine } from '../../machines/dialogue.js';
import { ntlmAcceptMachine } from '../../machines/ntlmAccept.js';
import { callMachine } from '../../machines/call.js';

/** Every statechart rasgate runs: the daemon's life, then in the order a call meets them. */
export const MACHINES: Record<string, AnyStateMachine> = {
  gateway: gatewayMachine as unknown as AnyStateMachine,
  line: lineMachine as unknown as AnyStateMachine,
  tcpLine: tcpLineMachine as unknown as AnyStateMachine,
  call: callMachine as unknown as AnyStateMachine,
  dialogue: dialogueMachine as unknown as AnyStateMachine,
  ntlmAccept: ntlmAcceptMachine as unknown as AnyStateMachine,
};

export interface ChartTransition {
  /** The event as written (`SECURITY_MESSAGE`), `after <delay>`, `done <actor>`, `error <actor>`, `always`. */
  event: string;
  targets: string[];
  guard?: string;
  /** Named delay or milliseconds, for `after` transitions. */
  delay?: string | number;
}

export interface ChartState {
  id: string;
  key: string;
  type: string;
  initial?: string;
  invoke: { id: string; src: string }[];
  transitions: ChartTransition[];
  states: ChartState[];
}

interface NodeLike {
  id: string;
  key: string;
  type: string;
  initial?: { target: { id: string }[] };
  states: Record<string, NodeLike>;
  transitions: Map<string, TransitionLike[]>;
  always?: TransitionLike[];
  invoke: { id: string; src: unknown }[];
}

interface TransitionLike {
  eventType: string;
  target?: { id: string }[];
  guard?: unknown;
  delay?: string | number;
}

function eventName(t: TransitionLike): string {
  const e = t.eventType;
  if (!e) return 'always';
  if (e.startsWith('xstate.after.')) return `after ${t.delay ?? e.split('.')[2]}`;
  if (e.startsWith('xstate.done.actor.')) return `done ${e.slice('xstate.done.actor.'.length)}`;
  if (e.startsWith('xstate.error.actor.')) return `error ${e.slice('xstate.error.actor.'.length)}`;
  if (e.startsWith('xstate.done.state.')) return 'done';
  return e;
}

function guardName(g: unknown): string | undefined {
  if (!g) return undefined;
  if (typeof g === 'string') return g;
  if (typeof g === 'function') return g.name || 'guard';
  if (typeof g === 'object' && typeof (g as { type?: unknown }).type === 'string') return (g as { type: string }).type;
  return 'guard';
}

function chartOfNode(n: NodeLike): ChartState {
  const transitions: ChartTransition[] = [];
  for (const list of n.transitions.values()) {
    for (const t of list) {
      const c: ChartTransition = { event: eventName(t), targets: (t.target ?? []).map((x) => x.id) };
      const g = guardName(t.guard);
      if (g) c.guard = g;
      if (t.delay !== undefined) c.delay = t.delay;
      transitions.push(c);
    }
  }
  for (const t of n.always ?? []) {
    const c: ChartTransition = { event: 'always', targets: (t.target ?? []).map((x) => x.id) };
    const g = guardName(t.guard);
    if (g) c.guard = g;
    transitions.push(c);
  }
  const s: ChartState = {
    id: n.id,
    key: n.key,
    type: n.type,
    invoke: n.invoke.map((i) => ({ id: i.id, src: typeof i.src === 'string' ? i.src : i.id })),
    transitions,
    states: Object.values(n.states).map(chartOfNode),
  };
  const initial = n.initial?.target?.[0]?.id;
  if (initial) s.initial = initial;
  return s;
}

export function chartOf(machine: AnyStateMachine): ChartState {
  return chartOfNode(machine.root as unknown as NodeLike);
}

const mid = (id: string) => id.replace(/[^A-Za-z0-9_]/g, '_');
const label = (t: ChartTransition) => `${t.event}${t.guard ? ` [${t.guard}]` : ''}`.replace(/[;:#]/g, ' ');

/** A Mermaid stateDiagram-v2 of one chart. */
export function toMermaid(chart: ChartState): string {
  const out = ['stateDiagram-v2'];
  const edges: string[] = [];
  const walk = (s: ChartState, indent: string, isRoot: boolean) => {
    if (s.initial) out.push(`${indent}[*] --> ${mid(s.initial)}`);
    for (const c of s.states) {
      if (c.states.length) {
        out.push(`${indent}state "${c.key}" as ${mid(c.id)} {`);
        walk(c, `${indent}  `, false);
        out.push(`${indent}}`);
      } else out.push(`${indent}state "${c.key}" as ${mid(c.id)}`);
      for (const i of c.invoke) out.push(`${indent}${mid(c.id)} : invoke ${i.src}`);
      if (c.type === 'final' && isRoot) edges.push(`${mid(c.id)} --> [*]`);
    }
    for (const c of s.states) {
      if (c.states.length) continue; // a compound child's own edges come from its walk
      for (const t of c.transitions) for (const target of t.targets) edges.push(`${mid(c.id)} --> ${mid(target)} : ${label(t)}`);
    }
    if (!isRoot) for (const t of s.transitions) for (const target of t.targets) edges.push(`${mid(s.id)} --> ${mid(target)} : ${label(t)}`);
  };
  walk(chart, '  ', true);
  // The machine's own invokes and transitions apply in every state: one note on the initial state.
  const whole = [...chart.invoke.map((i) => `invoke ${i.src}`), ...chart.transitions.flatMap((t) => t.targets.map((x) => `${label(t)} to ${x.split('.').slice(1).join('.') || x}`))];
  if (whole.length && chart.initial) out.push(`  note left of ${mid(chart.initial)}`, `    in any state`, ...whole.map((w) => `    ${w}`), '  end note');
  out.push(...[...new Set(edges)].map((e) => `  ${e}`));
  return out.join('\n');
}

/** Every transition a chart has, flattened (tests, counts). */
export function allTransitions(chart: ChartState): (ChartTransition & { source: string })[] {
  return [...chart.transitions.map((t) => ({ ...t, source: chart.id })), ...chart.states.flatMap(allTransitions)];
}

const ABOUT: Record<string, string> = {
  line: 'One modem or serial line (src/serial/device-line.ts): open, init chat, wait for RING, answer, connected, hang up, re-init; a lost device is reopened with backoff. TCP lines have no modem and no machine: each connection is a call.',
  call: 'One answered call through the gateway (src/gateway/call-runner.ts): the RAS security dialogue, its SECURITY_MESSAGE, then the line\'s post-login action or a hang-up.',
  dialogue: 'The RAS security dialogue of one call (src/ras/session.ts): banner, user name, optional domain, password, verify, with field and login timeouts and a growing delay after each failure.',
  ntlmAccept: 'The AcceptSecurityContext legs of one NTLM server context (src/ntlm/server.ts): NEGOTIATE, CHALLENGE, AUTHENTICATE, checked by the configured authority.',
};

/** docs/machines.md, generated (scripts/gen-machines-doc.ts; test/observe/docs.test.ts fails when stale). */
export function renderMachinesDoc(): string {
  const parts = [
    '# The state machines',
    '',
    '<!-- GENERATED by scripts/gen-machines-doc.ts from the machine definitions: do not edit by hand. -->',
    '',
    'rasgate\'s behaviour is four XState machines (folder `machines/`). These diagrams are exported from the',
    'definitions themselves (`rasgate machines --format mermaid`; `--format json` gives the same as data).',
    'Every transition they take is logged as one JSON line (`message: "transition"`, with `line`, `call`,',
    '`machine`, `from`, `to`, `event`), and `rasgate serve --inspect` shows them live (docs/security.md).',
    '',
    'Labels: `EVENT [guard]`; `after NAME` is a named delay (configurable), `done X` / `error X` the end of',
    'the invoked actor X, `always` an immediate transition.',
    '',
  ];
  for (const [name, machine] of Object.entries(MACHINES)) {
    const chart = chartOf(machine);
    const states = allStates(chart);
    const invokes = [...new Set(states.flatMap((s) => s.invoke.map((i) => i.src)))];
    const delays = [...new Set(allTransitions(chart).filter((t) => t.delay !== undefined).map((t) => String(t.delay)))];
    parts.push(`## ${name}`, '', ABOUT[name] ?? '', '', `States: ${states.length - 1}. Actors invoked: ${invokes.map((i) => `\`${i}\``).join(', ') || 'none'}. Named delays: ${delays.map((d) => `\`${d}\``).join(', ') || 'none'}.`, '', '```mermaid', toMermaid(chart), '```', '');
  }
  return parts.join('\n');
}

function allStates(chart: ChartState): ChartState[] {
  return [chart, ...chart.states.flatMap(allStates)];
}
