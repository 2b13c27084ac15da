/**
 * The throwaway Samba AD DC for a test file: start it once (scripts/samba-dc.sh, cached
 * provisioning), talk to code running inside its namespace through test/domain/driver.ts,
 * tear everything down at the end.
 */
import { spawn, spawnSync, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { needs } from '../helpers/tools.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const script = resolve(root, 'scripts/samba-dc.sh');

/** node:test skip option for domain tests. */
export function needsDc(): false | string {
  return needs('root', 'ip', 'samba', 'samba-tool', 'ntlm_auth', 'wbinfo');
}

export interface DcInfo {
  DC_NS: string;
  DC_DIR: string;
  DC_REALM: string;
  DC_DOMAIN: string;
  DC_ADMIN_PASSWORD: string;
  DC_PASSWORD: string;
  DC_GROUP: string;
  DC_NESTED_GROUP: string;
  [k: string]: string;
}

export function parseEnvLines(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
  }
  return out;
}

export function startDc(name: string): DcInfo {
  const r = spawnSync('bash', [script, 'start', name], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`samba-dc.sh start ${name} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return parseEnvLines(r.stdout) as DcInfo;
}

export function stopDc(name: string): void {
  spawnSync('bash', [script, 'stop', name], { encoding: 'utf8', timeout: 30_000 });
}

/** A driver process inside the DC's namespace. */
export class Driver {
  private child: ChildProcessWithoutNullStreams;
  private nextId = 1;
  private waiting = new Map<number, (r: Record<string, unknown>) => void>();
  stderr = '';

  constructor(dcName: string) {
    this.child = spawn('bash', [script, 'exec', dcName, process.execPath, '--import', 'tsx', resolve(root, 'test/domain/driver.ts')], { cwd: root });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (d: string) => (this.stderr = (this.stderr + d).slice(-4000)));
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const msg = JSON.parse(line) as Record<string, unknown>;
      this.waiting.get(msg.id as number)?.(msg);
      this.waiting.delete(msg.id as number);
    });
  }

  call<T = Record<string, unknown>>(msg: Record<string, unknown>): Promise<T & { ok: boolean; error?: string }> {
    const id = this.nextId++;
    return new Promise((res, rej) => {
      const onExit = (): void => rej(new Error(`driver exited: ${this.stderr}`));
      this.child.once('exit', onExit);
      this.waiting.set(id, (r) => {
        this.child.off('exit', onExit);
        res(r as T & { ok: boolean });
      });
      this.child.stdin.write(JSON.stringify({ id, ...msg }) + '\n');
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    await new Promise<void>((res) => {
      this.child.once('exit', () => res());
      this.child.stdin.end();
      setTimeout(() => this.child.kill('SIGKILL'), 5000).unref();
    });
  }
}

/** `authority:` for rasgate's config: the ldap authority relaying to this DC, with its service account for the policy lookups. */
export function ldapAuthorityYaml(dc: DcInfo): string {
  return `authority:
  type: ldap
  servers: [ldap://127.0.0.1]
  caFile: ${dc.DC_DIR}/private/tls/ca.pem
  tlsServername: dc1.example.test
  bindDn: Administrator@example.test
  bindPassword: "${dc.DC_ADMIN_PASSWORD}"
`;
}

/** `rasgate serve --config FILE` inside the DC's namespace, in a process group of its own; its output collected. */
export class ServeInDc {
  readonly child: ChildProcess;
  private chunks: Buffer[] = [];

  constructor(dcName: string, config: string) {
    this.child = spawn('bash', [script, 'exec', dcName, process.execPath, '--import', 'tsx', resolve(root, 'src/cli/main.ts'), 'serve', '--config', config], { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => this.chunks.push(d));
    this.child.stderr!.on('data', (d: Buffer) => this.chunks.push(d));
  }

  /** Everything it wrote so far (JSON log lines). */
  log(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  /** SIGTERM to its group, SIGKILL 5 s later if it is still there. */
  async stop(): Promise<void> {
    const c = this.child;
    if (c.exitCode !== null || c.signalCode !== null || !c.pid) return;
    await new Promise<void>((res) => {
      c.once('exit', () => res());
      process.kill(-c.pid!, 'SIGTERM');
      setTimeout(() => {
        if (c.exitCode === null) process.kill(-c.pid!, 'SIGKILL');
      }, 5000).unref();
    });
  }
}
