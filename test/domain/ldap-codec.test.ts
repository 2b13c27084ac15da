/** BER and LDAP messages: tables (parse, build, round trip), split framing, malformed input, random and mutated input. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ber, constructed, decode, element, integer, octets, boolean, readHeader, readInteger } from '../../src/authority/ldap/ber.js';
import { Ctx, Op } from '../../src/authority/ldap/constants.js';
import { LdapProtocolError } from '../../src/authority/ldap/errors.js';
import { LdapFramer } from '../../src/authority/ldap/framing.js';
import { bindRequest, decodeResponse, encodeFilter, extendedRequest, searchRequest, unbindRequest } from '../../src/authority/ldap/messages.js';
import { adDataCode, denyReasonFor } from '../../src/authority/ldap/diagnostic.js';
import { parseLdapUrl } from '../../src/authority/ldap/url.js';
import { resolveLdapOptions } from '../../src/authority/ldap/options.js';
import { sidToString } from '../../src/authority/ldap/directory.js';
import { dialinDenial } from '../../src/authority/dialin.js';
import { OptionError } from '../../src/errors.js';
import { prng } from '../helpers/prng.js';

const hex = (b: Buffer): string => b.toString('hex');

test('BER integers: minimal two\'s complement both ways', () => {
  const table: Array<[number, string]> = [
    [0, '020100'], [1, '020101'], [127, '02017f'], [128, '02020080'], [255, '020200ff'], [256, '02020100'],
    [-1, '0201ff'], [-128, '020180'], [-129, '0202ff7f'], [2147483647, '02047fffffff'], [-2147483648, '020480000000'],
  ];
  for (const [n, h] of table) {
    assert.equal(hex(integer(n)), h, `encode ${n}`);
    assert.equal(readInteger(decode(Buffer.from(h, 'hex')), 'n'), n, `decode ${h}`);
  }
});

test('BER lengths: short and long form; indefinite, oversize and high tags refused with codes', () => {
  assert.equal(hex(octets(Buffer.alloc(127))).slice(0, 4), '047f');
  assert.equal(hex(octets(Buffer.alloc(128))).slice(0, 6), '048180');
  assert.equal(hex(octets(Buffer.alloc(300))).slice(0, 8), '0482012c');
  assert.deepEqual(readHeader(Buffer.from('0482012c', 'hex'), 0), { tag: 4, headerLength: 4, length: 300 });
  assert.equal(readHeader(Buffer.from('0482', 'hex'), 0), undefined, 'incomplete header waits');
  const bad: Array<[string, string]> = [
    ['3080', 'LDAP_INDEFINITE'],
    ['3085ffffffffff', 'LDAP_BAD_LENGTH'],
    ['3084ffffffff', 'LDAP_TOO_LARGE'],
    ['1f0100', 'LDAP_BAD_TAG'],
    ['300504', 'LDAP_TRUNCATED'],
    ['3003020101ff', 'LDAP_BAD_LENGTH'], // trailing byte
    ['3003020501', 'LDAP_TRUNCATED'],
  ];
  for (const [h, code] of bad) {
    assert.throws(() => decode(Buffer.from(h, 'hex')), (e: unknown) => e instanceof LdapProtocolError && e.code === code, `${h} -> ${code}`);
  }
  let deep = octets('x');
  for (let i = 0; i < 40; i++) deep = constructed(Ber.Sequence, deep);
  assert.throws(() => decode(deep), (e: unknown) => e instanceof LdapProtocolError && e.code === 'LDAP_TOO_DEEP');
});

test('requests encode as RFC 4511 lays them out', () => {
  assert.equal(hex(unbindRequest(3)), '30050201034200');
  // BindRequest v3, empty name, SASL "NTLM" with credentials 0xaa.
  assert.equal(hex(bindRequest(1, '', { sasl: { mechanism: 'NTLM', credentials: Buffer.from([0xaa]) } })), '3015020101' + '6010' + '020103' + '0400' + 'a309' + '04044e544c4d' + '0401aa');
  assert.equal(hex(bindRequest(2, 'cn=a', { simple: 'pw' })), '3012020102600d0201030404636e3d61' + '80027077');
  assert.equal(hex(extendedRequest(1, '1.3.6.1.4.1.1466.20037')), '301d02010177188016312e332e362e312e342e312e313436362e3230303337');
  const f = encodeFilter({ and: [{ equal: ['objectClass', 'user'] }, { present: 'cn' }, { extensible: { rule: '1.2', attribute: 'member', value: 'x', dnAttributes: true } }] });
  const el = decode(f);
  assert.equal(el.tag, 0xa0);
  assert.deepEqual(el.children!.map((c) => c.tag), [0xa3, 0x87, 0xa9]);
  assert.deepEqual(el.children![2]!.children!.map((c) => c.tag), [0x81, 0x82, 0x83, 0x84]);
  const s = decode(searchRequest(7, { base: 'dc=x', scope: 2, filter: { present: 'objectClass' }, attributes: ['a', 'b'], sizeLimit: 2 }));
  const op = s.children![1]!;
  assert.equal(op.tag, Op.SearchRequest);
  assert.equal(op.children!.length, 8);
  assert.equal(readInteger(op.children![3]!, 'sizeLimit'), 2);
});

const result = (code: number, diag = ''): Buffer[] => [integer(code, Ber.Enumerated), octets(''), octets(diag)];
const message = (id: number, op: Buffer): Buffer => constructed(Ber.Sequence, integer(id), op);

test('responses decode: bind with serverSaslCreds, search entry/done, extended, reference', () => {
  const bind = decodeResponse(message(1, constructed(Op.BindResponse, ...result(14), octets(Buffer.from('NTLMSSP'), Ctx.ServerSaslCreds))));
  assert.equal(bind.type, 'bindResponse');
  assert.equal(bind.type === 'bindResponse' && bind.result.resultCode, 14);
  assert.equal(bind.type === 'bindResponse' && bind.serverSaslCreds?.toString(), 'NTLMSSP');
  const entry = decodeResponse(
    message(2, constructed(Op.SearchResultEntry, octets('CN=a,DC=x'), constructed(Ber.Sequence, constructed(Ber.Sequence, octets('msNPAllowDialin'), constructed(Ber.Set, octets('TRUE')))))),
  );
  assert.equal(entry.type === 'searchEntry' && entry.attributes.get('msnpallowdialin')?.[0]?.toString(), 'TRUE');
  const done = decodeResponse(message(2, constructed(Op.SearchResultDone, ...result(0))));
  assert.equal(done.type, 'searchDone');
  const ext = decodeResponse(message(3, constructed(Op.ExtendedResponse, ...result(0), octets('1.2', Ctx.ExtResponseName))));
  assert.equal(ext.type === 'extendedResponse' && ext.name, '1.2');
  assert.equal(decodeResponse(message(4, constructed(Op.SearchResultReference, octets('ldap://x')))).type, 'searchReference');
});

test('malformed responses are typed errors', () => {
  const cases: Array<[string, Buffer, string]> = [
    ['not a sequence', octets('x'), 'LDAP_BAD_TAG'],
    ['no op', constructed(Ber.Sequence, integer(1)), 'LDAP_BAD_MESSAGE'],
    ['unknown op', message(1, constructed(0x7f & 0x7e, octets('x'))), 'LDAP_BAD_TAG'],
    ['bind without diag', message(1, constructed(Op.BindResponse, integer(0, Ber.Enumerated), octets(''))), 'LDAP_BAD_MESSAGE'],
    ['resultCode not enumerated', message(1, constructed(Op.BindResponse, integer(0), octets(''), octets(''))), 'LDAP_BAD_TAG'],
    ['huge integer', message(1, constructed(Op.BindResponse, element(Ber.Enumerated, Buffer.alloc(9)), octets(''), octets(''))), 'LDAP_BAD_INTEGER'],
    ['negative id', message(-1, constructed(Op.SearchResultDone, ...result(0))), 'LDAP_BAD_MESSAGE'],
    ['primitive op', message(1, element(Op.BindResponse & ~0x20, Buffer.from('0a0100', 'hex'))), 'LDAP_BAD_TAG'],
  ];
  for (const [what, bytes, code] of cases) {
    assert.throws(() => decodeResponse(bytes), (e: unknown) => e instanceof LdapProtocolError && e.code === code, what);
  }
  assert.equal(boolean(true).toString('hex'), '0101ff');
});

test('framing: whole, split at every byte, several per read, garbage start', () => {
  const a = message(1, constructed(Op.BindResponse, ...result(14), octets(Buffer.alloc(300, 0x5a), Ctx.ServerSaslCreds)));
  const b = message(2, constructed(Op.SearchResultDone, ...result(0)));
  const stream = Buffer.concat([a, b]);
  for (let cut = 0; cut <= stream.length; cut++) {
    const f = new LdapFramer();
    const got = [...f.feed(stream.subarray(0, cut)), ...f.feed(stream.subarray(cut))];
    assert.deepEqual(got.map(hex), [hex(a), hex(b)], `cut at ${cut}`);
    assert.equal(f.buffered, 0);
  }
  const byByte = new LdapFramer();
  const out: Buffer[] = [];
  for (const byte of stream) out.push(...byByte.feed(Buffer.from([byte])));
  assert.equal(out.length, 2);
  assert.throws(() => new LdapFramer().feed(Buffer.from('0401', 'hex')), (e: unknown) => e instanceof LdapProtocolError && e.code === 'LDAP_BAD_TAG');
  assert.throws(() => new LdapFramer(100).feed(Buffer.from('30820200', 'hex')), (e: unknown) => e instanceof LdapProtocolError && e.code === 'LDAP_TOO_LARGE');
});

test('random and mutated input never throws anything but LdapProtocolError', () => {
  const good = [
    message(1, constructed(Op.BindResponse, ...result(14), octets(Buffer.alloc(40, 0xa5), Ctx.ServerSaslCreds))),
    message(2, constructed(Op.SearchResultEntry, octets('CN=a'), constructed(Ber.Sequence, constructed(Ber.Sequence, octets('a'), constructed(Ber.Set, octets('b')))))),
    message(3, constructed(Op.SearchResultDone, ...result(0))),
  ];
  let typed = 0;
  const check = (bytes: Buffer): void => {
    try {
      const f = new LdapFramer(4096);
      for (const m of f.feed(bytes)) decodeResponse(m, { maxLength: 4096 });
      decodeResponse(bytes, { maxLength: 4096 });
    } catch (e) {
      if (!(e instanceof LdapProtocolError)) throw e;
      typed++;
    }
  };
  const random = prng(0x5eed0002);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
  for (let i = 0; i < 3000; i++) check(bytes(1 + (i % 64)));
  for (let i = 0; i < 6000; i++) {
    const m = Buffer.from(good[i % good.length]!);
    const n = 1 + (i % 4);
    for (let k = 0; k < n; k++) m[Math.floor(random() * m.length)] = Math.floor(random() * 256);
    check(i % 5 === 0 ? m.subarray(0, Math.floor(random() * m.length)) : m);
  }
  assert.ok(typed > 0);
});

test('AD data codes map to DenyReasons; unknown codes to none', () => {
  const diag = (code: string): string => `80090308: LdapErr: DSID-0C0904DC, comment: AcceptSecurityContext error, data ${code}, v1db1`;
  const table: Array<[string, string | undefined]> = [
    ['52e', 'bad-credentials'], ['525', 'bad-credentials'], ['530', 'logon-hours'], ['531', 'workstation-restricted'],
    ['532', 'password-expired'], ['533', 'account-disabled'], ['701', 'account-expired'], ['773', 'password-must-change'],
    ['775', 'account-locked'], ['52f', undefined], ['ffff', undefined],
  ];
  for (const [code, reason] of table) assert.equal(denyReasonFor(diag(code)), reason, code);
  assert.equal(adDataCode('no code here'), undefined);
  assert.equal(denyReasonFor('80090308: ... data 52E, v4563'), 'bad-credentials');
});

test('URLs, options and SIDs', () => {
  assert.deepEqual(parseLdapUrl('ldap://dc1.example.com', 'k'), { href: 'ldap://dc1.example.com', secure: false, host: 'dc1.example.com', port: 389 });
  assert.equal(parseLdapUrl('ldaps://[::1]', 'k').port, 636);
  assert.equal(parseLdapUrl('ldaps://[::1]', 'k').host, '::1');
  for (const bad of ['http://x', 'ldap://x/dc=a', 'nonsense', 'ldap://u@x']) assert.throws(() => parseLdapUrl(bad, 'authority.servers[0]'), OptionError, bad);
  assert.throws(() => resolveLdapOptions({ servers: [] }), (e: unknown) => e instanceof OptionError && e.key === 'authority.servers');
  assert.throws(() => resolveLdapOptions({ servers: ['ldap://x'], requiredGroup: 'g' }), (e: unknown) => e instanceof OptionError && e.key === 'authority.requiredGroup');
  assert.throws(() => resolveLdapOptions({ servers: ['ldap://x'], dialinDefault: 'deny' }), (e: unknown) => e instanceof OptionError && e.key === 'authority.dialinDefault');
  assert.throws(() => resolveLdapOptions({ servers: ['ldap://x'], bindDn: 'cn=a' }), (e: unknown) => e instanceof OptionError && e.key === 'authority.bindPassword');
  assert.throws(() => resolveLdapOptions({ servers: ['ldap://x'], caFile: '/nonexistent' }), (e: unknown) => e instanceof OptionError && e.key === 'authority.caFile');
  assert.throws(() => resolveLdapOptions({ servers: ['ldap://x'], connectTimeoutMs: -1 }), (e: unknown) => e instanceof OptionError && e.key === 'authority.connectTimeoutMs');
  assert.throws(() => resolveLdapOptions({ servers: ['ldap://x'], requiredGroupp: 'g' } as never), (e: unknown) => e instanceof OptionError && e.key === 'authority.requiredGroupp');
  const o = resolveLdapOptions({ servers: ['ldap://x'] });
  assert.equal(o.mechanism, 'GSS-SPNEGO');
  assert.equal(o.tls.rejectUnauthorized, true);
  assert.equal(o.policy.dialinDefault, 'allow');
  assert.equal(o.retryDeadAfterMs, 30_000);
  const sid = Buffer.from('010500000000000515000000a065cf7e784b9b5fe77c8770' + 'f4010000', 'hex');
  assert.equal(sidToString(sid), 'S-1-5-21-2127521184-1604012920-1887927527-500');
  assert.equal(sidToString(Buffer.alloc(3)), undefined);
});

test('dial-in policy: group first (name or SID), then msNPAllowDialin with its default', () => {
  const groups = [{ name: 'Dialin-Users', sid: 'S-1-5-21-1-2-3-1105' }];
  assert.equal(dialinDenial({ groups, dialin: true }, { requiredGroup: 'dialin-users' }), undefined);
  assert.equal(dialinDenial({ groups, dialin: true }, { requiredGroup: 's-1-5-21-1-2-3-1105' }), undefined);
  assert.equal(dialinDenial({ groups, dialin: true }, { requiredGroup: 'other' }), 'not-member');
  assert.equal(dialinDenial({ groups, dialin: false }, {}), 'no-dialin-permission');
  assert.equal(dialinDenial({ groups }, {}), undefined);
  assert.equal(dialinDenial({ groups }, { dialinDefault: 'deny' }), 'no-dialin-permission');
  assert.equal(dialinDenial({ groups, dialin: true }, { dialinDefault: 'deny' }), undefined);
});

test('the length bound holds for short-form lengths too (found by npm run fuzz -- --target ldap)', () => {
  // maxMessageBytes takes any positive value: a 0x73-byte message must not pass a 64-byte bound.
  assert.throws(() => new LdapFramer(64).feed(Buffer.from('3073', 'hex')), (e: unknown) => e instanceof LdapProtocolError && e.code === 'LDAP_TOO_LARGE');
  assert.throws(() => readHeader(Buffer.from('0415', 'hex'), 0, 8), (e: unknown) => e instanceof LdapProtocolError && e.code === 'LDAP_TOO_LARGE');
  assert.throws(() => decode(octets(Buffer.alloc(100)), { maxLength: 64 }), (e: unknown) => e instanceof LdapProtocolError && e.code === 'LDAP_TOO_LARGE');
  assert.deepEqual(readHeader(Buffer.from('0408', 'hex'), 0, 8), { tag: 4, headerLength: 2, length: 8 });
});
