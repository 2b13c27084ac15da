/**
 * The acceptance test of the domain authorities: a caller on a TCP line logs in through
 * `rasgate serve` against a real Samba AD DC. The gateway and the caller run inside the DC's
 * network namespace; the logs are checked for the outcome and for the absence of the password.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { needsDc, startDc, stopDc, type DcInfo } from './dc.js';
import { waitFor } from '../helpers/net.js';

const skip = needsDc();
// RASGATE_DC_PREFIX: see test/domain/authorities.test.ts.
const NAME = `${process.env.RASGATE_DC_PREFIX ? `${process.env.RASGATE_DC_PREFIX}sv` : 'rgsv'}-${process.pid}`;
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const script = resolve(root, 'scripts/samba-dc.sh');
const caller = resolve(root, 'test/domain/tcp-caller.mjs');

let dc: DcInfo;
let dir: string;
interface Gateway {
  child: ChildProcess;
  /** Everything the gateway logged (JSON lines on stdout/stderr). */
  chunks: Buffer[];
}
const gateways: Gateway[] = [];

function serve(port: number, authority: string): Gateway {
  const config = join(dir, `rasgate-${port}.yaml`);
  writeFileSync(config, `lines:\n  - listen: tcp://127.0.0.1:${port}\nauthority:\n${authority}\n`);
  const child = spawn('bash', [script, 'exec', NAME, process.execPath, '--import', 'tsx', resolve(root, 'src/cli/main.ts'), 'serve', '--config', config], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: Buffer[] = [];
  child.stdout!.on('data', (d: Buffer) => chunks.push(d));
  child.stderr!.on('data', (d: Buffer) => chunks.push(d));
  const g = { child, chunks };
  gateways.push(g);
  return g;
}

function call(port: number, login: string, password: string): string {
  const r = spawnSync('bash', [script, 'exec', NAME, process.execPath, caller, String(port), login, password], { encoding: 'latin1', timeout: 20_000 });
  return r.stdout;
}

function logText(g: Gateway): string {
  return Buffer.concat(g.chunks).toString('utf8');
}

describe('rasgate serve against the domain', { skip }, () => {
  before(async () => {
    dc = startDc(NAME);
    dir = mkdtempSync(join(tmpdir(), 'rg-serve-'));
    const tls = `  caFile: ${dc.DC_DIR}/private/tls/ca.pem\n  tlsServername: dc1.example.test\n`;
    serve(2323, `  type: ldap\n  servers: [ldap://127.0.0.1]\n${tls}  bindDn: Administrator@example.test\n  bindPassword: "${dc.DC_ADMIN_PASSWORD}"\n  requiredGroup: ${dc.DC_GROUP}`);
    serve(2324, `  type: winbind\n  domain: ${dc.DC_DOMAIN}`);
    for (const port of [2323, 2324]) {
      await waitFor(() => call(port, '--probe', '').includes('login: '), `gateway on ${port}`, 20_000, 200);
    }
  });

  after(async () => {
    for (const g of gateways) {
      if (g.child.exitCode === null && g.child.pid) {
        await new Promise<void>((res) => {
          g.child.once('exit', () => res());
          process.kill(-g.child.pid!, 'SIGTERM');
          setTimeout(() => {
            if (g.child.exitCode === null) process.kill(-g.child.pid!, 'SIGKILL');
          }, 5000).unref();
        });
      }
    }
    stopDc(NAME);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const [port, kind] of [[2323, 'ldap'], [2324, 'winbind']] as const) {
    test(`${kind}: right password logs in, wrong one and a locked account are refused; no password in the logs`, async () => {
      const g = gateways[port === 2323 ? 0 : 1]!;
      // Only the summaries of calls that typed something (the readiness probes hang up at the prompt).
      const summaries = (): Array<Record<string, unknown>> =>
        logText(g)
          .split('\n')
          .filter((l) => l.includes('"call summary"'))
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .filter((x) => Number(x.bytesIn) > 0);
      call(port, `${dc.DC_DOMAIN}\\alice`, dc.DC_PASSWORD);
      await waitFor(() => summaries().length >= 1, 'first summary', 10_000, 100);
      call(port, `${dc.DC_DOMAIN}\\alice`, 'wrong-pass');
      call(port, `${dc.DC_DOMAIN}\\locked`, dc.DC_PASSWORD);
      await waitFor(() => summaries().length >= 3, 'three summaries', 10_000, 100);
      const [ok, wrong, locked] = summaries();
      assert.equal(ok!.outcome, 'accepted', JSON.stringify(ok));
      assert.equal(ok!.user, 'alice');
      assert.equal(ok!.domain, dc.DC_DOMAIN);
      assert.notEqual(wrong!.outcome, 'accepted', JSON.stringify(wrong));
      assert.notEqual(locked!.outcome, 'accepted', JSON.stringify(locked));
      assert.ok(!logText(g).includes(dc.DC_PASSWORD), 'a password reached the log');
      assert.ok(!logText(g).includes('wrong-pass'), 'a password reached the log');
      if (kind === 'ldap') {
        call(port, `${dc.DC_DOMAIN}\\bob`, dc.DC_PASSWORD);
        await waitFor(() => summaries().length >= 4, 'fourth summary', 10_000, 100);
        assert.notEqual(summaries()[3]!.outcome, 'accepted', 'bob is not in the required group');
      }
    });
  }
});
