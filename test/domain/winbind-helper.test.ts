/** ntlm_auth ntlm-server-1 framing (tables, splits, malformed) and the helper's queue/restart/timeout, with a stand-in helper. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HelperAnswerParser, WinbindProtocolError, denyReasonForStatus, encodeRequest } from '../../src/authority/winbind/protocol.js';
import { WinbindAuthority } from '../../src/authority/winbind/authority.js';
import type { ResponseCheck } from '../../src/ntlm/authority.js';
import { OptionError } from '../../src/errors.js';

const fake = join(dirname(fileURLToPath(import.meta.url)), 'fake-ntlm-auth.mjs');
const check = (user: string): ResponseCheck => ({
  user,
  domain: 'EXAMPLE',
  workstation: 'WS',
  serverChallenge: Buffer.from('0123456789abcdef', 'hex'),
  ntResponse: Buffer.alloc(48, 1),
  lmResponse: Buffer.alloc(0),
});
const signal = (): AbortSignal => new AbortController().signal;

test('request: names base64 (no byte can break a line), binary as hex, ends with "."', () => {
  const r = encodeRequest({ ...check('al\nice'), domain: 'EX' });
  assert.equal(
    r,
    `Username:: ${Buffer.from('al\nice').toString('base64')}\nNT-Domain:: RVg=\nLANMAN-Challenge: 0123456789abcdef\nNT-Response: ${'01'.repeat(48)}\nRequest-User-Session-Key: Yes\n.\n`,
  );
  assert.match(encodeRequest({ ...check('a'), lmResponse: Buffer.alloc(24, 2) }), /LANMAN-Response: (02){24}\n/);
});

test('answers: success with key, failure with its two "." lines, split anywhere', () => {
  const stream = 'Authenticated: Yes\nUser-Session-Key: 000102030405060708090a0b0c0d0e0f\n.\nAuthenticated: No\nAuthentication-Error: The user account has expired.\n.\n.\nAuthenticated: Yes\n.\n';
  for (let cut = 0; cut <= stream.length; cut++) {
    const p = new HelperAnswerParser();
    const got = [...p.feed(stream.slice(0, cut)), ...p.feed(stream.slice(cut))];
    assert.equal(got.length, 3, `cut ${cut}`);
    assert.deepEqual(got[0], { authenticated: true, userSessionKey: Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex') });
    assert.deepEqual(got[1], { authenticated: false, error: 'The user account has expired.' });
    assert.deepEqual(got[2], { authenticated: true });
  }
  assert.deepEqual(new HelperAnswerParser().feed('Error: bad request\n.\n'), [{ authenticated: false, error: 'helper error: bad request' }]);
});

test('malformed answers are WinbindProtocolError', () => {
  const bad = [
    'Authenticated: Yes\nUser-Session-Key: 0011\n.\n',
    'Authenticated: Maybe\n.\n',
    'no colon here\n.\n',
    'Authenticated: No\nAuthentication-Error: x\n.\nAuthenticated: Yes\n.\n', // second "." missing
    'x'.repeat(5000),
    'A: b\n'.repeat(40),
  ];
  for (const b of bad) assert.throws(() => new HelperAnswerParser().feed(b), WinbindProtocolError, b.slice(0, 30));
});

test('a line longer than 4096 characters is refused however the pipe splits it (found by npm run fuzz -- --target winbind)', () => {
  const long = `Authentication-Error: ${'x'.repeat(5000)}\n`;
  for (const chunks of [[long], [long.slice(0, 4000), long.slice(4000)], [...long]]) {
    const p = new HelperAnswerParser();
    assert.throws(() => chunks.forEach((c) => p.feed(c)), (e: unknown) => e instanceof WinbindProtocolError && /line too long/.test(e.message), `${chunks.length} chunks`);
  }
});

test('NT_STATUS names and Samba\'s descriptions map to DenyReasons', () => {
  const table: Array<[string, string | undefined]> = [
    ['NT_STATUS_WRONG_PASSWORD', 'bad-credentials'],
    ['When trying to update a password, this return status indicates that the value provided as the current password is not correct.', 'bad-credentials'],
    ['The specified account does not exist.', 'bad-credentials'],
    ['The referenced account is currently disabled and cannot be logged on to.', 'account-disabled'],
    ['The user account has been automatically locked because too many invalid logon attempts or password change attempts have been requested.', 'account-locked'],
    ['The user account has expired.', 'account-expired'],
    ['The user account password has expired.', 'password-expired'],
    ['The user password must be changed before logging on the first time.', 'password-must-change'],
    ['The user account has time restrictions and cannot be logged onto at this time.', 'logon-hours'],
    ['The user account is restricted so that it cannot be used to log on from the source workstation.', 'workstation-restricted'],
    ['The attempted logon is invalid. This is either due to a bad username or authentication information.', 'logon-failure'],
    ['NT_STATUS_NO_LOGON_SERVERS', undefined],
    ['Reading winbind reply failed!', undefined],
  ];
  for (const [text, reason] of table) assert.equal(denyReasonForStatus(text), reason, text);
});

test('helper: answers in order, one at a time, with the session key', async () => {
  const a = new WinbindAuthority({ ntlmAuthPath: fake });
  try {
    const [ok, bad, ok2] = await Promise.all([a.verify(check('alice'), signal()), a.verify(check('bob'), signal()), a.verify(check('alice'), signal())]);
    assert.equal(ok.result, 'ok');
    assert.equal(ok.result === 'ok' && ok.sessionBaseKey?.toString('hex'), '000102030405060708090a0b0c0d0e0f');
    assert.deepEqual(bad, { result: 'denied', reason: 'bad-credentials', user: 'bob', domain: 'EXAMPLE' });
    assert.equal(ok2.result, 'ok');
  } finally {
    await a.close();
  }
});

test('helper: dies mid-request -> restarted, the request is asked again once and queued ones go through', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rg-wb-'));
  process.env.FAKE_DIE_FLAG = join(dir, 'died');
  const a = new WinbindAuthority({ ntlmAuthPath: fake, restartMinMs: 20 });
  try {
    const first = a.helperPid;
    const [dying, queued] = await Promise.all([a.verify(check('die'), signal()), a.verify(check('alice'), signal())]);
    assert.equal(dying.result, 'ok');
    assert.equal(queued.result, 'ok');
    assert.notEqual(a.helperPid, first);
  } finally {
    delete process.env.FAKE_DIE_FLAG;
    await a.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('helper: a stalled helper times the request out as an outage and is replaced; a garbled one too', async () => {
  // Generous: the timeout covers the stand-in's restart (a node process) as well.
  const a = new WinbindAuthority({ ntlmAuthPath: fake, requestTimeoutMs: 2000, restartMinMs: 20 });
  try {
    const first = a.helperPid;
    const r = await a.verify(check('hang'), signal());
    assert.equal(r.result, 'unavailable');
    const next = await a.verify(check('alice'), signal());
    assert.equal(next.result, 'ok');
    assert.notEqual(a.helperPid, first);
    const g = await a.verify(check('garbage'), signal());
    assert.equal(g.result, 'unavailable');
    assert.equal((await a.verify(check('alice'), signal())).result, 'ok');
  } finally {
    await a.close();
  }
});

test('helper: aborted requests and closed authority are outages; bad options name their key', async () => {
  const a = new WinbindAuthority({ ntlmAuthPath: fake });
  const ac = new AbortController();
  ac.abort();
  assert.equal((await a.verify(check('alice'), ac.signal)).result, 'unavailable');
  await a.close();
  assert.equal((await a.verify(check('alice'), signal())).result, 'unavailable');
  assert.throws(() => new WinbindAuthority({ requiredGroupp: 'x' } as never), (e: unknown) => e instanceof OptionError && e.key === 'authority.requiredGroupp');
  assert.throws(() => new WinbindAuthority({ requestTimeoutMs: 0 }), (e: unknown) => e instanceof OptionError && e.key === 'authority.requestTimeoutMs');
  assert.throws(() => new WinbindAuthority({ extraArgs: [1 as unknown as string] }), (e: unknown) => e instanceof OptionError && e.key === 'authority.extraArgs[0]');
});

test('pool: a stalled helper holds up no one else; requests go to the least busy of `helpers`', async () => {
  const a = new WinbindAuthority({ ntlmAuthPath: fake, helpers: 2, requestTimeoutMs: 1500, restartMinMs: 20 });
  try {
    assert.equal(new Set(a.helperPids).size, 2, 'two helper processes');
    const stalled = a.verify(check('hang'), signal());
    // The other helper answers while the first one stalls.
    for (let i = 0; i < 3; i++) assert.equal((await a.verify(check('alice'), signal())).result, 'ok');
    assert.equal((await stalled).result, 'unavailable');
  } finally {
    await a.close();
  }
  for (const bad of [0, 33, 1.5]) assert.throws(() => new WinbindAuthority({ ntlmAuthPath: fake, helpers: bad }), (e: unknown) => e instanceof OptionError && e.key === 'authority.helpers');
});
