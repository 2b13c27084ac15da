/**
 * ntlm-accept: acceptSecurityContext over a LocalAuthority (a temp smbpasswd file) with
 * mutated AUTHENTICATE and NEGOTIATE tokens built from real handshakes.
 *
 * Each case runs a live handshake: leg 1 with our client's NEGOTIATE (or, now and then, the
 * mutated input as the NEGOTIATE), then our client's valid AUTHENTICATE T for the CHALLENGE.
 * The input is a mutation of the reference AUTHENTICATE R (the same client against a CHALLENGE
 * with a fixed ServerChallenge) or of a recorded peer token; where the input still carries R's
 * challenge-dependent bytes (NTProofStr, MIC, EncryptedRandomSessionKey) at R's positions, T's
 * are put there, so a mutation keeps the real proof while it changes what is around it.
 *
 * Invariants: never throws; only known SEC_* statuses and never SEC_E_INTERNAL_ERROR; SEC_E_OK
 * only for a token byte-identical to T after our own NEGOTIATE (the MIC covers every byte of
 * the three messages: without the password there is no way in); T itself is accepted; a
 * finished context takes no more tokens; every context deletes once, and its timers go with it.
 */
import { makeLocalAuthority, type LocalAuthorityFixture } from '../../interop/local-authority-fixture.js';
import {
  acceptSecurityContext,
  acquireCredentialsHandle,
  deleteSecurityContext,
  freeCredentialsHandle,
  ASC_REQ_CONFIDENTIALITY,
  ASC_REQ_CONNECTION,
  ASC_REQ_INTEGRITY,
  SECURITY_NATIVE_DREP,
  SEC_E_BAD_BINDINGS,
  SEC_E_CONTEXT_EXPIRED,
  SEC_E_INVALID_HANDLE,
  SEC_E_INVALID_TOKEN,
  SEC_E_LOGON_DENIED,
  SEC_E_NO_AUTHENTICATING_AUTHORITY,
  SEC_E_OK,
  SEC_E_UNSUPPORTED_FUNCTION,
  SEC_I_CONTINUE_NEEDED,
  statusName,
  type CredentialHandle,
  type SecurityContext,
} from '../../../src/ntlm/index.js';
import { createClientContext } from '../../../src/ntlm/client.js';
import { decodeAuthenticate } from '../../../src/ntlm/messages.js';
import { Layout } from '../../../src/ntlm/constants.js';
import { dateToFiletime } from '../../../src/ntlm/avpairs.js';
import { invariant, tally, type FuzzTarget, type Rand } from '../engine.js';
import { NTLM_MUTATION, randomNtlmToken } from './ntlm-decode.js';

const USER = 'alice';
const PASSWORD = 'Fuzz-pw-2026';
const DOMAIN = 'RASGATE';
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);

const KNOWN = new Set([SEC_E_OK, SEC_I_CONTINUE_NEEDED, SEC_E_INVALID_TOKEN, SEC_E_LOGON_DENIED, SEC_E_NO_AUTHENTICATING_AUTHORITY, SEC_E_BAD_BINDINGS, SEC_E_CONTEXT_EXPIRED, SEC_E_INVALID_HANDLE, SEC_E_UNSUPPORTED_FUNCTION]);

/** Our client with every random part fixed: the same bytes for the same CHALLENGE. */
function client() {
  return createClientContext({
    user: USER,
    domain: DOMAIN,
    password: PASSWORD,
    workstation: 'FUZZ-WS',
    clientChallenge: Buffer.from('c1c2c3c4c5c6c7c8', 'hex'),
    exportedSessionKey: Buffer.alloc(16, 0x5a),
    timestamp: dateToFiletime(new Date(NOW)),
  });
}

interface State {
  fixture: LocalAuthorityFixture;
  clock: CountedClock;
  /** Default policy, and requireMic: true. */
  credentials: CredentialHandle[];
  negotiate: Buffer;
  /** The reference AUTHENTICATE and its challenge-dependent ranges. */
  reference: Buffer;
  secretRanges: Array<[number, number]>;
}

/** A clock that counts its pending timers (the ntlmAccept machine's challenge and authority timeouts). */
class CountedClock {
  private readonly timers = new Map<number, () => void>();
  private nextId = 1;
  constructor(private readonly at: number) {}
  setTimeout(fn: () => void): number {
    const id = this.nextId++;
    this.timers.set(id, fn);
    return id;
  }
  clearTimeout(id: unknown): void {
    this.timers.delete(id as number);
  }
  now(): number {
    return this.at;
  }
  get pending(): number {
    return this.timers.size;
  }
}

let state: State | undefined;

function known(status: number, what: string): void {
  invariant(KNOWN.has(status), `${what} returned ${statusName(status)}`);
}

/** The input with T's challenge-dependent bytes wherever it still holds R's at R's positions. */
function transplant(input: Buffer, s: State, live: Buffer): Buffer {
  if (live.length !== s.reference.length) return input;
  const out = Buffer.from(input);
  for (const [from, to] of s.secretRanges) {
    if (out.length >= to && out.subarray(from, to).equals(s.reference.subarray(from, to))) live.copy(out, from, from, to);
  }
  return out;
}

async function finish(context: SecurityContext | null, s: State): Promise<void> {
  invariant(context !== null, 'a failed first leg gave no context to delete');
  invariant(deleteSecurityContext(context) === SEC_E_OK, 'deleteSecurityContext refused a live context');
  invariant(deleteSecurityContext(context) === SEC_E_INVALID_HANDLE, 'a context deleted twice');
  const after = await acceptSecurityContext(s.credentials[0]!, context, s.negotiate, ASC_REQ_CONNECTION, SECURITY_NATIVE_DREP);
  invariant(after.status === SEC_E_INVALID_HANDLE, `a deleted context answered ${statusName(after.status)}`);
  invariant(s.clock.pending === 0, `${s.clock.pending} timers left after the context was deleted`);
}

const stats = new Map<string, number>();

export const ntlmAccept: FuzzTarget = {
  name: 'ntlm-accept',
  stats,
  invariant: 'never throws; known SEC_* only; SEC_E_OK only for the byte-identical valid AUTHENTICATE; contexts delete once and leave no timers',
  ...NTLM_MUTATION,
  minimizeBudget: 800,
  generate: randomNtlmToken,

  async setup() {
    const fixture = makeLocalAuthority([{ name: USER, password: PASSWORD }, { name: 'bob', password: 'other' }], DOMAIN);
    const clock = new CountedClock(NOW);
    const names = { netbiosComputerName: 'RASGATE', dnsComputerName: 'rasgate.example.test', clock };
    const credentials = [
      acquireCredentialsHandle({ authority: fixture.authority, ...names }),
      acquireCredentialsHandle({ authority: fixture.authority, ...names, policy: { requireMic: true } }),
    ];
    const c = client();
    const negotiate = c.negotiate();
    const r1 = await acceptSecurityContext(credentials[0]!, null, negotiate, ASC_REQ_CONNECTION, SECURITY_NATIVE_DREP);
    if (r1.status !== SEC_I_CONTINUE_NEEDED || !r1.outputToken) throw new Error(`reference handshake: ${statusName(r1.status)}`);
    const challenge = Buffer.from(r1.outputToken);
    challenge.fill(0x11, 24, 32); // a fixed ServerChallenge
    deleteSecurityContext(r1.context);
    const reference = c.authenticate(challenge).token;
    const auth = decodeAuthenticate(reference);
    const ntOffset = reference.readUInt32LE(24);
    const keyOffset = reference.readUInt32LE(56);
    const secretRanges: Array<[number, number]> = [[ntOffset, ntOffset + Layout.NTPROOFSTR_LENGTH], [keyOffset, keyOffset + auth.encryptedRandomSessionKey.length]];
    if (auth.mic) secretRanges.push([Layout.MIC_OFFSET, Layout.MIC_OFFSET + Layout.MIC_LENGTH]);
    state = { fixture, clock, credentials, negotiate, reference, secretRanges };
  },

  extraCorpus() {
    return state ? [state.reference, state.negotiate] : [];
  },

  async teardown() {
    if (!state) return;
    for (const c of state.credentials) freeCredentialsHandle(c);
    await state.fixture.cleanup();
    state = undefined;
  },

  async run(input: Buffer, plan: Rand) {
    const s = state!;
    const asNegotiate = plan.chance(0.15);
    const cred = plan.pick(s.credentials);
    const leg1 = asNegotiate ? input : s.negotiate;
    const r1 = await acceptSecurityContext(cred, null, leg1, ASC_REQ_CONNECTION, SECURITY_NATIVE_DREP);
    known(r1.status, 'leg 1');
    if (r1.status !== SEC_I_CONTINUE_NEEDED) tally(stats, `leg 1 ${r1.reason}`);
    if (!asNegotiate) invariant(r1.status === SEC_I_CONTINUE_NEEDED, `our own NEGOTIATE got ${statusName(r1.status)}`);
    if (r1.status !== SEC_I_CONTINUE_NEEDED) return finish(r1.context, s);
    invariant(r1.outputToken && r1.context, 'SEC_I_CONTINUE_NEEDED without a CHALLENGE or a context');

    let live: Buffer | undefined;
    try {
      const c = client();
      c.negotiate();
      live = c.authenticate(r1.outputToken).token;
    } catch {
      live = undefined; // our client refuses this CHALLENGE (possible for a mutated NEGOTIATE)
    }
    const token = asNegotiate ? live ?? randomNtlmToken(plan) : live ? transplant(input, s, live) : input;
    const plain = plan.chance(0.8);
    const contextReq = plain ? ASC_REQ_CONNECTION : plan.pick([ASC_REQ_INTEGRITY, ASC_REQ_CONFIDENTIALITY, ASC_REQ_CONNECTION | ASC_REQ_INTEGRITY | ASC_REQ_CONFIDENTIALITY]);
    const bindings = !plain && plan.chance(0.3) ? { channelBindings: plan.bytes(16) } : {};
    const r2 = await acceptSecurityContext(cred, r1.context, token, contextReq, SECURITY_NATIVE_DREP, bindings);
    known(r2.status, 'leg 3');
    tally(stats, r2.reason);
    const genuine = live !== undefined && token.equals(live) && leg1.equals(s.negotiate);
    if (r2.status === SEC_E_OK) invariant(genuine, `SEC_E_OK (${r2.reason}) for a token that is not the client's own: ${token.length} bytes, leg 1 ${leg1.equals(s.negotiate) ? 'ours' : 'mutated'}`);
    if (genuine && plain && !bindings.channelBindings) invariant(r2.status === SEC_E_OK, `the valid AUTHENTICATE was refused: ${statusName(r2.status)} ${r2.reason}`);
    const replayed = await acceptSecurityContext(cred, r1.context, token, contextReq, SECURITY_NATIVE_DREP);
    invariant(replayed.status === SEC_E_INVALID_TOKEN || replayed.status === SEC_E_CONTEXT_EXPIRED, `a finished context took another token: ${statusName(replayed.status)}`);
    return finish(r1.context, s);
  },
};
