/**
 * Security properties of the acceptor: thousands of random and mutated tokens at each leg
 * (only statuses come back, never a throw, never SEC_E_OK for a tampered AUTHENTICATE), no
 * guest, and nothing secret in the logs of real handshakes.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import winston from 'winston';
import { Writable } from 'node:stream';
import { acquireCredentialsHandle, acceptSecurityContext, deleteSecurityContext } from '../../src/ntlm/server.js';
import { createClientContext } from '../../src/ntlm/client.js';
import { ntowfv1 } from '../../src/ntlm/crypto.js';
import { createLogger } from '../../src/observe/logger.js';
import { ASC_REQ_CONNECTION, SECURITY_NATIVE_DREP, SEC_E_OK, SEC_I_CONTINUE_NEEDED, SEC_E_INVALID_TOKEN, SEC_E_LOGON_DENIED, statusName } from '../../src/ntlm/constants.js';
import { LocalAuthority } from '../../src/authority/local/index.js';
import { formatLine } from '../../src/authority/local/smbpasswd.js';
import { prng } from '../helpers/prng.js';

const dir = mkdtempSync(join(tmpdir(), 'rasgate-security-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'smbpasswd');
const PASSWORD = 'Tr0ub4dor&3-secret';
writeFileSync(file, [
  formatLine({ name: 'alice', uid: 1000, ntHash: ntowfv1(PASSWORD), hasLmHash: false, flags: new Set(['U']), lastChange: 0x5f5e1000 }),
  `guest:1001:${'X'.repeat(32)}:NO PASSWORD${'X'.repeat(21)}:[NU         ]:LCT-00000000:`,
  formatLine({ name: 'empty', uid: 1002, ntHash: ntowfv1(''), hasLmHash: false, flags: new Set(['N', 'U']), lastChange: 0x5f5e1000 }),
].join('\n') + '\n');

const capture = { lines: [] as string[] };
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    capture.lines.push(chunk.toString());
    done();
  },
});
const logger = createLogger({ noStdout: true, level: 'debug', transports: [new winston.transports.Stream({ stream: sink })] });
const authority = new LocalAuthority({ file, domain: 'RASGATE', logger });
const cred = acquireCredentialsHandle({ authority, logger, netbiosComputerName: 'GATE' });
const accept = (ctx: Parameters<typeof acceptSecurityContext>[1], token: Uint8Array) => acceptSecurityContext(cred, ctx, token, ASC_REQ_CONNECTION, SECURITY_NATIVE_DREP);


async function handshake(user = 'alice', password = PASSWORD) {
  const client = createClientContext({ user, domain: 'RASGATE', password, workstation: 'WS7' });
  const negotiate = client.negotiate();
  const first = await accept(null, negotiate);
  assert.equal(first.status, SEC_I_CONTINUE_NEEDED);
  const auth = client.authenticate(first.outputToken!);
  return { negotiate, first, auth };
}

test('random bytes at leg 1 and leg 3: only SEC_E_INVALID_TOKEN, never a throw', async () => {
  const rnd = prng(1);
  for (let i = 0; i < 2500; i++) {
    const len = Math.floor(rnd() * 200);
    const junk = Buffer.alloc(len);
    for (let j = 0; j < len; j++) junk[j] = Math.floor(rnd() * 256);
    // Half of them look like NTLMSSP messages so that the decoders get past the signature.
    if (i % 2 && len >= 12) {
      Buffer.from('NTLMSSP\0').copy(junk);
      junk.writeUInt32LE(1 + (i % 3), 8);
    }
    const r1 = await accept(null, junk);
    assert.ok(r1.status === SEC_E_INVALID_TOKEN || r1.status === SEC_I_CONTINUE_NEEDED, `leg 1 case ${i}: ${statusName(r1.status)}`);
    deleteSecurityContext(r1.context);
  }
  const rnd3 = prng(3);
  for (let i = 0; i < 1000; i++) {
    const { first } = await handshake();
    const len = 12 + Math.floor(rnd3() * 300);
    const junk = Buffer.alloc(len);
    for (let j = 0; j < len; j++) junk[j] = Math.floor(rnd3() * 256);
    Buffer.from('NTLMSSP\0').copy(junk);
    junk.writeUInt32LE(3, 8);
    const r3 = await accept(first.context, junk);
    assert.ok(r3.status === SEC_E_INVALID_TOKEN || r3.status === SEC_E_LOGON_DENIED, `leg 3 case ${i}: ${statusName(r3.status)}`);
    deleteSecurityContext(r3.context);
  }
});

test('every mutated AUTHENTICATE (byte flips, truncations, extensions) is refused; the original works', async () => {
  const rnd = prng(7);
  let refused = 0;
  for (let i = 0; i < 2000; i++) {
    const { first, auth } = await handshake();
    const token = Buffer.from(auth.token);
    const kind = i % 4;
    let mutated: Buffer;
    if (kind === 3) mutated = token.subarray(0, Math.floor(rnd() * token.length));
    else if (kind === 2) mutated = Buffer.concat([token, Buffer.from([Math.floor(rnd() * 256)])]);
    else {
      mutated = token;
      const at = Math.floor(rnd() * token.length);
      mutated[at] = mutated[at]! ^ (1 + Math.floor(rnd() * 255));
    }
    const r = await accept(first.context, mutated);
    if (kind === 2) {
      // Bytes appended after the payload are outside every field: harmless, may pass.
      assert.ok([SEC_E_OK, SEC_E_LOGON_DENIED, SEC_E_INVALID_TOKEN].includes(r.status));
    } else {
      assert.notEqual(r.status, SEC_E_OK, `mutation ${i} (kind ${kind}) accepted`);
      refused++;
    }
    deleteSecurityContext(r.context);
  }
  assert.ok(refused >= 1500);
  const { first, auth } = await handshake();
  assert.equal((await accept(first.context, auth.token)).status, SEC_E_OK);
});

test('no guest: a no-password account never logs in, not even with an empty password', async () => {
  for (const [user, password] of [['guest', ''], ['guest', 'x'], ['empty', ''], ['', '']] as const) {
    const { first, auth } = await handshake(user, password);
    const r = await accept(first.context, auth.token);
    assert.equal(r.status, SEC_E_LOGON_DENIED, `${user}/${password}`);
  }
});

test('logs name user, domain, workstation, status and reason, and never a secret', async () => {
  capture.lines.length = 0;
  const good = await handshake();
  const ok = await accept(good.first.context, good.auth.token);
  assert.equal(ok.status, SEC_E_OK);
  const bad = await handshake('alice', 'wrong-password-typed');
  await accept(bad.first.context, bad.auth.token);
  await accept(null, Buffer.from('NTLMSSP\0garbage-here'));
  const text = capture.lines.join('\n');
  assert.match(text, /"user":"alice"/);
  assert.match(text, /"workstation":"WS7"/);
  assert.match(text, /SEC_E_LOGON_DENIED/);
  const secrets = [
    PASSWORD, 'wrong-password-typed',
    ntowfv1(PASSWORD).toString('hex'), ntowfv1(PASSWORD).toString('hex').toUpperCase(), ntowfv1(PASSWORD).toString('base64'),
    good.auth.exportedSessionKey.toString('hex'), good.auth.exportedSessionKey.toString('base64'),
    good.auth.token.toString('base64').slice(0, 24), good.first.outputToken!.toString('base64').slice(0, 24), good.negotiate.toString('base64').slice(0, 16),
    good.auth.token.toString('hex').slice(0, 32),
  ];
  for (const s of secrets) assert.ok(!text.includes(s), `log leaks ${s.slice(0, 6)}...`);
});
