import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalAuthority } from '../../src/authority/local/index.js';
import type { Authority, AuthorityVerdict, DenyReason } from '../../src/ntlm/authority.js';
import { acquireCredentialsHandle } from '../../src/ntlm/server.js';
import { ntowfv1 } from '../../src/ntlm/crypto.js';
import { createGatewayVerifier } from '../../src/gateway/verifier.js';
import { DENY_RAS_ERROR, ERROR_NO_LOGON_SERVERS, toVerifyOutcome } from '../../src/gateway/outcome.js';
import { nullLogger } from '../../src/observe/logger.js';
import { SEC_E_INVALID_TOKEN, SEC_E_LOGON_DENIED, SEC_E_NO_AUTHENTICATING_AUTHORITY, SEC_E_OK } from '../../src/ntlm/constants.js';

const input = (user: string, password: string, domain = '') => ({ user, password, domain, lineId: 'tcp0', callId: 'tcp0-1' });
const never = new AbortController().signal;

function verifierFor(authority: Authority) {
  const credential = acquireCredentialsHandle({ authority, netbiosDomainName: 'GATE' });
  return createGatewayVerifier({ lease: () => ({ credential, release: () => undefined }), logger: nullLogger() });
}

test('local authority: identity as the store spells it, wrong password is a plain failure, flags are denials', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rasgate-verifier-'));
  try {
    const authority = new LocalAuthority({ file: join(dir, 'smbpasswd'), domain: 'GATE' });
    await authority.store.update((ed) => {
      ed.put({ name: 'Alice', uid: 1000, ntHash: ntowfv1('Alice-pw'), hasLmHash: false, flags: new Set(['U']), lastChange: 0x5f5e1000 });
      ed.put({ name: 'bob', uid: 1001, ntHash: ntowfv1('Bob-pw'), hasLmHash: false, flags: new Set(['U', 'D']), lastChange: 0x5f5e1000 });
      ed.put({ name: 'carl', uid: 1002, ntHash: ntowfv1('Carl-pw'), hasLmHash: false, flags: new Set(['U', 'L']), lastChange: 0x5f5e1000 });
    });
    const verify = verifierFor(authority);
    assert.deepEqual(await verify(input('ALICE', 'Alice-pw'), never), { kind: 'accepted', user: 'Alice', domain: 'GATE' });
    assert.deepEqual(await verify(input('alice', 'Alice-pw', 'gate'), never), { kind: 'accepted', user: 'Alice', domain: 'GATE' });
    assert.deepEqual(await verify(input('alice', 'wrong'), never), { kind: 'bad-credentials' });
    assert.deepEqual(await verify(input('nobody', 'x'), never), { kind: 'bad-credentials' });
    assert.deepEqual(await verify(input('bob', 'Bob-pw'), never), { kind: 'policy', rasError: 647, reason: 'account-disabled' });
    assert.deepEqual(await verify(input('carl', 'Carl-pw'), never), { kind: 'policy', rasError: 647, reason: 'account-locked' });
    assert.deepEqual(await verify(input('bob', 'wrong'), never), { kind: 'bad-credentials' }, 'flags only after the right password');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const fixed = (verdict: AuthorityVerdict | (() => Promise<AuthorityVerdict>)): Authority => ({
  type: 'test',
  verify: async () => (typeof verdict === 'function' ? verdict() : verdict),
  close: async () => {},
});

test('each DenyReason maps to its raserror code (SECURITYMSG_ERROR), with the authority\'s spelling', async () => {
  const expected: Record<Exclude<DenyReason, 'bad-credentials'>, number> = {
    'account-disabled': 647, 'account-locked': 647, 'account-expired': 708, 'password-expired': 648, 'password-must-change': 648,
    'logon-hours': 646, 'workstation-restricted': 649, 'no-dialin-permission': 649, 'not-member': 649,
  };
  assert.deepEqual(DENY_RAS_ERROR, expected);
  for (const [reason, code] of Object.entries(expected)) {
    const out = await verifierFor(fixed({ result: 'denied', reason: reason as DenyReason, user: 'Dora', domain: 'EXAMPLE' }))(input('dora', 'pw'), never);
    assert.equal(out.kind, 'policy', reason);
    assert.equal(out.kind === 'policy' && out.rasError, code, reason);
  }
});

test('an authority that is unreachable, throws or hangs is an outage (with a code), never a failure', async () => {
  const down = await verifierFor(fixed({ result: 'unavailable', detail: 'ECONNREFUSED' }))(input('eve', 'pw'), never);
  assert.equal(down.kind, 'outage');
  assert.equal(down.kind === 'outage' && down.rasError, ERROR_NO_LOGON_SERVERS);
  const throws = await verifierFor(fixed(async () => { throw new Error('boom'); }))(input('eve', 'pw'), never);
  assert.equal(throws.kind, 'outage');
});

test('toVerifyOutcome: statuses without a deny reason', () => {
  assert.deepEqual(toVerifyOutcome({ status: SEC_E_LOGON_DENIED }, undefined), { kind: 'bad-credentials' });
  assert.deepEqual(toVerifyOutcome({ status: SEC_E_NO_AUTHENTICATING_AUTHORITY, reason: 'authority-timeout' }, undefined), { kind: 'outage', rasError: 638, reason: 'authority-timeout' });
  assert.deepEqual(toVerifyOutcome({ status: SEC_E_NO_AUTHENTICATING_AUTHORITY, reason: 'unavailable' }, undefined), { kind: 'outage', rasError: 1311, reason: 'unavailable' });
  assert.equal(toVerifyOutcome({ status: SEC_E_INVALID_TOKEN, reason: 'bad-mic' }, undefined).kind, 'internal-error');
  assert.equal(toVerifyOutcome({ status: SEC_E_OK }, undefined).kind, 'internal-error', 'established without identity is our bug');
  assert.deepEqual(toVerifyOutcome({ status: SEC_E_LOGON_DENIED, denyReason: 'account-locked' }, undefined), { kind: 'policy', rasError: 647, reason: 'account-locked' });
});
