/**
 * Domain bench: logons per second and p50/p99 latency against a throwaway Samba AD DC
 * (scripts/samba-dc.sh) for each domain authority, next to Samba's own ntlm_auth doing the
 * same checks in the same run. The measuring half (domain-inner.ts) runs inside the DC's
 * network namespace. Skipped (with the reason) where the DC cannot run: not root, no Samba.
 *   BENCH_SECONDS (default 3) per figure, BENCH_CONCURRENCY (default 4), BENCH_DC_NAME (the DC's
 *   namespace and run tree; default rgbench-PID, so that parallel runs never share one).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Figures } from './domain-inner.js';
import { parseEnvLines } from '../../test/domain/dc.js';

export const name = 'domain (Samba AD DC in a network namespace)';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const script = resolve(root, 'scripts/samba-dc.sh');

function missing(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespace)';
  for (const t of ['/usr/sbin/samba', '/usr/bin/samba-tool', '/usr/bin/ntlm_auth', '/usr/sbin/ip']) if (!existsSync(t)) return `needs ${t}`;
  return undefined;
}

export async function run(): Promise<void> {
  const why = missing();
  if (why) {
    process.stdout.write(`skipped: ${why} (scripts/install-test-deps.sh installs Samba)\n`);
    return;
  }
  const dc = process.env.BENCH_DC_NAME ?? `rgbench-${process.pid}`;
  const started = spawnSync('bash', [script, 'start', dc], { encoding: 'utf8', timeout: 120_000 });
  if (started.status !== 0) throw new Error(`samba-dc.sh start failed: ${started.stderr.slice(-1500)}`);
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, ...parseEnvLines(started.stdout) };
    const r = spawnSync('bash', [script, 'exec', dc, process.execPath, '--import', 'tsx', resolve(root, 'scripts/bench/domain-inner.ts')], { encoding: 'utf8', env, cwd: root, timeout: 300_000 });
    if (r.status !== 0) throw new Error(`domain bench failed: ${r.stderr.slice(-1500)}`);
    const figures = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Figures);
    const base = figures[0]!;
    const pad = Math.max(...figures.map((f) => f.name.length));
    process.stdout.write(`${'what'.padEnd(pad)}  logons/s   p50 ms   p99 ms   vs ntlm_auth direct\n`);
    for (const f of figures) {
      process.stdout.write(
        `${f.name.padEnd(pad)}  ${f.perSecond.toFixed(0).padStart(8)}  ${f.p50.toFixed(2).padStart(7)}  ${f.p99.toFixed(2).padStart(7)}   ${(f.perSecond / base.perSecond).toFixed(2)}x\n`,
      );
    }
    const find = (prefix: string, concurrency: number) => figures.find((f) => f.name.startsWith(prefix) && f.concurrency === concurrency && !/1 helper|connect per logon/.test(f.name));
    const ratio = (a?: Figures, b?: Figures) => (a && b ? (a.perSecond / b.perSecond).toFixed(2) : '?');
    const overhead = (relay?: Figures, policy?: Figures) => (relay && policy ? `${((relay.perSecond / policy.perSecond - 1) * 100).toFixed(0)}%` : '?');
    const conc = figures.find((f) => f.concurrency > 1)?.concurrency ?? 4;
    process.stdout.write(
      `targets: winbind vs ntlm_auth direct ${ratio(find('rasgate winbind', 1), base)}x (1 caller), ${ratio(find('rasgate winbind', conc), base)}x (${conc} callers), target >= 1.0x; ` +
        `ldap relay ${ratio(find('rasgate ldap relay', 1), base)}x / ${ratio(find('rasgate ldap relay', conc), base)}x, target >= 0.8x; ` +
        `the policy lookup on top of the relay: ${overhead(find('rasgate ldap relay', 1), find('rasgate ldap relay + policy', 1))} (1 caller), ${overhead(find('rasgate ldap relay', conc), find('rasgate ldap relay + policy', conc))} (${conc} callers), target <= 25%\n`,
    );
  } finally {
    spawnSync('bash', [script, 'stop', dc], { timeout: 30_000 });
  }
}
