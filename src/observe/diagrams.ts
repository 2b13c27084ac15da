/**
 * The statecharts drawn as diagrams: states as boxes (compound states as boxes around their
 * children), transitions as arrows labelled with their events. The layout is computed from the
 * charts of src/observe/statecharts.ts by elkjs (the Eclipse Layout Kernel's layered algorithm,
 * the layout Stately's own visualiser uses) in src/observe/diagram-layout.ts, ahead of time:
 * `npx tsx scripts/gen-machines-doc.ts` writes src/observe/console/diagrams.generated.ts and a
 * test fails when it is stale (laying the line machine out costs elkjs more than a second of
 * CPU, which a running gateway does not spend). renderSvg turns a layout into SVG markup.
 *
 * Pseudo-nodes: a dot per compound state pointing at its initial child, and for a machine with
 * transitions of its own (`on` at the root, taken in any state) an "any state" box.
 */

export interface DiagramNode {
  /** The state node id (`call.securing`), or a pseudo-node id (`call#initial`, `call#any`). */
  id: string;
  name: string;
  /** atomic | compound | parallel | final | history | initial (pseudo) | any (pseudo). */
  type: string;
  x: number;
  y: number;
  width: number;
  height: number;
  /** Nesting depth (the machine's top states are 1). */
  depth: number;
  /** Invoked actors' names, shown under the state name. */
  invoke: string[];
  /** Has child states drawn inside. */
  compound: boolean;
}

export interface DiagramEdge {
  id: string;
  source: string;
  target: string;
  /** One line per transition this arrow stands for: `EVENT [guard]`. */
  labels: string[];
  /** The events (as the chart names them), for matching a replayed step to its arrow. */
  events: string[];
  points: { x: number; y: number }[];
  label?: { x: number; y: number; width: number; height: number };
}

export interface Diagram {
  machine: string;
  width: number;
  height: number;
  nodes: DiagramNode[];
  edges: DiagramEdge[];
}

// Text metrics for the fonts the SVG uses (monospace: a character is 0.6 em); the layout sizes boxes by them.
export const STATE_FONT = 12;
export const LABEL_FONT = 11;
export const LINE = 13;

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * SVG markup of a diagram. Presentation attributes only (no <style>, no script): it shows as is
 * in a browser or an image viewer, and the console's style sheet restyles it (classes
 * `state`, `edge`, `active`, `replay`, `taken`) under a CSP without inline styles.
 * `data-state` carries the state node id, `data-events` the arrow's events (`|`-separated).
 */
export function renderSvg(d: Diagram): string {
  const m = esc(d.machine.replace(/[^A-Za-z0-9_-]/g, '_'));
  const pad = 4;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="statechart" data-machine="${esc(d.machine)}" viewBox="${-pad} ${-pad} ${d.width + 2 * pad} ${d.height + 2 * pad}" width="${d.width + 2 * pad}" height="${d.height + 2 * pad}" role="img" aria-label="statechart ${esc(d.machine)}" font-family="ui-monospace, 'DejaVu Sans Mono', monospace">`,
    `<defs><marker id="arrow-${m}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#475467"/></marker>`,
    `<marker id="arrow-${m}-taken" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#dc6803"/></marker></defs>`,
    '<g class="states">',
  ];
  for (const n of d.nodes) {
    const attrs = `class="state ${esc(n.type)}${n.compound ? ' compound' : ''}" data-state="${esc(n.id)}"`;
    if (n.type === 'initial') {
      out.push(`<g ${attrs}><circle cx="${n.x + n.width / 2}" cy="${n.y + n.height / 2}" r="${n.width / 2}" fill="#344054"/></g>`);
      continue;
    }
    const fill = n.compound ? (n.depth % 2 ? '#f8f9fb' : '#ffffff') : n.type === 'any' ? '#fef6ee' : '#ffffff';
    const dash = n.type === 'any' || n.type === 'parallel' ? ' stroke-dasharray="5 3"' : '';
    out.push(`<g ${attrs}><title>${esc(n.id)}</title>`);
    out.push(`<rect x="${n.x}" y="${n.y}" width="${n.width}" height="${n.height}" rx="6" fill="${fill}" stroke="#98a2b3" stroke-width="1"${dash}/>`);
    if (n.type === 'final') out.push(`<rect class="final-ring" x="${n.x + 3}" y="${n.y + 3}" width="${n.width - 6}" height="${n.height - 6}" rx="4" fill="none" stroke="#98a2b3" stroke-width="1"/>`);
    const ty = n.compound ? n.y + 16 : n.y + 17;
    out.push(`<text class="name" x="${n.compound ? n.x + 10 : n.x + n.width / 2}" y="${ty}" font-size="${STATE_FONT}" font-weight="600" fill="#1d2430"${n.compound ? '' : ' text-anchor="middle"'}>${esc(n.name)}</text>`);
    n.invoke.forEach((src, i) => out.push(`<text class="invoke" x="${n.compound ? n.x + 10 : n.x + n.width / 2}" y="${ty + LINE * (i + 1)}" font-size="${LABEL_FONT}" fill="#7a5af8"${n.compound ? '' : ' text-anchor="middle"'}>invoke ${esc(src)}</text>`));
    out.push(`<g class="badge" display="none"><rect x="${n.x + n.width - 26}" y="${n.y - 8}" width="26" height="16" rx="8" fill="#0b63ce"/><text x="${n.x + n.width - 13}" y="${n.y + 4}" font-size="11" fill="#ffffff" text-anchor="middle"></text></g>`);
    out.push('</g>');
  }
  out.push('</g><g class="edges">');
  for (const e of d.edges) {
    if (e.points.length < 2) continue;
    const path = e.points.map((p, i) => `${i ? 'L' : 'M'}${p.x},${p.y}`).join(' ');
    out.push(`<g class="edge" data-source="${esc(e.source)}" data-target="${esc(e.target)}" data-events="${esc(e.events.join('|'))}">`);
    out.push(`<path d="${path}" fill="none" stroke="#475467" stroke-width="1.2" marker-end="url(#arrow-${m})"/>`);
    if (e.label && e.labels.length) {
      const { x, y, width, height } = e.label;
      out.push(`<rect class="label-bg" x="${x}" y="${y}" width="${width}" height="${height}" fill="#ffffff" fill-opacity="0.85"/>`);
      out.push(`<text class="label" x="${x + 3}" y="${y + LINE - 2}" font-size="${LABEL_FONT}" fill="#344054">${e.labels.map((l, i) => `<tspan x="${x + 3}" dy="${i ? LINE : 0}">${esc(l)}</tspan>`).join('')}</text>`);
    }
    out.push('</g>');
  }
  out.push('</g></svg>');
  return out.join('\n');
}

