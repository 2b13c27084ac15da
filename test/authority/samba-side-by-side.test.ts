/**
 * The local store's account policy beside Samba's own: one smbpasswd file, read by smbd
 * (standalone, SMB2 on loopback) and by LocalAuthority through our acceptor, the same logins
 * made against both with our NTLM client. Where they differ, Samba is right:
 *  - names compare with Samba's case table (strequal -> toupper_m), so U+212A KELVIN SIGN is
 *    not the letter K: "ras\u212Aim" is no account, whatever password it brings;
 *  - LCT-00000000 (password last set: never), and an old-format line without LCT, is "must
 *    change password" unless the account has the X (password never expires) flag.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalAuthority, formatFlags } from '../../src/authority/local/index.js';
import { createClientContext, SEC_E_OK, SEC_I_CONTINUE_NEEDED, statusName } from '../../src/ntlm/index.js';
import { startSmbd, type SmbdFixture } from '../../scripts/interop/smbd-fixture.js';
import { smbNtlmLogin, type NtlmInitiator } from '../../scripts/interop/smb-ntlm-login.js';
import { NtStatus } from '../../scripts/interop/smb2-client.js';
import { ourAcceptSession, ourCredential } from '../../scripts/interop/our-acceptor.js';
import { needs } from '../helpers/tools.js';

const PASSWORD = 'Side-by-side-1';
/** NT_STATUS_PASSWORD_MUST_CHANGE (ntstatus.h). */
const STATUS_PASSWORD_MUST_CHANGE = 0xc0000224;

function ourInitiator(user: string, domain: string, password: string): NtlmInitiator {
  const ctx = createClientContext({ user, domain, password, workstation: 'RASGATE-IT' });
  return { negotiate: async () => ctx.negotiate(), authenticate: async (challenge) => ctx.authenticate(challenge) };
}

const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;

describe('local store policy beside smbd', { skip: needs('root', 'smbd', 'smbpasswd', 'useradd', 'userdel') }, () => {
  let smbd: SmbdFixture;
  let file: string;
  before(async () => {
    smbd = await startSmbd({ user: 'raskim', password: PASSWORD, extraUsers: ['rasmust', 'rasnoexp', 'rasold'].map((user) => ({ user, password: PASSWORD })) });
    file = join(smbd.dir, 'private', 'smbpasswd');
    // smbd reads the file on every lookup (each connection is a new child): edit it in place.
    const text = readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => (l.startsWith('rasmust:') ? l.replace(/LCT-[0-9A-F]{8}/, 'LCT-00000000') : l))
      .map((l) => (l.startsWith('rasnoexp:') ? l.replace(/LCT-[0-9A-F]{8}/, 'LCT-00000000').replace(/\[[A-Z ]+\]/, formatFlags(['U', 'X'])) : l))
      // The format before flags and LCT: name:uid:LM:NT:
      .map((l) => (l.startsWith('rasold:') ? `${l.split(':').slice(0, 4).join(':')}:` : l))
      .join('\n');
    writeFileSync(file, text);
  });
  after(async () => {
    await smbd?.stop();
  });

  /** One login with our client against smbd and against our acceptor over the same file. */
  async function both(user: string): Promise<{ samba: number; ours: { status: number; reason: string; user?: string } }> {
    const samba = (await smbNtlmLogin(smbd.port, ourInitiator(user, smbd.workgroup, PASSWORD))).status;
    const authority = new LocalAuthority({ file, domain: smbd.workgroup });
    const session = ourAcceptSession(ourCredential(authority, { netbiosComputerName: 'RASGATE-IT' }));
    try {
      const client = createClientContext({ user, domain: smbd.workgroup, password: PASSWORD, workstation: 'RASGATE-IT' });
      const leg1 = await session.step(client.negotiate());
      assert.equal(leg1.status, SEC_I_CONTINUE_NEEDED);
      const leg2 = await session.step(client.authenticate(leg1.outputToken!).token);
      return { samba, ours: { status: leg2.status, reason: leg2.reason, ...session.identity() } };
    } finally {
      session.close();
    }
  }

  test('the account itself, and its name in another ASCII case, log in on both', async () => {
    for (const name of ['raskim', 'RASKIM', 'RasKim']) {
      const r = await both(name);
      assert.equal(r.samba, NtStatus.SUCCESS, `smbd ${name}: ${hex(r.samba)}`);
      assert.equal(r.ours.status, SEC_E_OK, `ours ${name}: ${statusName(r.ours.status)} ${r.ours.reason}`);
      assert.equal(r.ours.user, 'raskim');
    }
  });

  test('U+212A KELVIN SIGN is not K: smbd refuses "ras\\u212Aim", and so do we', async () => {
    const r = await both('ras\u212Aim');
    assert.equal(r.samba, NtStatus.LOGON_FAILURE, `smbd: ${hex(r.samba)}\n${smbd.log()}`);
    assert.notEqual(r.ours.status, SEC_E_OK, `ours accepted it as ${r.ours.user}`);
  });

  test('LCT-00000000 without X: password must change on both (ours: password-must-change)', async () => {
    const r = await both('rasmust');
    assert.equal(r.samba, STATUS_PASSWORD_MUST_CHANGE, `smbd: ${hex(r.samba)}`);
    assert.notEqual(r.ours.status, SEC_E_OK);
    assert.match(r.ours.reason, /password-must-change/);
  });

  test('LCT-00000000 with X (password never expires): both log in', async () => {
    assert.match(readFileSync(file, 'utf8'), /^rasnoexp:.*\[UX +\]:LCT-00000000:/m);
    const r = await both('rasnoexp');
    assert.equal(r.samba, NtStatus.SUCCESS, `smbd: ${hex(r.samba)}`);
    assert.equal(r.ours.status, SEC_E_OK, `${statusName(r.ours.status)} ${r.ours.reason}`);
  });

  test('an old-format line (no flags, no LCT) is "never set" too: must change on both', async () => {
    assert.match(readFileSync(file, 'utf8'), /^rasold:\d+:[0-9A-FX]{32}:[0-9A-F]{32}:$/m);
    const r = await both('rasold');
    assert.equal(r.samba, STATUS_PASSWORD_MUST_CHANGE, `smbd: ${hex(r.samba)}`);
    assert.notEqual(r.ours.status, SEC_E_OK);
    assert.match(r.ours.reason, /password-must-change/);
  });
});
