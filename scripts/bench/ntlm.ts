/**
 * NTLM acceptor benchmark. Every rate is per CPU-second of the process doing the work
 * (process.cpuUsage; the peers' own CPU clocks), i.e. what one core does, and every figure is
 * also given as a ratio to the crypto floor measured in the same run: on a shared, loaded machine
 * the ratios hold where the rates do not.
 *
 *  floor      two HMAC-MD5 and one constant-time compare per op: the least any NTLMv2 check costs
 *             (K = HMAC(NT, USER+DOMAIN), NTProofStr = HMAC(K, SC+blob), compare).
 *  bare       verifyNtlmV2() on one pre-built response (that plus the SessionBaseKey HMAC).
 *  handshake  full three-leg handshakes through acceptSecurityContext with a LocalAuthority
 *             (smbpasswd file in a temp dir), MIC + KEY_EXCH on, the ntlmAccept machine deciding
 *             every leg on its transition function (no actor: how unobserved contexts run).
 *  observed   the same with an inspection observer attached (the context runs in an xstate
 *             actor, as the gateway's calls do when transitions are logged).
 *  steps      the same server work (src/ntlm/accept.ts) called directly: no machine, no facade.
 *  machine    the ntlmAccept machine alone with constant legs: MachineRun (no actor) and an actor.
 *
 * What is timed in a handshake: per batch of B contexts, (1) B first legs
 * (acceptSecurityContext(null, NEGOTIATE): NEGOTIATE decode, random challenge, CHALLENGE build,
 * machine) and (2) B last legs (AUTHENTICATE decode, policy checks, AV-pair check, authority
 * lookup + NTLMv2 verify, key exchange, MIC, machine, outcome) each followed by
 * deleteSecurityContext. Not timed: the client's work between the legs (challenges are single
 * use, so the client tokens cannot be built before the server has issued them). A minor GC runs
 * (untimed) after the client's work so that its garbage is not collected on the server's clock.
 *
 * Then: memory of a waiting context and of a 100,000-NEGOTIATE flood against the default cap;
 * what `import('rasgate/ntlm')` costs (time, modules); and the peers, each as a ratio to the
 * rasgate handshake figure: gss-ntlmssp's acceptor (C, through python3-gssapi, its client
 * tokens built in the same process, only its accept steps timed) and pyspnego's acceptor where
 * it can be installed. Samba's ntlm_auth is the domain bench's baseline (it needs winbind).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createHmac, timingSafeEqual, randomBytes } from 'node:crypto';
import v8 from 'node:v8';
import vm from 'node:vm';
import { createActor } from 'xstate';
import { LocalAuthority } from '../../src/authority/local/index.js';
import { formatLine } from '../../src/authority/local/smbpasswd.js';
import { ntlmAcceptMachine, type AcceptOutcome, type IssuedChallenge, type NtlmAcceptEvent } from '../../machines/ntlmAccept.js';
import { acquireCredentialsHandle, acceptSecurityContext, deleteSecurityContext, type AcceptOptions, type CredentialHandle } from '../../src/ntlm/server.js';
import { createClientContext } from '../../src/ntlm/client.js';
import { ntowfv1, ntowfv2 } from '../../src/ntlm/crypto.js';
import { computeNtlmV2Response, verifyNtlmV2 } from '../../src/ntlm/ntlmv2.js';
import { ASC_REQ_CONNECTION, SECURITY_NATIVE_DREP, SEC_E_OK, SEC_I_CONTINUE_NEEDED, SEC_E_INSUFFICIENT_MEMORY } from '../../src/ntlm/constants.js';
import { buildChallenge, verifyAuthenticateNow } from '../../src/ntlm/accept.js';
import { resolvePolicy } from '../../src/ntlm/policy.js';
import { MachineHost } from '../../src/ntlm/runner.js';
import { nullLogger } from '../../src/logging.js';
import type { CredentialState } from '../../src/ntlm/context.js';

export const name = 'ntlm';

const USER = 'bench';
const DOMAIN = 'RASGATE';
const PASSWORD = 'bench-password-1';
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as (options?: { type: 'major' | 'minor' }) => void;

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

/** CPU time of this process (user + system, microseconds). */
function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Run `op` for about `ms` of CPU time (after a warm-up); returns ops per CPU-second. */
function rate(op: () => void, ms = 1000): number {
  for (let i = 0; i < 2000; i++) op();
  let n = 0;
  const start = cpuMicros();
  let now = start;
  while (now - start < ms * 1000) {
    for (let i = 0; i < 500; i++) op();
    n += 500;
    now = cpuMicros();
  }
  return n / ((now - start) / 1e6);
}

function line(label: string, opsPerSec: number, floor: number, note = ''): void {
  const ratio = floor / opsPerSec;
  process.stdout.write(`${label.padEnd(40)} ${Math.round(opsPerSec).toLocaleString('en-US').padStart(10)} /s   ${ratio.toFixed(2).padStart(6)}x floor cost${note ? `   ${note}` : ''}\n`);
}

const B = 256;

/** Full handshakes through acceptSecurityContext; only the server's legs are timed. */
async function handshakes(credential: CredentialHandle, ntHash: Buffer, count: number, options: AcceptOptions = {}): Promise<number> {
  const negotiate = createClientContext({ user: USER, domain: DOMAIN, ntHash }).negotiate();
  let timed = 0;
  for (let done = 0; done < count; done += B) {
    const t0 = cpuMicros();
    const firsts = [];
    for (let i = 0; i < B; i++) firsts.push(await acceptSecurityContext(credential, null, negotiate, ASC_REQ_CONNECTION, SECURITY_NATIVE_DREP, options));
    timed += cpuMicros() - t0;
    const auths = firsts.map((f) => {
      if (f.status !== SEC_I_CONTINUE_NEEDED) throw new Error(`first leg: ${f.status}`);
      const client = createClientContext({ user: USER, domain: DOMAIN, ntHash });
      client.negotiate();
      return client.authenticate(f.outputToken!).token;
    });
    gc({ type: 'minor' }); // the client's garbage is not the server's cost
    const t1 = cpuMicros();
    for (let i = 0; i < B; i++) {
      const r = await acceptSecurityContext(credential, firsts[i]!.context, auths[i]!, ASC_REQ_CONNECTION, SECURITY_NATIVE_DREP);
      if (r.status !== SEC_E_OK) throw new Error(`last leg: ${r.status.toString(16)} ${r.reason}`);
      deleteSecurityContext(r.context);
    }
    timed += cpuMicros() - t1;
  }
  return count / (timed / 1e6);
}

/** The same server work without machine and facade. */
function steps(state: CredentialState, ntHash: Buffer, count: number): number {
  const negotiate = createClientContext({ user: USER, domain: DOMAIN, ntHash }).negotiate();
  const params = { contextReq: ASC_REQ_CONNECTION };
  let timed = 0;
  for (let done = 0; done < count; done += B) {
    const t0 = cpuMicros();
    const issued: IssuedChallenge[] = [];
    for (let i = 0; i < B; i++) issued.push(buildChallenge(state, Buffer.from(negotiate)));
    timed += cpuMicros() - t0;
    const auths = issued.map((it) => {
      const client = createClientContext({ user: USER, domain: DOMAIN, ntHash });
      client.negotiate();
      return client.authenticate(it.challengeToken).token;
    });
    gc({ type: 'minor' });
    const t1 = cpuMicros();
    for (let i = 0; i < B; i++) {
      const r = verifyAuthenticateNow(state, Buffer.from(auths[i]!), issued[i]!, params);
      if (r?.status !== SEC_E_OK) throw new Error(`steps: ${r?.reason}`);
    }
    timed += cpuMicros() - t1;
  }
  return count / (timed / 1e6);
}

/** The machine alone, its legs' results constant: MachineRun (as unobserved contexts) or an actor. */
function machineOnly(kind: 'run' | 'actor', issued: IssuedChallenge, count: number): number {
  const outcome: AcceptOutcome = { status: SEC_E_OK, reason: 'ok', session: { user: USER, domain: DOMAIN, workstation: 'WS', flags: 0 } };
  const params = { contextReq: ASC_REQ_CONNECTION };
  const token = Buffer.alloc(0);
  const negotiate: NtlmAcceptEvent = { type: 'NEGOTIATE', token, params, step: { type: 'ISSUED', issued } };
  const authenticate: NtlmAcceptEvent = { type: 'AUTHENTICATE', token, params, step: { type: 'VERDICT', outcome } };
  const input = { challengeLifetimeMs: 120_000, authorityTimeoutMs: 15_000 };
  const clock = { setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms).unref(), clearTimeout: (id: unknown) => clearTimeout(id as NodeJS.Timeout) };
  const host = new MachineHost(ntlmAcceptMachine, input, clock);
  const start = cpuMicros();
  for (let done = 0; done < count; done += B) {
    const runs = [];
    for (let i = 0; i < B; i++) {
      if (kind === 'run') {
        const run = host.run({});
        run.send(negotiate);
        runs.push(run);
      } else {
        const actor = createActor(ntlmAcceptMachine, { input, clock });
        actor.start();
        actor.send(negotiate);
        runs.push(actor);
      }
    }
    for (const run of runs) {
      run.send(authenticate);
      if (run.getSnapshot().value !== 'established') throw new Error('machine alone: not established');
      run.stop();
    }
  }
  return count / ((cpuMicros() - start) / 1e6);
}

/** `import('rasgate/ntlm')` in a fresh node: wall time and the modules it loads (from dist/, as installed). */
function importCost(): string {
  const entry = join(root, 'dist/src/ntlm/index.js');
  if (!existsSync(entry)) return 'import cost: dist/ not built (npm run build), not measured';
  // A module hook (module.register) reports every module the import loads.
  const script = `
    import { register } from 'node:module';
    import { MessageChannel } from 'node:worker_threads';
    const { port1, port2 } = new MessageChannel();
    const urls = new Set();
    port1.on('message', (u) => urls.add(u));
    register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(`
      let port; export function initialize(data) { port = data.port; }
      export async function load(url, context, next) { port.postMessage(url); return next(url, context); }
    `)}`)}, { data: { port: port2 }, transferList: [port2] });
    const t = performance.now();
    await import(${JSON.stringify(pathToFileURL(entry).href)});
    const ms = performance.now() - t;
    setTimeout(() => {
      const files = [...urls].filter((u) => u.startsWith('file:'));
      const pkgs = new Set(files.map((u) => (u.match(/node_modules\\/((?:@[^/]+\\/)?[^/]+)/) ?? [])[1]).filter(Boolean));
      console.log(JSON.stringify({ ms, files: files.length, builtins: [...urls].filter((u) => u.startsWith('node:')).length, packages: [...pkgs].sort() }));
      port1.close();
    }, 50);
  `;
  const runs = [];
  for (let i = 0; i < 5; i++) {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: root });
    if (r.status !== 0) return `import cost: could not measure (${r.stderr.trim().split('\n').pop()})`;
    runs.push(JSON.parse(r.stdout.trim()) as { ms: number; files: number; builtins: number; packages: string[] });
  }
  const ms = runs.map((r) => r.ms).sort((a, b) => a - b);
  const last = runs[runs.length - 1]!;
  return `import('rasgate/ntlm') from dist/: ${ms[2]!.toFixed(1)} ms median of 5 fresh processes (${ms[0]!.toFixed(1)}-${ms[4]!.toFixed(1)}), ${last.files} modules (${last.packages.join(', ')} from node_modules), ${last.builtins} node: builtins`;
}

/** gss-ntlmssp's acceptor through python3-gssapi, or why it cannot run here. */
function gssNtlmssp(dir: string): { perSecond: number } | string {
  const python = '/usr/bin/python3';
  if (!existsSync(python)) return 'no /usr/bin/python3';
  const probe = spawnSync(python, ['-c', 'import gssapi'], { encoding: 'utf8' });
  if (probe.status !== 0) return 'python3-gssapi not installed (apt-get install python3-gssapi gss-ntlmssp)';
  if (!existsSync('/usr/lib/x86_64-linux-gnu/gssntlmssp/gssntlmssp.so') && !existsSync('/usr/lib/aarch64-linux-gnu/gssntlmssp/gssntlmssp.so')) return 'gss-ntlmssp not installed';
  const users = join(dir, 'ntlm-users');
  writeFileSync(users, `${DOMAIN}:${USER}:${PASSWORD}\n`, { mode: 0o600 });
  const r = spawnSync(python, [join(root, 'scripts/bench/peers/gss_accept_bench.py'), '--user', USER, '--password', PASSWORD, '--domain', DOMAIN, '--seconds', '1'], {
    encoding: 'utf8',
    env: { ...process.env, NTLM_USER_FILE: users },
    timeout: 120_000,
  });
  if (r.status !== 0) return `failed: ${r.stderr.trim().split('\n').pop()}`;
  return JSON.parse(r.stdout.trim()) as { perSecond: number };
}

/** pyspnego (Python): an acceptor only where the package exists (Debian has none; PyPI is not reachable here). */
function pyspnego(): string {
  const r = spawnSync('/usr/bin/python3', ['-c', 'import spnego'], { encoding: 'utf8' });
  return r.status === 0 ? 'installed, but its NTLM acceptor needs NTLM_USER_FILE too: not benchmarked yet' : 'not installable here (no Debian package; PyPI is not reachable): not measured';
}

export async function run(): Promise<void> {
  const ntHash = ntowfv1(PASSWORD);
  const serverChallenge = randomBytes(8);
  const responseKey = ntowfv2(ntHash, USER, DOMAIN);
  const pre = computeNtlmV2Response({ responseKeyNT: responseKey, serverChallenge, clientChallenge: randomBytes(8), timestamp: 0n, targetInfo: [] });
  const userDomain = Buffer.from(USER.toUpperCase() + DOMAIN, 'utf16le');
  const blobInput = Buffer.concat([serverChallenge, pre.blob]);

  const floor = rate(() => {
    const k = createHmac('md5', ntHash).update(userDomain).digest();
    const proof = createHmac('md5', k).update(blobInput).digest();
    if (!timingSafeEqual(proof, pre.ntProofStr)) throw new Error('floor mismatch');
  });
  line('crypto floor (2 HMAC-MD5 + compare)', floor, floor);
  const bare = rate(() => {
    const r = verifyNtlmV2({ ntHash, user: USER, domain: DOMAIN, serverChallenge, ntResponse: pre.ntResponse });
    if (!r.ok) throw new Error('bare verify failed');
  });
  line('bare verifyNtlmV2', bare, floor, bare * 2 >= floor ? '(target <= 2x: met)' : '(target <= 2x: NOT met)');

  const dir = mkdtempSync(join(tmpdir(), 'rasgate-bench-'));
  try {
    const file = join(dir, 'smbpasswd');
    writeFileSync(file, formatLine({ name: USER, uid: 1000, ntHash, hasLmHash: false, flags: new Set(['U']), lastChange: 0x5f5e1000 }) + '\n', { mode: 0o600 });
    const authority = new LocalAuthority({ file, domain: DOMAIN });
    const credential = acquireCredentialsHandle({ authority, netbiosComputerName: 'BENCH', dnsComputerName: 'bench.example.test' });
    const count = 40 * B;

    await handshakes(credential, ntHash, 4 * B); // warm-up
    gc();
    const before = process.memoryUsage();
    const hs = await handshakes(credential, ntHash, count);
    const after = process.memoryUsage();
    const ratio = floor / hs;
    line('handshakes via acceptSecurityContext', hs, floor, `(target >= 20,000/s where the floor is ~180k/s, i.e. <= 10x floor: ${ratio <= 10 ? 'met' : 'NOT met'}; ${(1e6 / hs).toFixed(1)} us each)`);

    const observer = { next: () => undefined };
    await handshakes(credential, ntHash, 2 * B, { inspect: observer });
    const observed = await handshakes(credential, ntHash, 10 * B, { inspect: observer });
    line('  observed (inspect given: an actor)', observed, floor);

    const state: CredentialState = {
      authority, policy: resolvePolicy(), logger: nullLogger(), clock: undefined, allowNtlmV1: false, liveChallenges: new Set(),
      names: { netbiosComputer: 'BENCH', netbiosDomain: DOMAIN, dnsComputer: 'bench.example.test', dnsDomain: 'example.test' },
    };
    steps(state, ntHash, 4 * B);
    const direct = steps(state, ntHash, count);
    line('  the same steps without machine/facade', direct, floor, `(machine + facade: ${(1e6 / hs - 1e6 / direct).toFixed(1)} us of ${(1e6 / hs).toFixed(1)} us)`);

    const issued = buildChallenge(state, createClientContext({ user: USER, domain: DOMAIN, ntHash }).negotiate());
    machineOnly('run', issued, 4 * B);
    const machineRun = machineOnly('run', issued, count);
    line('  the machine alone, MachineRun', machineRun, floor, `(${(1e6 / machineRun).toFixed(1)} us per handshake)`);
    machineOnly('actor', issued, 2 * B);
    const machineActor = machineOnly('actor', issued, 10 * B);
    line('  the machine alone, an actor per context', machineActor, floor, `(${(1e6 / machineActor).toFixed(1)} us per handshake)`);

    // Memory: contexts parked after the first leg, then a NEGOTIATE flood against the default cap.
    const negotiate = createClientContext({ user: USER, domain: DOMAIN, ntHash }).negotiate();
    gc();
    const base = process.memoryUsage().heapUsed;
    const parked = [];
    for (let i = 0; i < 5000; i++) parked.push((await acceptSecurityContext(credential, null, negotiate, ASC_REQ_CONNECTION, SECURITY_NATIVE_DREP)).context);
    gc();
    const perContext = (process.memoryUsage().heapUsed - base) / parked.length;
    for (const c of parked) deleteSecurityContext(c);
    process.stdout.write(`memory: a context waiting for its AUTHENTICATE holds ~${(perContext / 1024).toFixed(1)} KiB of heap; rss ${mib(after.rss)} after ${count} handshakes (${mib(before.rss)} before)\n`);

    const flooded = acquireCredentialsHandle({ authority, netbiosComputerName: 'BENCH', dnsComputerName: 'bench.example.test' });
    gc();
    const floodBase = process.memoryUsage();
    let refused = 0;
    for (let i = 0; i < 100_000; i++) {
      const r = await acceptSecurityContext(flooded, null, negotiate, ASC_REQ_CONNECTION, SECURITY_NATIVE_DREP);
      if (r.status === SEC_E_INSUFFICIENT_MEMORY) refused++;
    }
    gc();
    const floodAfter = process.memoryUsage();
    process.stdout.write(
      `flood: 100,000 NEGOTIATEs never answered: ${(100_000 - refused).toLocaleString('en-US')} contexts kept (the default cap), ${refused.toLocaleString('en-US')} refused with SEC_E_INSUFFICIENT_MEMORY; ` +
        `heap +${mib(floodAfter.heapUsed - floodBase.heapUsed)}, rss +${mib(floodAfter.rss - floodBase.rss)} (the kept ones lapse after 2 minutes)\n`,
    );

    process.stdout.write(`${importCost()}\n`);

    process.stdout.write('peers (handshakes per CPU-second of the acceptor; ratio = peer / rasgate):\n');
    const gss = gssNtlmssp(dir);
    if (typeof gss === 'string') process.stdout.write(`  gss-ntlmssp acceptor: ${gss}\n`);
    else process.stdout.write(`  ${'gss-ntlmssp acceptor (C, python3-gssapi)'.padEnd(40)} ${Math.round(gss.perSecond).toLocaleString('en-US').padStart(10)} /s   ${(gss.perSecond / hs).toFixed(2)}x rasgate\n`);
    process.stdout.write(`  pyspnego acceptor: ${pyspnego()}\n`);
    process.stdout.write(`  Samba ntlm_auth ntlm-server-1: see the domain bench (it needs winbind)\n`);
    await authority.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
