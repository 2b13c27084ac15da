/**
 * Real NTLM peers as token pumps: each client gives NEGOTIATE, then AUTHENTICATE for a
 * CHALLENGE; the gss-ntlmssp acceptor gives CHALLENGE for a NEGOTIATE, then a verdict.
 * Everything spawned goes through a PeerSet so a test's after() can kill it all.
 */
import { fileURLToPath } from 'node:url';
import { PYTHON, toolPath } from '../../test/helpers/tools.js';
import { LinePeer, type LinePeerOptions } from './line-peer.js';

const PEERS_DIR = fileURLToPath(new URL('./peers/', import.meta.url));

export interface Credentials {
  user: string;
  password: string;
  domain: string;
}

export interface NtlmClientPeer {
  readonly name: string;
  negotiate(): Promise<Buffer>;
  authenticate(challenge: Buffer): Promise<Buffer>;
}

/** Tracks spawned peers; `killAll()` in after(). */
export class PeerSet {
  private readonly peers = new Set<LinePeer>();

  spawn(command: string, args: readonly string[], options?: LinePeerOptions): LinePeer {
    const peer = new LinePeer(command, args, options);
    this.peers.add(peer);
    return peer;
  }

  killAll(): void {
    for (const p of this.peers) p.kill();
    this.peers.clear();
  }
}

function b64(line: string, who: string): Buffer {
  const text = line.trim();
  if (!/^[A-Za-z0-9+/]+=*$/.test(text)) throw new Error(`${who}: expected a base64 token, got ${JSON.stringify(line.slice(0, 200))}`);
  return Buffer.from(text, 'base64');
}

/** A python driver from ./peers speaking "token per line". */
function pythonClient(set: PeerSet, script: string, args: string[], env?: NodeJS.ProcessEnv): NtlmClientPeer {
  const peer = set.spawn(PYTHON, [PEERS_DIR + script, ...args], { env: env ?? process.env });
  return {
    name: script,
    async negotiate() {
      return b64(await peer.readLine(), script);
    },
    async authenticate(challenge) {
      peer.writeLine(challenge.toString('base64'));
      return b64(await peer.readLine(), script);
    },
  };
}

function credArgs(c: Credentials): string[] {
  return ['--user', c.user, '--password', c.password, '--domain', c.domain];
}

/** python3-impacket getNTLMSSPType1/3. `ntlmv1` gives a 24-byte NTLMv1 (ESS) response. */
export function impacketClient(set: PeerSet, c: Credentials, opts: { ntlmv1?: boolean; sign?: boolean } = {}): NtlmClientPeer {
  return pythonClient(set, 'impacket_client.py', [...credArgs(c), ...(opts.ntlmv1 ? ['--ntlmv1'] : []), ...(opts.sign ? ['--sign'] : [])]);
}

/** Channel bindings for a peer: the gss_channel_bindings_struct's application data. */
export interface BindingOptions {
  cbtAppData?: Buffer;
}

function cbtArgs(o: BindingOptions): string[] {
  return o.cbtAppData ? ['--cbt-app-data', o.cbtAppData.toString('hex')] : [];
}

/** impacket with its exported session key (hex line after the AUTHENTICATE), for key-bound checks. */
export function impacketKeyedClient(
  set: PeerSet,
  c: Credentials,
  opts: { sign?: boolean } = {},
): { negotiate(): Promise<Buffer>; authenticate(challenge: Buffer): Promise<{ token: Buffer; exportedSessionKey: Buffer; flags: number }> } {
  const who = 'impacket_client.py --print-key';
  const peer = set.spawn(PYTHON, [PEERS_DIR + 'impacket_client.py', ...credArgs(c), '--print-key', ...(opts.sign ? ['--sign'] : [])]);
  return {
    async negotiate() {
      return b64(await peer.readLine(), who);
    },
    async authenticate(challenge) {
      peer.writeLine(challenge.toString('base64'));
      const token = b64(await peer.readLine(), who);
      const exportedSessionKey = Buffer.from(await peer.readLine(), 'hex');
      // NegotiateFlags of the AUTHENTICATE [MS-NLMP 2.2.1.3].
      return { token, exportedSessionKey, flags: token.readUInt32LE(60) };
    },
  };
}

/** python3-ntlm-auth NtlmContext (NTLMv2, MIC, KEY_EXCH, 55-byte NEGOTIATE with domain). */
export function ntlmAuthPyClient(set: PeerSet, c: Credentials, o: BindingOptions = {}): NtlmClientPeer {
  return pythonClient(set, 'ntlm_auth_client.py', [...credArgs(c), ...cbtArgs(o)]);
}

/** python3-ntlm-auth, then its session security (GSS_WrapEx/UnwrapEx) on the context. */
export interface NtlmSessionPeer extends NtlmClientPeer {
  /** signature(16) + sealed, as ntlm-auth's NtlmContext.wrap gives them. */
  wrap(plaintext: Buffer): Promise<Buffer>;
  /** The plaintext, or an Error carrying ntlm-auth's refusal. */
  unwrap(wrapped: Buffer): Promise<Buffer | Error>;
}

export function ntlmAuthPySession(set: PeerSet, c: Credentials): NtlmSessionPeer {
  const peer = set.spawn(PYTHON, [PEERS_DIR + 'ntlm_auth_client.py', ...credArgs(c), '--session']);
  const who = 'ntlm_auth_client.py --session';
  return {
    name: who,
    async negotiate() {
      return b64(await peer.readLine(), who);
    },
    async authenticate(challenge) {
      peer.writeLine(challenge.toString('base64'));
      return b64(await peer.readLine(), who);
    },
    async wrap(plaintext) {
      peer.writeLine(`WRAP ${plaintext.toString('base64')}`);
      return b64(await peer.readLine(), who);
    },
    async unwrap(wrapped) {
      peer.writeLine(`UNWRAP ${wrapped.toString('base64')}`);
      const line = await peer.readLine();
      return line.startsWith('ERR ') ? new Error(line.slice(4)) : b64(line, who);
    },
  };
}

/** gss-ntlmssp through python3-gssapi, password credentials (acquire_cred_with_password). */
export function gssClient(set: PeerSet, c: Credentials, o: BindingOptions = {}): NtlmClientPeer {
  return pythonClient(set, 'gss_client.py', [...credArgs(c), ...cbtArgs(o)]);
}

/**
 * Samba's `ntlm_auth --helper-protocol=ntlmssp-client-1` (standalone, no winbind):
 * "YR" -> "YR <negotiate>"; "TT <challenge>" -> "AF <authenticate>" (or "KK" when more legs
 * follow); failures are "NA <status>" / "BH <reason>" (utils/ntlm_auth.c).
 */
export function sambaClient(set: PeerSet, c: Credentials): NtlmClientPeer {
  const peer = set.spawn(toolPath('ntlm_auth'), ['--helper-protocol=ntlmssp-client-1', `--username=${c.user}`, `--password=${c.password}`, `--domain=${c.domain}`]);
  const reply = async (expect: string[]): Promise<Buffer> => {
    const line = await peer.readLine();
    const [code, token] = [line.slice(0, 2), line.slice(3)];
    if (!expect.includes(code)) throw new Error(`ntlm_auth client: expected ${expect.join('/')}, got ${JSON.stringify(line)}; stderr: ${peer.stderr.trim()}`);
    return b64(token, 'ntlm_auth client');
  };
  return {
    name: 'samba ntlm_auth ntlmssp-client-1',
    async negotiate() {
      peer.writeLine('YR');
      return reply(['YR']);
    },
    async authenticate(challenge) {
      peer.writeLine(`TT ${challenge.toString('base64')}`);
      return reply(['AF', 'KK']);
    },
  };
}

/** gss-ntlmssp acceptor that keeps the context for gss_wrap/gss_unwrap (sealed) afterwards. */
export interface NtlmAcceptorSessionPeer extends NtlmAcceptorPeer {
  /** signature(16) + sealed, from gss_wrap(conf_req=true). */
  wrap(plaintext: Buffer): Promise<Buffer>;
  /** The plaintext, or an Error carrying gss_unwrap's refusal. */
  unwrap(token: Buffer): Promise<Buffer | Error>;
}

export type AcceptorVerdict = { ok: true; name: string; sessionKey?: Buffer } | { ok: false; detail: string };

export interface NtlmAcceptorPeer {
  readonly name: string;
  /** NEGOTIATE in, CHALLENGE out; a refusal of the NEGOTIATE itself rejects. */
  challenge(negotiate: Buffer): Promise<Buffer>;
  authenticate(authenticate: Buffer): Promise<AcceptorVerdict>;
}

/** gss-ntlmssp accept_sec_context; users come from NTLM_USER_FILE ("DOMAIN:user:password"). */
export function gssAcceptor(set: PeerSet, userFile: string, o: BindingOptions & { session?: boolean } = {}): NtlmAcceptorSessionPeer {
  const args = [PEERS_DIR + 'gss_acceptor.py', ...cbtArgs(o), ...(o.session ? ['--session'] : [])];
  const peer = set.spawn(PYTHON, args, { env: { ...process.env, NTLM_USER_FILE: userFile } });
  return {
    async wrap(plaintext) {
      peer.writeLine(`WRAP ${plaintext.toString('base64')}`);
      return b64(await peer.readLine(), 'gss acceptor');
    },
    async unwrap(token) {
      peer.writeLine(`UNWRAP ${token.toString('base64')}`);
      const line = await peer.readLine();
      return line.startsWith('ERR ') ? new Error(line.slice(4)) : b64(line, 'gss acceptor');
    },
    name: 'gss-ntlmssp acceptor',
    async challenge(negotiate) {
      peer.writeLine(negotiate.toString('base64'));
      const line = await peer.readLine();
      if (line.startsWith('FAIL')) throw new Error(`gss-ntlmssp refused NEGOTIATE: ${line}`);
      return b64(line, 'gss acceptor');
    },
    async authenticate(authenticate) {
      peer.writeLine(authenticate.toString('base64'));
      const line = await peer.readLine();
      const m = /^OK (\S+)(?: ([0-9a-f]{32}))?$/.exec(line);
      if (m) return { ok: true, name: m[1]!, ...(m[2] ? { sessionKey: Buffer.from(m[2], 'hex') } : {}) };
      return { ok: false, detail: line };
    },
  };
}
