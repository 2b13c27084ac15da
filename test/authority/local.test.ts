/**
 * The smbpasswd format and LocalAuthority: real Samba lines (pdbedit -e smbpasswd:FILE when
 * Samba is installed), malformed lines reported with their line number and skipped, reload on
 * demand and on mtime change, and the verify() contract.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, mkdirSync, utimesSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needs, toolPath } from '../helpers/tools.js';
import { prng } from '../helpers/prng.js';
import { parseSmbpasswd, parseLine, formatLine, formatFlags, LocalAuthority, defaultLocalDomain, SmbpasswdStore } from '../../src/authority/local/index.js';
import { createAuthority } from '../../src/authority/index.js';
import { ntowfv1, ntowfv2 } from '../../src/ntlm/crypto.js';
import { computeNtlmV2Response } from '../../src/ntlm/ntlmv2.js';
import { desl } from '../../src/authority/local/ntlmv1.js';
import type { ResponseCheck } from '../../src/ntlm/authority.js';

const dir = mkdtempSync(join(tmpdir(), 'rasgate-local-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const X32 = 'X'.repeat(32);
const signal = new AbortController().signal;

function response(user: string, password: string, domain: string, serverChallenge = Buffer.alloc(8, 3)): ResponseCheck {
  const v2 = computeNtlmV2Response({ responseKeyNT: ntowfv2(ntowfv1(password), user, domain), serverChallenge, clientChallenge: Buffer.alloc(8, 9), timestamp: 0n, targetInfo: [] });
  return { user, domain, workstation: 'WS', serverChallenge, ntResponse: v2.ntResponse, lmResponse: Buffer.alloc(24) };
}

test('parses lines as Samba writes them (flags, LCT, X\'d and NO PASSWORD fields)', () => {
  const text = [
    '# a comment',
    '',
    `alice:1000:${X32}:8846F7EAEE8FB117AD06BDD830B7586C:[U          ]:LCT-5F5E1000:`,
    `Bob:1001:AAD3B435B51404EEAAD3B435B51404EE:8846f7eaee8fb117ad06bdd830b7586c:[DUX        ]:LCT-00000000:`,
    `guest:65534:NO PASSWORDXXXXXXXXXXXXXXXXXXXXX:NO PASSWORDXXXXXXXXXXXXXXXXXXXXX:[NU         ]:LCT-5F5E1000:`,
    `ws1$:1002:${X32}:8846F7EAEE8FB117AD06BDD830B7586C:[W          ]:LCT-5F5E1000:`,
    `old:1003:${X32}:${X32}`,
  ].join('\n');
  const { entries, problems } = parseSmbpasswd(text);
  assert.deepEqual(problems, []);
  // 'old' (pre-flags format, X'd out) is a valid line too.
  assert.deepEqual(entries.map((e) => e.name), ['alice', 'Bob', 'guest', 'ws1$', 'old']);
  const alice = entries[0]!;
  assert.equal(alice.uid, 1000);
  assert.equal(alice.ntHash!.toString('hex'), '8846f7eaee8fb117ad06bdd830b7586c'); // NT hash of "password"
  assert.deepEqual([...alice.flags], ['U']);
  assert.equal(alice.lastChange, 0x5f5e1000);
  assert.equal(alice.hasLmHash, false);
  assert.deepEqual([...entries[1]!.flags].sort(), ['D', 'U', 'X']);
  assert.equal(entries[1]!.hasLmHash, true);
  assert.equal(entries[2]!.ntHash, undefined);
  assert.equal(formatLine(alice), `alice:1000:${X32}:8846F7EAEE8FB117AD06BDD830B7586C:[U          ]:LCT-5F5E1000:`);
  assert.equal(formatFlags(new Set(['X', 'U', 'D', 'L'])), '[DULX       ]', 'Samba order N D H T U M W S L X I');
  const bob = formatLine(entries[1]!);
  assert.ok(bob.includes(`:${X32}:`), 'LM always written X\'d out');
});

test('old-format line (name:uid:LM:NT) parses', () => {
  const e = parseLine(`old:1003:${X32}:8846F7EAEE8FB117AD06BDD830B7586C`);
  assert.ok(typeof e !== 'string');
  assert.equal(e.flags.size, 0);
});

test('malformed lines are reported with their line number and skipped; the rest works', () => {
  const text = [
    `alice:1000:${X32}:8846F7EAEE8FB117AD06BDD830B7586C:[U          ]:LCT-5F5E1000:`, // 1 ok
    'just-a-name', // 2
    `bob:x:${X32}:8846F7EAEE8FB117AD06BDD830B7586C:[U          ]:LCT-5F5E1000:`, // 3 uid
    `carol:1002:${X32}:8846F7EAEE8FB117AD06BDD830B7586:[U          ]:LCT-5F5E1000:`, // 4 short hash
    `dan:1003:${X32}:8846F7EAEE8FB117AD06BDD830B7586C:[U?         ]:LCT-5F5E1000:`, // 5 flag
    `erin:1004:${X32}:8846F7EAEE8FB117AD06BDD830B7586C:U:LCT-5F5E1000:`, // 6 brackets
    `fay:1005:${X32}:8846F7EAEE8FB117AD06BDD830B7586C:[U          ]:LCT-ZZ:`, // 7 LCT
    `ALICE:1006:${X32}:8846F7EAEE8FB117AD06BDD830B7586C:[U          ]:LCT-5F5E1000:`, // 8 duplicate
    `:1007:${X32}:8846F7EAEE8FB117AD06BDD830B7586C:[U          ]:LCT-5F5E1000:`, // 9 empty name
    '\u0000\u00ff binary junk :::', // 10
    `gus:1008:${X32}:8846F7EAEE8FB117AD06BDD830B7586C:[U          ]:LCT-5F5E1000:`, // 11 ok
  ].join('\n');
  const { entries, problems } = parseSmbpasswd(text);
  assert.deepEqual(entries.map((e) => e.name), ['alice', 'gus']);
  assert.deepEqual(problems.map((p) => p.line), [2, 3, 4, 5, 6, 7, 8, 9, 10]);
  for (const p of problems) assert.ok(p.reason.length > 5);
});

test('random bytes never make the parser throw', () => {
  const random = prng(0x5eed0001);
  for (let i = 0; i < 3000; i++) {
    const bytes = Buffer.alloc(1 + ((i * 7919) % 300));
    for (let j = 0; j < bytes.length; j++) bytes[j] = (random() * 256) | 0;
    parseSmbpasswd(bytes.toString('latin1').split(String.fromCharCode(0)).join(':'));
  }
});

test('the store logs skipped lines (line number, reason) without hashes', () => {
  const file = join(dir, 'logged');
  writeFileSync(file, `alice:1000:${X32}:8846F7EAEE8FB117AD06BDD830B7586C:[U          ]:LCT-5F5E1000:\nbroken line\n`);
  const logged: Array<Record<string, unknown>> = [];
  const logger = { warn: (_m: string, meta: Record<string, unknown>) => logged.push(meta), error: () => {}, info: () => {} } as never;
  const store = new SmbpasswdStore(file, { logger });
  store.reload();
  assert.equal(store.lookup('ALICE')!.name, 'alice');
  assert.deepEqual(logged.map((m) => [m.line, typeof m.reason]), [[2, 'string']]);
  assert.ok(!JSON.stringify(logged).includes('8846'));
});

test('LocalAuthority.verify: canonical spelling, configured domain, deny reasons, NTLMv1 only when allowed', async () => {
  const file = join(dir, 'verify');
  const line = (name: string, pw: string, flags: string) => `${name}:1000:${X32}:${ntowfv1(pw).toString('hex').toUpperCase()}:[${flags.padEnd(11)}]:LCT-5F5E1000:`;
  writeFileSync(file, [line('Alice', 'pw-a', 'U'), line('dis', 'pw-d', 'DU'), line('lock', 'pw-l', 'LU'), line('trust$', 'pw-t', 'W'), `nopw:1:${X32}:${'NO PASSWORD'.padEnd(32, 'X')}:[NU         ]:LCT-5F5E1000:`].join('\n') + '\n');
  const auth = new LocalAuthority({ file, domain: 'HOMELAB' });
  const ok = await auth.verify(response('alice', 'pw-a', 'whatever'), signal);
  assert.equal(ok.result, 'ok');
  assert.ok(ok.result === 'ok' && ok.user === 'Alice' && ok.domain === 'HOMELAB' && ok.sessionBaseKey?.length === 16);
  assert.deepEqual(await auth.verify(response('alice', 'nope', 'X'), signal), { result: 'denied', reason: 'bad-credentials' });
  assert.deepEqual(await auth.verify(response('nobody', 'pw-a', 'X'), signal), { result: 'denied', reason: 'bad-credentials' });
  assert.equal((await auth.verify(response('dis', 'pw-d', ''), signal)).result === 'denied' && 'account-disabled', 'account-disabled');
  const locked = await auth.verify(response('lock', 'pw-l', ''), signal);
  assert.ok(locked.result === 'denied' && locked.reason === 'account-locked');
  assert.equal((await auth.verify(response('trust$', 'pw-t', ''), signal)).result, 'denied');
  assert.equal((await auth.verify({ ...response('nopw', '', ''), ntResponse: Buffer.alloc(0) }, signal)).result, 'denied');
  assert.equal((await auth.verify({ ...response('', 'pw', '') }, signal)).result, 'denied', 'empty user');

  const sc = Buffer.alloc(8, 5);
  const v1: ResponseCheck = { user: 'alice', domain: '', workstation: '', serverChallenge: sc, ntResponse: desl(ntowfv1('pw-a'), sc), lmResponse: Buffer.alloc(24) };
  const refused = await auth.verify(v1, signal);
  assert.ok(refused.result === 'denied' && refused.detail === 'ntlmv1-refused');
  const lax = new LocalAuthority({ file, domain: 'HOMELAB', allowNtlmV1: true });
  assert.equal((await lax.verify(v1, signal)).result, 'ok');
  assert.equal((await lax.verify({ ...v1, ntResponse: desl(ntowfv1('wrong'), sc) }, signal)).result, 'denied');
});

test('reload(): on demand, and by itself when the file changes (mtime)', async () => {
  const file = join(dir, 'reload');
  const entry = (name: string) => `${name}:1000:${X32}:${ntowfv1('pw').toString('hex').toUpperCase()}:[U          ]:LCT-5F5E1000:\n`;
  writeFileSync(file, entry('first'));
  const auth = new LocalAuthority({ file, domain: 'D', store: { recheckMs: 0 } });
  assert.equal((await auth.verify(response('first', 'pw', 'D'), signal)).result, 'ok');
  writeFileSync(file, entry('second'));
  utimesSync(file, new Date(), new Date(Date.now() + 5000));
  assert.equal((await auth.verify(response('second', 'pw', 'D'), signal)).result, 'ok', 'picked up by mtime');
  assert.equal((await auth.verify(response('first', 'pw', 'D'), signal)).result, 'denied');
  const throttled = new LocalAuthority({ file, domain: 'D' }); // default: look at mtime at most once a second
  writeFileSync(file, entry('third'));
  await throttled.reload();
  assert.equal((await throttled.verify(response('third', 'pw', 'D'), signal)).result, 'ok', 'reload() reads at once');
  rmSync(file);
  await throttled.reload();
  assert.equal((await throttled.verify(response('third', 'pw', 'D'), signal)).result, 'denied', 'a missing file is an empty store');
});

test('domain default: host name up to the first dot, upper-cased, else RASGATE; options validated', async () => {
  assert.equal(defaultLocalDomain('gate01.example.com'), 'GATE01');
  assert.equal(defaultLocalDomain('a-very-long-host-name-indeed'), 'A-VERY-LONG-HOS');
  assert.equal(defaultLocalDomain('.weird'), 'RASGATE');
  assert.throws(() => new LocalAuthority({ file: '' }), /authority\.file/);
  assert.throws(() => new LocalAuthority({ file: join(dir, 'x'), domain: 'WAY-TOO-LONG-FOR-NETBIOS' }), /authority\.domain/);
  const made = await createAuthority({ type: 'local', file: join(dir, 'made'), domain: 'MADE' });
  assert.equal(made.type, 'local');
  await assert.rejects(createAuthority({ type: 'kerberos' } as never), /authority\.type/);
});

test('a file written by Samba (pdbedit -e smbpasswd:FILE) works as is', { skip: needs('pdbedit') }, async () => {
  const sdir = join(dir, 'samba');
  for (const d of ['private', 'lock', 'state', 'cache']) mkdirSync(join(sdir, d), { recursive: true });
  const conf = join(sdir, 'smb.conf');
  writeFileSync(conf, [
    '[global]', 'workgroup = TESTGRP', 'netbios name = PDBTEST', 'security = user',
    `passdb backend = tdbsam:${join(sdir, 'private', 'passdb.tdb')}`, `private dir = ${join(sdir, 'private')}`,
    `lock directory = ${join(sdir, 'lock')}`, `state directory = ${join(sdir, 'state')}`, `cache directory = ${join(sdir, 'cache')}`, `pid directory = ${join(sdir, 'lock')}`, '',
  ].join('\n'));
  const pdbedit = (args: string[], input?: string) => {
    const r = spawnSync(toolPath('pdbedit'), ['-s', conf, ...args], { input, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, `pdbedit ${args.join(' ')}: ${r.stderr}`);
  };
  // pdbedit needs Unix accounts: use ones every Debian has.
  pdbedit(['-a', '-t', '-u', 'nobody'], 'samba-pw-1\nsamba-pw-1\n');
  pdbedit(['-a', '-t', '-u', 'daemon'], 'samba-pw-2\nsamba-pw-2\n');
  pdbedit(['-c', '[D]', '-u', 'daemon']);
  const exported = join(sdir, 'smbpasswd');
  pdbedit(['-e', `smbpasswd:${exported}`]);
  const text = readFileSync(exported, 'utf8');
  const parsed = parseSmbpasswd(text);
  assert.deepEqual(parsed.problems, [], text);
  const nobody = parsed.entries.find((e) => e.name === 'nobody')!;
  assert.equal(nobody.ntHash!.toString('hex'), ntowfv1('samba-pw-1').toString('hex'));
  assert.ok(parsed.entries.find((e) => e.name === 'daemon')!.flags.has('D'));
  // Round trip: our formatting of Samba's entries reads back the same.
  for (const e of parsed.entries) assert.deepEqual(parseLine(formatLine(e)), { ...e, hasLmHash: false });
  const auth = new LocalAuthority({ file: exported, domain: 'TESTGRP' });
  assert.equal((await auth.verify(response('nobody', 'samba-pw-1', 'TESTGRP'), signal)).result, 'ok');
  assert.equal((await auth.verify(response('nobody', 'wrong', 'TESTGRP'), signal)).result, 'denied');
  const d = await auth.verify(response('daemon', 'samba-pw-2', 'TESTGRP'), signal);
  assert.ok(d.result === 'denied' && d.reason === 'account-disabled');
});

test('names compare as Samba does (its case table): U+212A KELVIN SIGN is not k; LCT 0 is must-change unless X', async () => {
  const file = join(dir, 'policy');
  const line = (name: string, flags: string, lct: string) => `${name}:1000:${X32}:${ntowfv1('pw').toString('hex').toUpperCase()}:[${flags.padEnd(11)}]:LCT-${lct}:`;
  writeFileSync(file, [line('kim', 'U', '5F5E1000'), line('never', 'U', '00000000'), line('noexp', 'UX', '00000000'), `old:1001:${X32}:${ntowfv1('pw').toString('hex').toUpperCase()}`].join('\n') + '\n');
  const auth = new LocalAuthority({ file, domain: 'D' });
  assert.equal(auth.store.lookup('\u212Aim'), undefined, 'KELVIN SIGN must not find kim');
  assert.equal(auth.store.lookup('KIM')!.name, 'kim');
  assert.deepEqual(await auth.verify(response('\u212Aim', 'pw', 'D'), signal), { result: 'denied', reason: 'bad-credentials' });
  assert.equal((await auth.verify(response('Kim', 'pw', 'D'), signal)).result, 'ok');
  for (const name of ['never', 'old']) {
    const v = await auth.verify(response(name, 'pw', 'D'), signal);
    assert.ok(v.result === 'denied' && v.reason === 'password-must-change', `${name}: ${JSON.stringify(v)}`);
    assert.deepEqual(await auth.verify(response(name, 'wrong', 'D'), signal), { result: 'denied', reason: 'bad-credentials' }, 'the password is checked first');
  }
  assert.equal((await auth.verify(response('noexp', 'pw', 'D'), signal)).result, 'ok');
  // One account per Samba key: a second spelling that Samba takes for the same name is a duplicate.
  assert.deepEqual(parseSmbpasswd(`${line('Émile', 'U', '5F5E1000')}\n${line('émile', 'U', '5F5E1000')}\n${line('\u212Aim', 'U', '5F5E1000')}\n${line('kim', 'U', '5F5E1000')}\n`).problems.map((p) => p.line), [2]);
});
