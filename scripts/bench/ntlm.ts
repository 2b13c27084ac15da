/**
 * NTLM acceptor benchmark (issue 2 section 6). Three figures, each as ops/s and as a ratio to
 * the crypto floor:
 *
 *  floor      two HMAC-MD5 and one constant-time compare per op: the least any NTLMv2 check costs
 *             (K = HMAC(NT, USER+DOMAIN), NTProofStr = HMAC(K, SC+blob), compare).
 *  bare       verifyNtlmV2() on one pre-built response (that plus the SessionBaseKey HMAC).
 *  handshake  full three-leg handshakes through acceptSecurityContext with a LocalAuthority
 *             (smbpasswd file in a temp dir) and the ntlmAccept machine, MIC + KEY_EXCH on.
 *  steps      the same two server steps (src/ntlm/accept.ts) called directly, without the
 *             machine and the SSPI facade: shows what the per-context actor costs.
 *  machine    the ntlmAccept machine alone, its synchronous actions raising constant results:
 *             createActor + start, NEGOTIATE, AUTHENTICATE, stop per context (XState's own cost
 *             per handshake; no NTLM work at all). steps + machine is about what handshakes cost.
 *
 * What is timed in `handshake`: per batch of B contexts, (1) B first legs
 * (acceptSecurityContext(null, NEGOTIATE): actor start, NEGOTIATE decode, random challenge,
 * CHALLENGE build) and (2) B last legs (AUTHENTICATE decode, policy checks, AV-pair check,
 * authority lookup + NTLMv2 verify, key exchange, MIC, outcome) each followed by
 * deleteSecurityContext. Not timed: the client's work between the legs (one client context per
 * handshake builds its NTLMv2 AUTHENTICATE against that context's random CHALLENGE: challenges
 * are single-use, so the client tokens cannot be built before the server has issued them).
 * The NEGOTIATE token is pre-built once. Logging goes to a silent logger. A minor GC runs
 * (untimed) after the client's work so that its garbage is not collected on the server's clock.
 * All rates are per CPU-second of this process (process.cpuUsage), i.e. what one core does.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHmac, timingSafeEqual, randomBytes } from 'node:crypto';
import v8 from 'node:v8';
import vm from 'node:vm';
import { LocalAuthority } from '../../src/authority/local/index.js';
import { formatLine } from '../../src/authority/local/smbpasswd.js';
import { createActor, raise } from 'xstate';
import { ntlmAcceptMachine, type IssuedChallenge } from '../../machines/ntlmAccept.js';
import { acquireCredentialsHandle, acceptSecurityContext, deleteSecurityContext } from '../../src/ntlm/server.js';
import { createClientContext } from '../../src/ntlm/client.js';
import { ntowfv1, ntowfv2 } from '../../src/ntlm/crypto.js';
import { computeNtlmV2Response, verifyNtlmV2 } from '../../src/ntlm/ntlmv2.js';
import { ASC_REQ_CONNECTION, SECURITY_NATIVE_DREP, SEC_E_OK, SEC_I_CONTINUE_NEEDED } from '../../src/ntlm/constants.js';
import { buildChallenge, issueChallenge, verifyAuthenticate } from '../../src/ntlm/accept.js';
import { resolvePolicy } from '../../src/ntlm/policy.js';
import { nullLogger } from '../../src/logging.js';
import type { CredentialState } from '../../src/ntlm/context.js';

export const name = 'ntlm';

const USER = 'bench';
const DOMAIN = 'RASGATE';
const PASSWORD = 'bench-password-1';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as (options?: { type: 'major' | 'minor' }) => void;

function gcNow(): void {
  gc();
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

/**
 * CPU time of this process (user + system, microseconds). Rates are ops per CPU-second: on a
 * machine shared with other work, wall time would count the time we were not running at all.
 */
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
  process.stdout.write(`${label.padEnd(34)} ${Math.round(opsPerSec).toLocaleString('en-US').padStart(10)} ops/s   ${ratio.toFixed(2)}x floor cost${note ? `   ${note}` : ''}\n`);
}

/** One real CHALLENGE (for the machine-alone figure's constant ISSUED event). */
function issued0(state: CredentialState, negotiate: Buffer): IssuedChallenge {
  return buildChallenge(state, negotiate);
}

export async function run(): Promise<void> {
  const ntHash = ntowfv1(PASSWORD);
  const serverChallenge = randomBytes(8);
  const responseKey = ntowfv2(ntHash, USER, DOMAIN);
  const pre = computeNtlmV2Response({ responseKeyNT: responseKey, serverChallenge, clientChallenge: randomBytes(8), timestamp: 0n, targetInfo: [] });
  const userDomain = Buffer.from(USER.toUpperCase() + DOMAIN, 'utf16le');
  const blobInput = Buffer.concat([serverChallenge, pre.blob]);

  // (a) the floor
  const floor = rate(() => {
    const k = createHmac('md5', ntHash).update(userDomain).digest();
    const proof = createHmac('md5', k).update(blobInput).digest();
    if (!timingSafeEqual(proof, pre.ntProofStr)) throw new Error('floor mismatch');
  });
  line('crypto floor (2 HMAC-MD5 + compare)', floor, floor);

  // (b) bare verification
  const bare = rate(() => {
    const r = verifyNtlmV2({ ntHash, user: USER, domain: DOMAIN, serverChallenge, ntResponse: pre.ntResponse });
    if (!r.ok) throw new Error('bare verify failed');
  });
  line('bare verifyNtlmV2', bare, floor, bare * 2 >= floor ? '(target <= 2x: met)' : '(target <= 2x: NOT met)');

  // (c) full handshakes through acceptSecurityContext + LocalAuthority + machine
  const dir = mkdtempSync(join(tmpdir(), 'rasgate-bench-'));
  try {
    const file = join(dir, 'smbpasswd');
    writeFileSync(file, formatLine({ name: USER, uid: 1000, ntHash, hasLmHash: false, flags: new Set(['U']), lastChange: 0 }) + '\n', { mode: 0o600 });
    const authority = new LocalAuthority({ file, domain: DOMAIN });
    const credential = acquireCredentialsHandle({ authority, netbiosComputerName: 'BENCH', dnsComputerName: 'bench.example.test' });
    const negotiate = createClientContext({ user: USER, domain: DOMAIN, ntHash }).negotiate();
    const B = 256;

    const handshakes = async (count: number): Promise<number> => {
      let timed = 0;
      for (let done = 0; done < count; done += B) {
        const t0 = cpuMicros();
        const firsts = [];
        for (let i = 0; i < B; i++) firsts.push(await acceptSecurityContext(credential, null, negotiate, ASC_REQ_CONNECTION, SECURITY_NATIVE_DREP));
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
    };
    await handshakes(4 * B); // warm-up
    gcNow();
    const before = process.memoryUsage();
    const count = 40 * B;
    const hs = await handshakes(count);
    const after = process.memoryUsage();
    line('handshakes via acceptSecurityContext', hs, floor, hs >= 20000 ? '(target >= 20,000/s: met)' : '(target >= 20,000/s: NOT met)');

    // The same server work without the machine (no actor, no facade): the machine's share.
    const state: CredentialState = { authority, policy: resolvePolicy(), logger: nullLogger(), names: { netbiosComputer: 'BENCH', netbiosDomain: DOMAIN, dnsComputer: 'bench.example.test', dnsDomain: 'example.test' }, clock: undefined, allowNtlmV1: false, liveChallenges: new Set() };
    const params = { contextReq: ASC_REQ_CONNECTION };
    const signal = new AbortController().signal;
    const direct = async (total: number): Promise<number> => {
      let timed = 0;
      for (let done = 0; done < total; done += B) {
        const t0 = cpuMicros();
        const issued: IssuedChallenge[] = [];
        for (let i = 0; i < B; i++) issued.push(await issueChallenge(state, negotiate, params, signal));
        timed += cpuMicros() - t0;
        const auths = issued.map((it) => {
          const client = createClientContext({ user: USER, domain: DOMAIN, ntHash });
          client.negotiate();
          return client.authenticate(it.challengeToken).token;
        });
        gc({ type: 'minor' });
        const t1 = cpuMicros();
        for (let i = 0; i < B; i++) {
          const r = await verifyAuthenticate(state, auths[i]!, issued[i]!, params, signal);
          if (r.status !== SEC_E_OK) throw new Error(`direct: ${r.reason}`);
        }
        timed += cpuMicros() - t1;
      }
      return total / (timed / 1e6);
    };
    await direct(4 * B);
    const steps = await direct(count);
    line('same steps without the machine', steps, floor, `(machine + facade: ${((1e6 / hs - 1e6 / steps)).toFixed(0)} us of ${(1e6 / hs).toFixed(0)} us per handshake)`);

    // The machine alone: what XState costs per handshake with the legs' work reduced to constants.
    const issuedConst = issued0(state, negotiate);
    const outcomeConst = { status: SEC_E_OK, reason: 'ok', session: { user: USER, domain: DOMAIN, workstation: 'WS', flags: 0 } };
    const bare = ntlmAcceptMachine.provide({
      actions: { prepareChallenge: raise({ type: 'ISSUED', issued: issuedConst }), checkNow: raise({ type: 'VERDICT', outcome: outcomeConst }) },
    });
    const unref = { setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms).unref(), clearTimeout: (id: unknown) => clearTimeout(id as NodeJS.Timeout) };
    const input = { challengeLifetimeMs: state.policy.challengeLifetimeMs, authorityTimeoutMs: state.policy.authorityTimeoutMs };
    const machineOnly = (total: number): number => {
      const start = cpuMicros();
      for (let done = 0; done < total; done += B) {
        const actors = [];
        for (let i = 0; i < B; i++) {
          const actor = createActor(bare, { input, clock: unref });
          actor.start();
          actor.send({ type: 'NEGOTIATE', token: negotiate, params });
          actors.push(actor);
        }
        for (const actor of actors) {
          actor.send({ type: 'AUTHENTICATE', token: negotiate, params });
          if (actor.getSnapshot().value !== 'established') throw new Error('machine-only: not established');
          actor.stop();
        }
      }
      return total / ((cpuMicros() - start) / 1e6);
    };
    machineOnly(4 * B);
    const machine = machineOnly(count);
    line('the machine alone (constant legs)', machine, floor, `(${(1e6 / machine).toFixed(0)} us per handshake)`);

    // Memory: contexts parked after the first leg (waiting for AUTHENTICATE).
    gcNow();
    const base = process.memoryUsage().heapUsed;
    const parked = [];
    for (let i = 0; i < 5000; i++) parked.push((await acceptSecurityContext(credential, null, negotiate, ASC_REQ_CONNECTION, SECURITY_NATIVE_DREP)).context);
    gcNow();
    const perContext = (process.memoryUsage().heapUsed - base) / parked.length;
    for (const c of parked) deleteSecurityContext(c);
    process.stdout.write(
      `memory: rss ${mib(after.rss)} (was ${mib(before.rss)} before ${count} handshakes), heap used ${mib(after.heapUsed)}; ` +
        `a context waiting for AUTHENTICATE holds ~${(perContext / 1024).toFixed(1)} KiB of heap\n`,
    );
    process.stdout.write(`timed (CPU time of this process): first + last legs and deleteSecurityContext, batches of ${B}; the client's AUTHENTICATE building is not timed\n`);
    await authority.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
