/**
 * The install steps of docs/deployment.md, as the deployment test runs them. A fenced `sh` block
 * is a step when the line before its fence is a marker comment, invisible in the rendered page:
 *
 *   <!-- deploy-test: run -->                        run it, in order, in the test's chroot
 *   <!-- deploy-test: skip (why, for the reader) --> an operator step the chroot cannot run
 *                                                    (systemctl, the clone URL); the test does
 *                                                    its equivalent itself
 *
 * Any other block is prose (an example, a command to look something up) and is never run.
 */

export interface DocStep {
  mode: 'run' | 'skip';
  /** The marker's text after the mode, e.g. "(systemd)". */
  note: string;
  /** The `## ` heading the block sits under. */
  section: string;
  /** 1-based line of the opening fence, for messages. */
  line: number;
  script: string;
}

export interface ShellBlock {
  section: string;
  line: number;
  marked: boolean;
}

const MARKER = /^<!--\s*deploy-test:\s*(run|skip)\b\s*(.*?)\s*-->$/;
const FENCE = /^(`{3,}|~{3,})\s*([\w-]*)/;

function scan(markdown: string): { steps: DocStep[]; blocks: ShellBlock[]; strayMarkers: number[] } {
  const lines = markdown.split('\n');
  const steps: DocStep[] = [];
  const blocks: ShellBlock[] = [];
  const strayMarkers: number[] = [];
  let section = '';
  let pending: { mode: 'run' | 'skip'; note: string; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    const fence = FENCE.exec(text);
    if (fence) {
      const close = lines.findIndex((l, j) => j > i && l.trim() === fence[1]);
      if (close < 0) throw new Error(`docs: fence at line ${i + 1} is never closed`);
      const isShell = fence[2] === 'sh' || fence[2] === 'bash';
      if (isShell) blocks.push({ section, line: i + 1, marked: pending !== undefined });
      if (pending) {
        if (!isShell) strayMarkers.push(pending.line);
        else steps.push({ mode: pending.mode, note: pending.note, section, line: i + 1, script: lines.slice(i + 1, close).join('\n') + '\n' });
      }
      pending = undefined;
      i = close;
      continue;
    }
    if (text.startsWith('## ')) section = text.slice(3).trim();
    const marker = MARKER.exec(text.trim());
    if (marker) {
      if (pending) strayMarkers.push(pending.line);
      pending = { mode: marker[1] as 'run' | 'skip', note: marker[2]!, line: i + 1 };
    } else if (text.trim() !== '' && pending) {
      strayMarkers.push(pending.line);
      pending = undefined;
    }
  }
  if (pending) strayMarkers.push(pending.line);
  return { steps, blocks, strayMarkers };
}

/** The marked steps, in document order. Throws on a marker that is not right before a sh block. */
export function docSteps(markdown: string): DocStep[] {
  const { steps, strayMarkers } = scan(markdown);
  if (strayMarkers.length) throw new Error(`docs: deploy-test marker not followed by a sh block at line(s) ${strayMarkers.join(', ')}`);
  return steps;
}

/** Every sh/bash block, with whether it carries a marker (to insist an install section has no unmarked step). */
export function shellBlocks(markdown: string): ShellBlock[] {
  return scan(markdown).blocks;
}
