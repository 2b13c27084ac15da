/**
 * Byte-level looks into real peers' AUTHENTICATE tokens, for assertions and for tampering
 * (MS-NLMP 2.2.1.3, 2.2.2.7). Deliberately independent of src/ntlm/messages.ts.
 */
import { AvId, Layout } from '../../src/ntlm/constants.js';

/** Lowest offset of a non-empty AUTHENTICATE field: where the payload starts (MIC slot iff >= 88). */
export function payloadStart(authenticate: Buffer): number {
  let lowest = authenticate.length;
  for (let at = 12; at <= 52; at += 8) if (authenticate.readUInt16LE(at) > 0) lowest = Math.min(lowest, authenticate.readUInt32LE(at + 4));
  return lowest;
}

/** Offset of the AV pair `id` inside the NTLMv2 blob of an AUTHENTICATE; throws when absent. */
export function blobAvPairOffset(authenticate: Buffer, id: number): number {
  const ntLength = authenticate.readUInt16LE(20);
  const ntOffset = authenticate.readUInt32LE(24);
  const end = ntOffset + ntLength;
  let at = ntOffset + Layout.NTPROOFSTR_LENGTH + Layout.NTLMV2_BLOB_FIXED;
  while (at + 4 <= end) {
    const avId = authenticate.readUInt16LE(at);
    if (avId === id) return at;
    if (avId === AvId.MsvAvEOL) break;
    at += 4 + authenticate.readUInt16LE(at + 2);
  }
  throw new Error(`AV pair ${id} not in the blob`);
}
