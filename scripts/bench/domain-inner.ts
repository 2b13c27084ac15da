/**
 * The domain bench's measuring half; runs inside the throwaway DC's namespace (started by
 * scripts/bench/domain.ts). Full logons (our client -> acceptSecurityContext -> authority ->
 * DC) per authority type, and Samba's own ntlm_auth doing the same checks as the baseline.
 * Prints one JSON line per measurement.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createAuthority } from '../../src/authority/index.js';
import type { Authority, ResponseCheck } from '../../src/ntlm/authority.js';
import { acceptSecurityContext, acquireCredentialsHandle, deleteSecurityContext, type CredentialHandle } from '../../src/ntlm/server.js';
import { initializeSecurityContext } from '../../src/ntlm/client.js';
import { ASC_REQ_CONNECTION, SECURITY_NATIVE_DREP } from '../../src/ntlm/constants.js';
import { encodeRequest } from '../../src/authority/winbind/protocol.js';

const env = process.env;
const DOMAIN = env.DC_DOMAIN ?? 'EXAMPLE';
const USER = 'alice';
const PASSWORD = env.DC_PASSWORD ?? 'Passw0rd-1';
const SECONDS = Number(env.BENCH_SECONDS ?? 3);
const CONCURRENCY = Number(env.BENCH_CONCURRENCY ?? 4);

async function logon(cred: CredentialHandle): Promise<number> {
  const credential = { user: USER, domain: DOMAIN, password: PASSWORD };
  const c1 = initializeSecurityContext(credential, null, undefined, 0);
  const r1 = await acceptSecurityContext(cred, null, c1.outputToken!, ASC_REQ_CONNECTION, SECURITY_NATIVE_DREP);
  const c2 = initializeSecurityContext(credential, c1.context, undefined, 0, r1.outputToken);
  const r2 = await acceptSecurityContext(cred, r1.context, c2.outputToken!, ASC_REQ_CONNECTION, SECURITY_NATIVE_DREP);
  deleteSecurityContext(r2.context);
  return r2.status;
}

/** One measurement, printed as a JSON line for domain.ts. */
export interface Figures {
  name: string;
  n: number;
  perSecond: number;
  p50: number;
  p99: number;
  concurrency: number;
}

/** Run `one` from `concurrency` loops for SECONDS; every call must succeed. */
async function measure(name: string, concurrency: number, one: () => Promise<boolean>): Promise<Figures> {
  for (let i = 0; i < 3; i++) if (!(await one())) throw new Error(`${name}: warm-up logon failed`);
  const lat: number[] = [];
  const start = performance.now();
  const end = start + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        if (!(await one())) throw new Error(`${name}: a logon failed`);
        lat.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  lat.sort((a, b) => a - b);
  const q = (p: number): number => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!;
  return { name, n: lat.length, perSecond: lat.length / elapsed, p50: q(0.5), p99: q(0.99), concurrency };
}

/** Checks exactly as the winbind authority would send them (captured through the acceptor). */
async function precomputedChecks(count: number): Promise<ResponseCheck[]> {
  const checks: ResponseCheck[] = [];
  const capture: Authority = {
    type: 'capture',
    verify: async (check) => {
      checks.push(check);
      return { result: 'denied', reason: 'bad-credentials' };
    },
    close: async () => undefined,
  };
  const cred = acquireCredentialsHandle({ authority: capture, netbiosDomainName: DOMAIN });
  for (let i = 0; i < count; i++) await logon(cred);
  return checks;
}

/** Samba's ntlm_auth ntlm-server-1, driven directly: one request on the pipe at a time. */
async function rawHelper(checks: ResponseCheck[]): Promise<Figures> {
  const child = spawn('ntlm_auth', ['--helper-protocol=ntlm-server-1'], { stdio: ['pipe', 'pipe', 'ignore'] });
  const lines = createInterface({ input: child.stdout });
  let waiting: ((ok: boolean) => void) | undefined;
  let authenticated = false;
  lines.on('line', (l) => {
    if (l.startsWith('Authenticated: ')) authenticated = l === 'Authenticated: Yes';
    else if (l === '.' && waiting) {
      const w = waiting;
      waiting = undefined;
      w(authenticated);
    }
  });
  let i = 0;
  const requests = checks.map((c) => encodeRequest(c));
  const one = (): Promise<boolean> =>
    new Promise((resolve) => {
      waiting = resolve;
      child.stdin.write(requests[i++ % requests.length]!);
    });
  try {
    return await measure('ntlm_auth ntlm-server-1 (Samba, direct)', 1, one);
  } finally {
    child.kill();
  }
}

/** Samba's ntlm_auth --username --password: one process per check (what a naive script does). */
async function perProcess(): Promise<Figures> {
  const one = (): Promise<boolean> =>
    new Promise((resolve) => {
      const c = spawn('ntlm_auth', [`--username=${USER}`, `--password=${PASSWORD}`, `--domain=${DOMAIN}`], { stdio: 'ignore' });
      c.on('exit', (code) => resolve(code === 0));
    });
  return measure('ntlm_auth --username --password (Samba, process per check)', 1, one);
}

async function viaAuthority(name: string, config: Record<string, unknown>, concurrency: number): Promise<Figures> {
  const authority = await createAuthority(config as never);
  const cred = acquireCredentialsHandle({ authority, netbiosDomainName: DOMAIN });
  try {
    return await measure(name, concurrency, async () => (await logon(cred)) === 0);
  } finally {
    await authority.close();
  }
}

const tls = { caFile: `${env.DC_DIR}/private/tls/ca.pem`, tlsServername: 'dc1.example.test' };
const service = { bindDn: `Administrator@${(env.DC_REALM ?? 'EXAMPLE.TEST').toLowerCase()}`, bindPassword: env.DC_ADMIN_PASSWORD, ...tls };
const results: Figures[] = [];
const checks = await precomputedChecks(64);
results.push(await rawHelper(checks));
results.push(await viaAuthority('rasgate winbind (pool of 4 ntlm_auth helpers)', { type: 'winbind', domain: DOMAIN }, 1));
results.push(await viaAuthority(`rasgate winbind, ${CONCURRENCY} callers`, { type: 'winbind', domain: DOMAIN }, CONCURRENCY));
results.push(await viaAuthority('rasgate winbind, 1 helper (a serial queue)', { type: 'winbind', domain: DOMAIN, helpers: 1 }, CONCURRENCY));
results.push(await viaAuthority('rasgate ldap relay', { type: 'ldap', servers: ['ldap://127.0.0.1'], ...tls }, 1));
results.push(await viaAuthority(`rasgate ldap relay, ${CONCURRENCY} callers`, { type: 'ldap', servers: ['ldap://127.0.0.1'], ...tls }, CONCURRENCY));
results.push(await viaAuthority('rasgate ldap relay, connect per logon', { type: 'ldap', servers: ['ldap://127.0.0.1'], ...tls, warmConnections: 0 }, 1));
results.push(await viaAuthority('rasgate ldap relay + policy lookup', { type: 'ldap', servers: ['ldap://127.0.0.1'], ...service, requiredGroup: 'dialin-users' }, 1));
results.push(await viaAuthority(`rasgate ldap relay + policy lookup, ${CONCURRENCY} callers`, { type: 'ldap', servers: ['ldap://127.0.0.1'], ...service, requiredGroup: 'dialin-users' }, CONCURRENCY));
results.push(await perProcess());
for (const r of results) process.stdout.write(JSON.stringify(r) + '\n');
process.exit(0);
