/**
 * Real peers the tests drive (socat, Samba, impacket, ...). `needs(...)` returns a skip reason
 * for node:test's `skip` option when a tool is missing outside CI; under CI=true a missing tool
 * throws, so the run fails instead of quietly skipping.
 *
 *   test('curl --ntlm logs in', { skip: needs('curl') }, async () => { ... });
 */
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const CI = process.env.CI === 'true' || process.env.CI === '1';

/** Debian's python, not a pyenv shim (impacket and friends are installed for it). */
export const PYTHON = '/usr/bin/python3';

const cache = new Map<string, boolean>();

function present(probe: string): boolean {
  let hit = cache.get(probe);
  if (hit !== undefined) return hit;
  if (probe.startsWith('py:')) hit = spawnSync(PYTHON, ['-c', `import ${probe.slice(3)}`]).status === 0;
  else if (probe.startsWith('/')) hit = existsSync(probe);
  else hit = ['/usr/bin/', '/usr/sbin/', '/bin/', '/sbin/', '/usr/local/bin/'].some((d) => existsSync(d + probe));
  cache.set(probe, hit);
  return hit;
}

/** Probes: a command name, an absolute path, or py:MODULE. Also 'root' (uid 0: namespaces, apt). */
export function needs(...probes: string[]): false | string {
  const missing = probes.filter((p) => (p === 'root' ? process.getuid?.() !== 0 : !present(p)));
  if (missing.length === 0) return false;
  const reason = `needs ${missing.join(', ')} (run scripts/install-test-deps.sh as root)`;
  if (CI) throw new Error(`CI=true and a required test tool is missing: ${reason}`);
  return reason;
}

/** Absolute path of a tool (sbin included), for spawn. */
export function toolPath(name: string): string {
  for (const d of ['/usr/bin/', '/usr/sbin/', '/bin/', '/sbin/', '/usr/local/bin/']) if (existsSync(d + name)) return d + name;
  return name;
}
