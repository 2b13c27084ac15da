/**
 * The diagrams' layout (src/observe/diagrams.ts): the charts of src/observe/statecharts.ts as an
 * ELK graph, laid out by elkjs, and the generated module the console reads. Run by
 * scripts/gen-machines-doc.ts and by the test that checks the generated module is current; the
 * daemon never loads elkjs.
 */
import elkBundle from 'elkjs/lib/elk.bundled.js';
import type { ELK as ElkLayouter, ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';
import { MACHINES, chartOf, type ChartState } from './statecharts.js';
import { LABEL_FONT, LINE, STATE_FONT, type Diagram, type DiagramEdge, type DiagramNode } from './diagrams.js';

// The bundle is CommonJS (module.exports = the ELK class); its typings say `export default`.
type ElkClass = new () => ElkLayouter;
const ELK = ((elkBundle as unknown as { default?: ElkClass }).default ?? elkBundle) as unknown as ElkClass;

const CHAR = 0.6;
const textWidth = (s: string, size: number) => Math.ceil(s.length * size * CHAR);
const HEADER = 22;

const LAYOUT: Record<string, string> = {
  'elk.algorithm': 'layered',
  'elk.direction': 'DOWN',
  'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
  'elk.edgeRouting': 'ORTHOGONAL',
  'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
  'elk.layered.spacing.nodeNodeBetweenLayers': '28',
  'elk.layered.spacing.edgeNodeBetweenLayers': '14',
  'elk.spacing.nodeNode': '22',
  'elk.spacing.edgeNode': '12',
  'elk.spacing.edgeEdge': '8',
  'elk.spacing.edgeLabel': '3',
  'elk.edgeLabels.placement': 'CENTER',
  'elk.randomSeed': '1',
};

interface Meta {
  name: string;
  type: string;
  depth: number;
  invoke: string[];
  compound: boolean;
}

/** The ELK graph of one chart (exported for tests: ids, containment). */
export function elkGraph(chart: ChartState): { graph: ElkNode; meta: Map<string, Meta>; edgeMeta: Map<string, { source: string; target: string; labels: string[]; events: string[] }> } {
  const meta = new Map<string, Meta>();
  const edgeMeta = new Map<string, { source: string; target: string; labels: string[]; events: string[] }>();
  const parent = new Map<string, string>();
  const elkNodes = new Map<string, ElkNode>();
  const root: ElkNode = { id: chart.id, layoutOptions: LAYOUT, children: [], edges: [] };
  elkNodes.set(chart.id, root);

  const add = (s: ChartState, into: ElkNode, depth: number) => {
    const compound = s.states.length > 0;
    const invoke = s.invoke.map((i) => i.src);
    meta.set(s.id, { name: s.key, type: s.type, depth, invoke, compound });
    parent.set(s.id, into.id);
    const head = Math.max(textWidth(s.key, STATE_FONT), ...invoke.map((i) => textWidth(`invoke ${i}`, LABEL_FONT))) + 24;
    const node: ElkNode = compound
      ? { id: s.id, children: [], edges: [], layoutOptions: { 'elk.padding': `[top=${HEADER + 6 + invoke.length * LINE},left=10,bottom=10,right=10]`, 'elk.nodeSize.minimum': `(${head}, 40)`, 'elk.nodeSize.constraints': 'MINIMUM_SIZE' } }
      : { id: s.id, width: Math.max(72, head), height: 26 + invoke.length * LINE };
    into.children!.push(node);
    elkNodes.set(s.id, node);
    if (compound) addChildren(s, node, depth + 1);
  };
  const addChildren = (s: ChartState, into: ElkNode, depth: number) => {
    if (s.initial && s.type !== 'parallel') {
      const id = `${s.id}#initial`;
      meta.set(id, { name: '', type: 'initial', depth, invoke: [], compound: false });
      parent.set(id, into.id);
      into.children!.push({ id, width: 10, height: 10 });
      elkNodes.set(id, { id });
      pending.push({ source: id, target: s.initial, labels: [], events: [] });
    }
    for (const c of s.states) add(c, into, depth);
  };
  const pending: { source: string; target: string; labels: string[]; events: string[] }[] = [];
  addChildren(chart, root, 1);

  // The machine's own transitions apply in every state: drawn from an "any state" box.
  const rootTransitions = chart.transitions.filter((t) => t.targets.length > 0);
  if (rootTransitions.length) {
    const id = `${chart.id}#any`;
    meta.set(id, { name: 'any state', type: 'any', depth: 1, invoke: [], compound: false });
    parent.set(id, root.id);
    root.children!.unshift({ id, width: textWidth('any state', STATE_FONT) + 24, height: 26 });
  }
  const walk = (s: ChartState, source: string) => {
    for (const t of s.transitions) {
      const label = `${t.event}${t.guard ? ` [${t.guard}]` : ''}`;
      for (const target of t.targets) if (meta.has(target)) pending.push({ source, target, labels: [label], events: [t.event] });
    }
  };
  walk(chart, `${chart.id}#any`);
  const visit = (s: ChartState) => {
    for (const c of s.states) {
      walk(c, c.id);
      visit(c);
    }
  };
  visit(chart);

  // One arrow per (source, target): its label lists every transition it stands for.
  const merged = new Map<string, { source: string; target: string; labels: string[]; events: string[] }>();
  for (const e of pending) {
    const key = `${e.source}\u0000${e.target}`;
    const m = merged.get(key);
    if (!m) merged.set(key, { ...e, labels: [...e.labels], events: [...e.events] });
    else {
      for (const l of e.labels) if (!m.labels.includes(l)) m.labels.push(l);
      for (const ev of e.events) if (!m.events.includes(ev)) m.events.push(ev);
    }
  }
  const ancestors = (id: string): string[] => {
    const out: string[] = [];
    for (let p = parent.get(id); p !== undefined; p = parent.get(p)) out.push(p);
    return out;
  };
  let n = 0;
  for (const e of merged.values()) {
    // ELK's containment: a descendant's edge lives in its ancestor; otherwise in the lowest common ancestor.
    const up = ancestors(e.source);
    const containerId = ancestors(e.target).includes(e.source)
      ? e.source
      : up.includes(e.target)
        ? e.target
        : (up.find((a) => a === parent.get(e.target) || ancestors(e.target).includes(a)) ?? root.id);
    const container = elkNodes.get(containerId) ?? root;
    const id = `e${n++}`;
    const width = Math.max(0, ...e.labels.map((l) => textWidth(l, LABEL_FONT))) + 6;
    const edge: ElkExtendedEdge = { id, sources: [e.source], targets: [e.target], ...(e.labels.length ? { labels: [{ id: `${id}l`, text: e.labels.join('\n'), width, height: e.labels.length * LINE + 2 }] } : {}) };
    (container.edges ??= []).push(edge);
    edgeMeta.set(id, e);
  }
  return { graph: root, meta, edgeMeta };
}

/** Lay one chart out (elkjs); coordinates absolute, origin top left. */
export async function layoutChart(machine: string, chart: ChartState): Promise<Diagram> {
  const { graph, meta, edgeMeta } = elkGraph(chart);
  const laid = await new ELK().layout(graph);
  const abs = new Map<string, { x: number; y: number }>();
  const nodes: DiagramNode[] = [];
  const edges: DiagramEdge[] = [];
  const place = (node: ElkNode, ox: number, oy: number) => {
    const x = ox + (node.x ?? 0);
    const y = oy + (node.y ?? 0);
    abs.set(node.id, { x, y });
    const m = meta.get(node.id);
    if (m) nodes.push({ id: node.id, name: m.name, type: m.type, x: r(x), y: r(y), width: r(node.width ?? 0), height: r(node.height ?? 0), depth: m.depth, invoke: m.invoke, compound: m.compound });
    for (const c of node.children ?? []) place(c, x, y);
  };
  place(laid, -(laid.x ?? 0), -(laid.y ?? 0));
  const collect = (node: ElkNode) => {
    for (const e of (node.edges ?? []) as (ElkExtendedEdge & { container?: string })[]) {
      const m = edgeMeta.get(e.id);
      if (!m) continue;
      const o = abs.get(e.container ?? node.id) ?? abs.get(node.id)!;
      const points = (e.sections ?? []).flatMap((s) => [s.startPoint, ...(s.bendPoints ?? []), s.endPoint]).map((p) => ({ x: r(p.x + o.x), y: r(p.y + o.y) }));
      const l = e.labels?.[0];
      edges.push({ id: e.id, source: m.source, target: m.target, labels: m.labels, events: m.events, points, ...(l ? { label: { x: r((l.x ?? 0) + o.x), y: r((l.y ?? 0) + o.y), width: r(l.width ?? 0), height: r(l.height ?? 0) } } : {}) });
    }
    for (const c of node.children ?? []) collect(c);
  };
  collect(laid);
  nodes.sort((a, b) => a.depth - b.depth);
  return { machine, width: r(laid.width ?? 0), height: r(laid.height ?? 0), nodes, edges };
}

const r = (v: number) => Math.round(v * 10) / 10;

/** Every machine's diagram, laid out now (the generator and its staleness test). */
export async function layoutAll(): Promise<Diagram[]> {
  const out: Diagram[] = [];
  for (const [name, machine] of Object.entries(MACHINES)) out.push(await layoutChart(name, chartOf(machine)));
  return out;
}

/** src/observe/console/diagrams.generated.ts: one node or edge per line, so that a change reads as a diff. */
export function renderDiagramsModule(diagrams: Diagram[]): string {
  const lines = [
    '// GENERATED by scripts/gen-machines-doc.ts from the machine definitions (elkjs layout): do not edit by hand.',
    "import type { Diagram } from '../diagrams.js';",
    '',
    'export const DIAGRAMS: Diagram[] = [',
  ];
  for (const d of diagrams) {
    lines.push(`  {`, `    machine: ${JSON.stringify(d.machine)},`, `    width: ${d.width},`, `    height: ${d.height},`, '    nodes: [');
    for (const n of d.nodes) lines.push(`      ${JSON.stringify(n)},`);
    lines.push('    ],', '    edges: [');
    for (const e of d.edges) lines.push(`      ${JSON.stringify(e)},`);
    lines.push('    ],', '  },');
  }
  lines.push('];', '');
  return lines.join('\n');
}
