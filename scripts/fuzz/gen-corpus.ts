/**
 * Writes the fuzz corpus (scripts/fuzz/corpus/NAME/) from real sources:
 *   ntlm-*    handshakes of our client, python3-impacket, python3-ntlm-auth and Samba's ntlm_auth
 *             client against our acceptor (NEGOTIATE, CHALLENGE, AUTHENTICATE, AV pairs, blobs)
 *   terminal  what callers type (names, UTF-8 and Latin-1 passwords, editing, xterm keys, PPP)
 *   telnet    a real telnet client's negotiation (/usr/bin/telnet in a pty) and our own
 *   hayes     the simulated modem's output for real command sessions, and the V.250 transcripts
 *   ldap      replies built with the codec's encoder (bind, search, StartTLS, AD refusals)
 *   winbind   Samba ntlm_auth ntlm-server-1 answers (real helper output and the documented forms)
 *   config    the YAML examples in docs/ and the configurations the tests use
 *   tcp-line  whole caller sessions: negotiation, login, editing, floods
 * Run: `node --import tsx scripts/fuzz/gen-corpus.ts` (peers that are missing are skipped, named).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { SimulatedClock } from 'xstate';
import { CORPUS_ROOT } from './engine.js';
import { needs } from '../../test/helpers/tools.js';
import { impacketClient, ntlmAuthPyClient, PeerSet, sambaClient, type NtlmClientPeer } from '../interop/ntlm-peers.js';
import { makeLocalAuthority } from '../interop/local-authority-fixture.js';
import { acceptSecurityContext, acquireCredentialsHandle, deleteSecurityContext, ASC_REQ_CONNECTION, SECURITY_NATIVE_DREP } from '../../src/ntlm/index.js';
import { createClientContext, channelBindingsStruct } from '../../src/ntlm/client.js';
import { decodeAuthenticate, decodeChallenge, encodeAuthenticate, encodeNegotiate } from '../../src/ntlm/messages.js';
import { SimModem } from '../../src/serial/sim-modem.js';
import { TelnetSession } from '../../src/serial/telnet.js';
import { Ber, constructed, element, integer, octets } from '../../src/authority/ldap/ber.js';
import { Ctx, Op } from '../../src/authority/ldap/constants.js';
import { EMBEDDED_DEFAULT } from '../../src/gateway/config.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const written = new Map<string, number>();

function put(target: string, name: string, bytes: Buffer | string): void {
  const dir = join(CORPUS_ROOT, target);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), bytes);
  written.set(target, (written.get(target) ?? 0) + 1);
}

function skip(what: string, why: string): void {
  console.warn(`skipped ${what}: ${why}`);
}

// ---- NTLM ----------------------------------------------------------------------------------

const USER = 'alice';
const PASSWORD = 'Corpus-pw-1';
const DOMAIN = 'RASGATE';

async function ntlm(): Promise<void> {
  const fixture = makeLocalAuthority([{ name: USER, password: PASSWORD }], DOMAIN);
  const cred = acquireCredentialsHandle({ authority: fixture.authority, netbiosComputerName: 'RASGATE', dnsComputerName: 'rasgate.example.test' });
  const peers = new PeerSet();
  const handshake = async (name: string, client: NtlmClientPeer | { negotiate(): Buffer | Promise<Buffer>; authenticate(c: Buffer): Buffer | Promise<Buffer> }) => {
    const negotiate = await client.negotiate();
    const r1 = await acceptSecurityContext(cred, null, negotiate, ASC_REQ_CONNECTION, SECURITY_NATIVE_DREP);
    const challenge = r1.outputToken!;
    const authenticate = await client.authenticate(challenge);
    const r2 = await acceptSecurityContext(cred, r1.context, authenticate, ASC_REQ_CONNECTION, SECURITY_NATIVE_DREP);
    deleteSecurityContext(r1.context);
    for (const t of ['ntlm-decode', 'ntlm-accept']) {
      put(t, `${name}-negotiate.bin`, negotiate);
      put(t, `${name}-authenticate.bin`, authenticate);
    }
    put('ntlm-decode', `${name}-challenge.bin`, challenge);
    const auth = decodeAuthenticate(authenticate);
    if (auth.ntResponse.length > 24) {
      put('ntlm-decode', `${name}-ntlmv2-response.bin`, auth.ntResponse);
      put('ntlm-decode', `${name}-blob-avpairs.bin`, auth.ntResponse.subarray(16 + 28));
    }
    console.log(`${name}: ${r2.reason}`);
  };
  const ours = (name: string, extra: Parameters<typeof createClientContext>[0]) => {
    const c = createClientContext(extra);
    return handshake(name, { negotiate: () => c.negotiate(), authenticate: (ch) => c.authenticate(ch).token });
  };
  await ours('rasgate', { user: USER, domain: DOMAIN, password: PASSWORD, workstation: 'WS1' });
  await ours('rasgate-seal-spn-cbt', { user: USER, domain: DOMAIN, password: PASSWORD, workstation: 'WS1', seal: true, targetName: 'HOST/rasgate', channelBindings: channelBindingsStruct(Buffer.from('tls-server-end-point:0123')) });
  await ours('rasgate-unicode-name', { user: 'Jürgen', domain: '', password: PASSWORD });
  const creds = { user: USER, password: PASSWORD, domain: DOMAIN };
  if (needs('py:impacket') === false) {
    await handshake('impacket', impacketClient(peers, creds));
    await handshake('impacket-ntlmv1', impacketClient(peers, creds, { ntlmv1: true }));
    await handshake('impacket-anonymous', impacketClient(peers, { user: '', password: '', domain: '' }));
  } else skip('impacket tokens', 'python3-impacket missing');
  if (needs('py:ntlm_auth') === false) await handshake('python-ntlm-auth', ntlmAuthPyClient(peers, creds));
  else skip('python3-ntlm-auth tokens', 'python3-ntlm-auth missing');
  if (needs('ntlm_auth') === false) await handshake('samba-ntlm-auth', sambaClient(peers, creds));
  else skip('Samba ntlm_auth client tokens', 'ntlm_auth missing');
  peers.killAll();
  // Hand-built layouts real clients also send: 16-byte NEGOTIATE, OEM strings, no MIC / Version.
  put('ntlm-decode', 'negotiate-16-byte.bin', encodeNegotiate({ flags: 0x00000207 }).subarray(0, 16));
  put('ntlm-decode', 'negotiate-oem-names.bin', encodeNegotiate({ flags: 0xa208b207, domain: 'CORP', workstation: 'PC01' }));
  put('ntlm-decode', 'authenticate-oem-v1.bin', encodeAuthenticate({ flags: 0x00008201, user: 'BOB', domain: 'CORP', workstation: 'PC01', lmResponse: Buffer.alloc(24, 1), ntResponse: Buffer.alloc(24, 2) }));
  put('ntlm-decode', 'challenge-targetinfo.bin', decodeChallenge(readFileSync(join(CORPUS_ROOT, 'ntlm-decode', 'rasgate-challenge.bin'))).targetInfo.raw);
  await fixture.cleanup();
}

// ---- terminal ------------------------------------------------------------------------------

function terminal(): void {
  const samples: Record<string, Buffer | string> = {
    'user-cr.txt': 'alice\r',
    'user-crlf.txt': 'alice\r\n',
    'domain-user.txt': 'CORP\\alice\r',
    'upn.txt': 'alice@corp.example.com\n',
    'password-utf8.bin': Buffer.from('Pässwörd-€1\r', 'utf8'),
    'password-latin1.bin': Buffer.from('Pässwörd\r', 'latin1'),
    'editing.bin': Buffer.from('alicf\x7fe\bx\x08\r'),
    'kill-line.bin': Buffer.from('wrong\x15alice\r'),
    'abort.bin': Buffer.from('ali\x03'),
    'xterm-keys.bin': Buffer.from('\x1b[A\x1b[B\x1b[C\x1b[D\x1bOP\x1b[1;5C\x1b[3~\x1b[200~alice\x1b[201~\r'),
    'xon-xoff.bin': Buffer.from('al\x13i\x11ce\r'),
    // An LCP Configure-Request as pppd sends it in async HDLC (RFC 1662): what a PPP client types.
    'ppp-lcp.bin': Buffer.from('7eff7d23c0217d217d217d207d2e7d227d267d207d207d207d207d257d267d2a7d2b7d2c7d2d7d277d227d287d229f3c7e', 'hex'),
    'telnet-cr-nul.bin': Buffer.from('alice\r\0secret\r\0'),
    'typed-ahead.txt': 'alice\rsecret\rCORP\r',
  };
  for (const [name, b] of Object.entries(samples)) put('terminal', name, b);
}

// ---- telnet --------------------------------------------------------------------------------

/** What /usr/bin/telnet sends (in a pty, TERM=xterm) to a server that opens like ours, then types. */
function realTelnetClient(): Promise<Buffer | undefined> {
  if (needs('telnet', 'script') !== false) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const got: Buffer[] = [];
    const server = createServer((s) => {
      const ours = new TelnetSession();
      s.on('data', (b: Buffer) => {
        got.push(b);
        const r = ours.feed(b);
        if (r.reply.length) s.write(r.reply);
      });
      s.write(Buffer.concat([ours.start(), Buffer.from([255, 253, 24, 255, 253, 31])]));
      setTimeout(() => s.write('login: '), 500);
    });
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      const child = spawn('script', ['-qfc', `telnet 127.0.0.1 ${port}`, '/dev/null'], { env: { ...process.env, TERM: 'xterm' }, stdio: 'pipe' });
      setTimeout(() => child.stdin.write('alice\r'), 900);
      setTimeout(() => child.stdin.write('Secret-1\r'), 1100);
      setTimeout(() => {
        child.kill();
        server.close();
        resolve(Buffer.concat(got));
      }, 1800);
    });
  });
}

async function telnet(): Promise<Buffer | undefined> {
  const real = await realTelnetClient();
  if (real?.length) put('telnet', 'real-telnet-client.bin', real);
  else skip('the real telnet client session', 'telnet or script missing');
  const IAC = 255;
  put('telnet', 'our-server-start.bin', new TelnetSession().start());
  put('telnet', 'putty-like.bin', Buffer.from([IAC, 251, 31, IAC, 251, 32, IAC, 251, 24, IAC, 251, 39, IAC, 253, 1, IAC, 251, 3, IAC, 253, 3, IAC, 250, 31, 0, 80, 0, 24, IAC, 240]));
  put('telnet', 'naws-iac-iac.bin', Buffer.from([IAC, 250, 31, 0, IAC, IAC, 0, 24, IAC, 240]));
  put('telnet', 'ayt-ip-ec-el.bin', Buffer.from([IAC, 246, 0x61, IAC, 247, IAC, 248, IAC, 244]));
  put('telnet', 'will-unsupported.bin', Buffer.from([IAC, 251, 99, IAC, 253, 99, IAC, 251, 34, IAC, 253, 34]));
  put('telnet', 'binary-on.bin', Buffer.from([IAC, 253, 0, IAC, 251, 0, 0x41, 0x0d, 0x00, 0xff, 0xff]));
  return real;
}

// ---- hayes ---------------------------------------------------------------------------------

function hayes(): void {
  const session = (name: string, commands: string[], ring = false) => {
    const clock = new SimulatedClock();
    const modem = new SimModem(`corpus-${name}`, { clock });
    const out: Buffer[] = [];
    modem.attach((b) => out.push(Buffer.from(b)), () => undefined);
    for (const c of commands) {
      modem.fromDte(Buffer.from(`${c}\r`));
      clock.increment(100);
    }
    if (ring) {
      const caller = modem.dial({ number: '5551234' });
      clock.increment(7000);
      modem.fromDte(Buffer.from('ATA\r'));
      clock.increment(3000);
      caller.type('alice\r');
      clock.increment(100);
      caller.hangup();
      clock.increment(1000);
    }
    put('hayes', `sim-${name}.bin`, Buffer.concat(out));
  };
  session('init', ['ATZ', 'ATE0V1Q0&C1&D2S0=0', 'AT+VCID=1', 'ATI', 'ATS0?', 'ATBOGUS', 'ATDT5551234']);
  session('answer-callerid', ['ATZ', 'ATE0V1', 'AT+VCID=1'], true);
  session('numeric', ['ATZ', 'ATE1V0', 'AT', 'ATBOGUS'], true);
  // V.250 and caller ID transcripts as modems print them (test/serial/hayes.test.ts).
  put('hayes', 'connect-extras.txt', '\r\nCONNECT 33600/ARQ/V34/LAPM/V42BIS\r\n\r\nCONNECT 9600 V42bis\r\nNO CARRIER\r\n');
  put('hayes', 'callerid-spaced.txt', '\r\nRING\r\n\r\nDATE = 0321\r\nTIME = 1405\r\nNMBR = 5551234\r\nNAME = JOHN DOE\r\n\r\nRING\r\n');
  put('hayes', 'callerid-ddn.txt', 'RING\nDDN_NMBR=5550100\nMESG=0302\nRING\n');
  put('hayes', 'results.txt', '\r\nOK\r\n\r\nERROR\r\n\r\nBUSY\r\n\r\nNO DIALTONE\r\n\r\nNO DIAL TONE\r\n\r\nNO ANSWER\r\n\r\nok\r\n2\r0\r');
}

// ---- ldap ----------------------------------------------------------------------------------

function ldap(): void {
  const message = (id: number, op: Buffer) => constructed(Ber.Sequence, integer(id), op);
  const result = (code: number, diag = '') => [integer(code, Ber.Enumerated), octets(''), octets(diag)];
  const challenge = readFileSync(join(CORPUS_ROOT, 'ntlm-decode', 'rasgate-challenge.bin'));
  const sid = Buffer.from('010500000000000515000000a065cf7e784b9b5fe77c8770f4010000', 'hex');
  const attr = (name: string, ...values: Array<Buffer | string>) => constructed(Ber.Sequence, octets(name), constructed(Ber.Set, ...values.map((v) => octets(v))));
  const samples: Record<string, Buffer> = {
    'bind-sasl-in-progress.bin': message(1, constructed(Op.BindResponse, ...result(14), octets(challenge, Ctx.ServerSaslCreds))),
    'bind-ok.bin': message(2, constructed(Op.BindResponse, ...result(0))),
    'bind-invalid-52e.bin': message(2, constructed(Op.BindResponse, ...result(49, '80090308: LdapErr: DSID-0C0904DC, comment: AcceptSecurityContext error, data 52e, v1db1\0'))),
    'bind-invalid-775.bin': message(2, constructed(Op.BindResponse, ...result(49, '80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 775, v4563\0'))),
    'search-entry.bin': message(3, constructed(Op.SearchResultEntry, octets('CN=Alice,CN=Users,DC=corp,DC=example'), constructed(Ber.Sequence,
      attr('sAMAccountName', 'alice'), attr('userAccountControl', '512'), attr('objectSid', sid), attr('msNPAllowDialin', 'TRUE'),
      attr('memberOf', 'CN=Dialin,CN=Users,DC=corp,DC=example', 'CN=Staff,DC=corp,DC=example'), attr('accountExpires', '9223372036854775807'), attr('pwdLastSet', '133000000000000000')))),
    'search-reference.bin': message(3, constructed(Op.SearchResultReference, octets('ldap://corp.example/DC=DomainDnsZones,DC=corp,DC=example'))),
    'search-done.bin': message(3, constructed(Op.SearchResultDone, ...result(0))),
    'starttls.bin': message(1, constructed(Op.ExtendedResponse, ...result(0), octets('1.3.6.1.4.1.1466.20037', Ctx.ExtResponseName))),
    'notice-of-disconnection.bin': message(0, constructed(Op.ExtendedResponse, ...result(52, 'server shutting down'), octets('1.3.6.1.4.1.1466.20036', Ctx.ExtResponseName), element(Ctx.ExtResponseValue, Buffer.alloc(0)))),
    'long-form-lengths.bin': Buffer.from('30840000000c020101618400000003' + '0a0100', 'hex').subarray(0, 17),
  };
  samples['stream-bind-search.bin'] = Buffer.concat([samples['bind-ok.bin']!, samples['search-entry.bin']!, samples['search-reference.bin']!, samples['search-done.bin']!]);
  for (const [name, b] of Object.entries(samples)) put('ldap', name, b);
  // Test vectors of test/domain/ldap-codec.test.ts (valid and malformed).
  const vectors = ['30050201034200', '3015020101' + '6010' + '020103' + '0400' + 'a309' + '04044e544c4d' + '0401aa', '3080', '3085ffffffffff', '3084ffffffff', '1f0100', '300504', '3003020101ff', '3003020501', '30820200'];
  put('ldap', 'codec-vectors.bin', Buffer.concat(vectors.map((h) => Buffer.from(h, 'hex'))));
}

// ---- winbind -------------------------------------------------------------------------------

function winbind(): void {
  if (needs('ntlm_auth') === false) {
    const request = `Username:: ${Buffer.from(USER).toString('base64')}\nNT-Domain:: ${Buffer.from(DOMAIN).toString('base64')}\nLANMAN-Challenge: 0123456789abcdef\nNT-Response: ${'01'.repeat(48)}\nRequest-User-Session-Key: Yes\n.\nbogus\n.\n`;
    const r = spawnSync('ntlm_auth', ['--helper-protocol=ntlm-server-1'], { input: request, timeout: 10_000 });
    if (r.stdout?.length) put('winbind', 'real-ntlm-auth-no-winbindd.txt', r.stdout);
  } else skip('real ntlm_auth answers', 'ntlm_auth missing');
  put('winbind', 'yes-with-key.txt', 'Authenticated: Yes\nUser-Session-Key: 000102030405060708090A0B0C0D0E0F\n.\n');
  put('winbind', 'no-wrong-password.txt', 'Authenticated: No\nAuthentication-Error: When trying to update a password, this return status indicates that the value provided as the current password is not correct.\n.\n.\n');
  put('winbind', 'stream.txt', 'Authenticated: Yes\nUser-Session-Key: 000102030405060708090a0b0c0d0e0f\n.\nAuthenticated: No\nAuthentication-Error: The user account has expired.\n.\n.\nAuthenticated: Yes\n.\n');
  put('winbind', 'base64-error.txt', `Authenticated: No\nAuthentication-Error:: ${Buffer.from('The attempted logon is invalid. This is either due to a bad username or authentication information.').toString('base64')}\n.\n.\n`);
  put('winbind', 'helper-error.txt', 'Error: winbind client not authorized to use winbindd_pam_auth_crap. Ensure permissions on /var/lib/samba/winbindd_privileged are set correctly.\n.\n');
  put('winbind', 'crlf.txt', 'Authenticated: Yes\r\n.\r\n');
}

// ---- config --------------------------------------------------------------------------------

function config(): void {
  put('config', 'embedded-default.yaml', EMBEDDED_DEFAULT);
  for (const f of readdirSync(join(ROOT, 'docs')).filter((n) => n.endsWith('.md')).sort()) {
    const text = readFileSync(join(ROOT, 'docs', f), 'utf8');
    let i = 0;
    for (const m of text.matchAll(/```yaml\n([\s\S]*?)```/g)) put('config', `docs-${f.replace('.md', '')}-${++i}.yaml`, m[1]!);
  }
  // Configurations the tests build (anchors and aliases included, as operators write them).
  put('config', 'isolation-test.yaml', 'lines:\n  - { id: simA, device: "sim://isoA" }\n  - { id: simB, device: "sim://isoB" }\n  - { id: tcp0, listen: tcp://127.0.0.1:2424, mode: raw }\nauthority: { file: ./smbpasswd, domain: ISO }\ndialogue: { failureDelaysSeconds: [0], maxAttempts: 1 }\nshutdown: { grace: 1 }\n');
  put('config', 'anchors.yaml', 'actions:\n  ppp: &ppp { exec: [/usr/sbin/pppd, notty, "10.0.0.1:"] }\nlines:\n  - { listen: tcp://127.0.0.1:2323, action: *ppp }\n  - { id: modem0, device: /dev/ttyUSB0, action: ppp, modem: { init: [ATZ, "AT+VCID=1"], callerId: required, allow: ["555*"] } }\nauthority: { type: ldap, servers: [ldaps://dc1.corp.example], baseDn: "DC=corp,DC=example" }\nlog: { level: debug, modules: { ntlm: warn }, file: { path: ./var/log/rasgate.log } }\n');
}

// ---- tcp-line ------------------------------------------------------------------------------

function tcpLine(realTelnet: Buffer | undefined): void {
  if (realTelnet) put('tcp-line', 'real-telnet-login.bin', realTelnet);
  put('tcp-line', 'raw-login.txt', `${USER}\r\n${PASSWORD}\r\n`);
  put('tcp-line', 'domain-login.txt', `CORP\\${USER}\r${PASSWORD}\r`);
  put('tcp-line', 'editing.bin', Buffer.from('alicx\x7fe\r\x15wrong\x03'));
  put('tcp-line', 'ppp.bin', readFileSync(join(CORPUS_ROOT, 'terminal', 'ppp-lcp.bin')));
  put('tcp-line', 'negotiation-storm.bin', Buffer.concat(Array.from({ length: 256 }, (_, i) => Buffer.from([255, i % 2 ? 251 : 253, i]))));
  put('tcp-line', 'ayt.bin', Buffer.from([255, 246, 255, 246, 255, 246]));
}

async function main(): Promise<void> {
  rmSync(CORPUS_ROOT, { recursive: true, force: true });
  await ntlm();
  terminal();
  const real = await telnet();
  hayes();
  ldap();
  winbind();
  config();
  tcpLine(real);
  for (const [t, n] of written) console.log(`${t}: ${n} samples`);
}

await main();
