import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NtlmSessionSecurity, sealKey } from '../../src/ntlm/session.js';
import { NtlmSessionError } from '../../src/ntlm/errors.js';
import { NegotiateFlags as F, SEC_E_MESSAGE_ALTERED, SEC_E_OUT_OF_SEQUENCE } from '../../src/ntlm/constants.js';

const KEY = Buffer.alloc(16, 0x55);
const BASE = F.NEGOTIATE_SIGN | F.NEGOTIATE_SEAL | F.NEGOTIATE_EXTENDED_SESSIONSECURITY | F.NEGOTIATE_KEY_EXCH;
const VARIANTS: Array<[string, number]> = [
  ['128-bit + KEY_EXCH', BASE | F.NEGOTIATE_128],
  ['56-bit + KEY_EXCH', BASE | F.NEGOTIATE_56],
  ['40-bit + KEY_EXCH', BASE],
  ['128-bit, no KEY_EXCH', (BASE & ~F.NEGOTIATE_KEY_EXCH) | F.NEGOTIATE_128],
];

function pair(flags: number) {
  return { client: new NtlmSessionSecurity(KEY, flags, 'client'), server: new NtlmSessionSecurity(KEY, flags, 'server') };
}

function expectSession(fn: () => unknown, code: string, status: number): void {
  assert.throws(fn, (e: unknown) => e instanceof NtlmSessionError && e.code === code && e.status === status);
}

for (const [name, flags] of VARIANTS) {
  test(`session ${name}: both directions, many messages, sign and seal interleaved`, () => {
    const { client, server } = pair(flags);
    for (let i = 0; i < 20; i++) {
      const msg = Buffer.from(`message ${i}`);
      if (i % 2) {
        const { sealed, signature } = client.seal(msg);
        assert.notDeepEqual(sealed, msg);
        assert.deepEqual(server.unseal(sealed, signature), msg);
        const back = server.seal(msg);
        assert.deepEqual(client.unseal(back.sealed, back.signature), msg);
      } else {
        server.verify(msg, client.sign(msg));
        client.verify(msg, server.sign(msg));
      }
    }
    assert.deepEqual(client.sequence, { outgoing: 20, incoming: 20 });
  });
}

test('seal key truncation differs for 128 / 56 / 40 bits', () => {
  const keys = new Set([F.NEGOTIATE_128, F.NEGOTIATE_56, 0].map((f) => sealKey(KEY.map((_, i) => i) as Buffer, f, 'client-to-server').toString('hex')));
  assert.equal(keys.size, 3);
});

test('altered message, altered signature, replay, reorder, wrong direction', () => {
  {
    const { client, server } = pair(BASE | F.NEGOTIATE_128);
    const sig = client.sign(Buffer.from('pay 10'));
    expectSession(() => server.verify(Buffer.from('pay 99'), sig), 'NTLM_MESSAGE_ALTERED', SEC_E_MESSAGE_ALTERED);
  }
  {
    const { client, server } = pair(BASE | F.NEGOTIATE_128);
    const sig = client.sign(Buffer.from('x'));
    sig[5]! ^= 1;
    expectSession(() => server.verify(Buffer.from('x'), sig), 'NTLM_MESSAGE_ALTERED', SEC_E_MESSAGE_ALTERED);
  }
  {
    const { client, server } = pair((BASE | F.NEGOTIATE_128) & ~F.NEGOTIATE_KEY_EXCH);
    const sig = client.sign(Buffer.from('x'));
    server.verify(Buffer.from('x'), sig);
    expectSession(() => server.verify(Buffer.from('x'), sig), 'NTLM_OUT_OF_SEQUENCE', SEC_E_OUT_OF_SEQUENCE);
  }
  {
    const { client, server } = pair(BASE | F.NEGOTIATE_128);
    client.sign(Buffer.from('first'));
    const second = client.sign(Buffer.from('second'));
    expectSession(() => server.verify(Buffer.from('second'), second), 'NTLM_OUT_OF_SEQUENCE', SEC_E_OUT_OF_SEQUENCE);
  }
  {
    const { client } = pair(BASE | F.NEGOTIATE_128);
    const other = new NtlmSessionSecurity(KEY, BASE | F.NEGOTIATE_128, 'client');
    expectSession(() => other.verify(Buffer.from('x'), client.sign(Buffer.from('x'))), 'NTLM_MESSAGE_ALTERED', SEC_E_MESSAGE_ALTERED);
  }
  {
    const { server } = pair(BASE);
    expectSession(() => server.verify(Buffer.from('x'), Buffer.alloc(15)), 'NTLM_BAD_MESSAGE_SIGNATURE', SEC_E_MESSAGE_ALTERED);
    expectSession(() => server.verify(Buffer.from('x'), Buffer.alloc(16)), 'NTLM_BAD_MESSAGE_SIGNATURE', SEC_E_MESSAGE_ALTERED);
  }
});

test('unsupported: no ESS, or seal without NEGOTIATE_SEAL', () => {
  assert.throws(() => new NtlmSessionSecurity(KEY, F.NEGOTIATE_SIGN, 'server'), (e: unknown) => e instanceof NtlmSessionError && e.code === 'NTLM_SESSION_UNSUPPORTED');
  const signOnly = new NtlmSessionSecurity(KEY, F.NEGOTIATE_SIGN | F.NEGOTIATE_EXTENDED_SESSIONSECURITY, 'client');
  assert.throws(() => signOnly.seal(Buffer.from('x')), (e: unknown) => e instanceof NtlmSessionError && e.code === 'NTLM_SESSION_UNSUPPORTED');
  assert.throws(() => new NtlmSessionSecurity(Buffer.alloc(8), BASE, 'client'), RangeError);
});
