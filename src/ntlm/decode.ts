/**
 * Operator view of an NTLM token (`rasgate ntlm decode`): every field with its length and
 * offset, flags by name, AV pairs by name, Version, MIC slot, what the LM/NT responses are.
 * Never throws: a malformed token is described by its error code and where it failed. Shows no
 * secret-derived value that helps cracking (no NTProofStr, no LM/NT response bytes).
 */
import { AvId, avIdName, flagNames, MessageType, MsvAvFlag, NegotiateFlags as F } from './constants.js';
import { NtlmTokenError } from './errors.js';
import { decodeMessage, formatVersion, type AuthenticateMessage, type ChallengeMessage, type NegotiateMessage } from './messages.js';
import { filetimeToDate, type AvPair } from './avpairs.js';
import { parseNtlmV2Response } from './ntlmv2.js';

export interface FieldView {
  length: number;
  maxLength: number;
  offset: number;
}

export interface AvPairView {
  id: number;
  name: string;
  length: number;
  value: string;
}

export type TokenDescription =
  | ({ valid: true; type: 'NEGOTIATE' | 'CHALLENGE' | 'AUTHENTICATE'; length: number } & Record<string, unknown>)
  | { valid: false; length: number; type?: string; error: { code: string; message: string; offset?: number } };

const TYPE_NAMES: Record<number, 'NEGOTIATE' | 'CHALLENGE' | 'AUTHENTICATE'> = { 1: 'NEGOTIATE', 2: 'CHALLENGE', 3: 'AUTHENTICATE' };

function hex32(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}

function flagsView(flags: number): { hex: string; names: string[] } {
  return { hex: hex32(flags), names: flagNames(flags) };
}

function field(raw: Buffer, at: number): FieldView | undefined {
  if (raw.length < at + 8) return undefined;
  return { length: raw.readUInt16LE(at), maxLength: raw.readUInt16LE(at + 2), offset: raw.readUInt32LE(at + 4) };
}

function filetimeText(ft: bigint): string {
  const d = filetimeToDate(ft);
  return Number.isNaN(d.getTime()) || Math.abs(d.getTime()) > 8.64e15 ? `FILETIME ${ft}` : d.toISOString();
}

function msvAvFlagNames(v: number): string {
  const names = Object.entries(MsvAvFlag).filter(([, bit]) => v & bit).map(([n]) => n);
  return `${hex32(v)}${names.length ? ` (${names.join(', ')})` : ''}`;
}

export function avPairView(p: AvPair): AvPairView {
  let value: string;
  switch (p.id) {
    case AvId.MsvAvTimestamp:
      value = p.value.length === 8 ? filetimeText(p.value.readBigUInt64LE(0)) : p.value.toString('hex');
      break;
    case AvId.MsvAvFlags:
      value = p.value.length === 4 ? msvAvFlagNames(p.value.readUInt32LE(0)) : p.value.toString('hex');
      break;
    case AvId.MsvAvChannelBindings:
      value = p.value.every((b) => b === 0) ? 'Z(16) (no channel bindings)' : p.value.toString('hex');
      break;
    case AvId.MsvAvNbComputerName:
    case AvId.MsvAvNbDomainName:
    case AvId.MsvAvDnsComputerName:
    case AvId.MsvAvDnsDomainName:
    case AvId.MsvAvDnsTreeName:
    case AvId.MsvAvTargetName:
      value = p.value.toString('utf16le');
      break;
    default:
      value = p.value.toString('hex');
  }
  return { id: p.id, name: avIdName(p.id), length: p.value.length, value };
}

function describeNegotiate(m: NegotiateMessage): Record<string, unknown> {
  const out: Record<string, unknown> = { flags: flagsView(m.flags) };
  if (m.raw.length >= 32) out.fields = { DomainName: field(m.raw, 16), Workstation: field(m.raw, 24) };
  if (m.domain !== undefined) out.domain = m.domain;
  if (m.workstation !== undefined) out.workstation = m.workstation;
  out.version = m.version ? formatVersion(m.version) : null;
  out.layout = m.raw.length < 32 ? 'flags only (16-byte form)' : m.version ? 'with Version (40-byte header)' : 'no Version (32-byte header)';
  return out;
}

function describeChallenge(m: ChallengeMessage): Record<string, unknown> {
  return {
    flags: flagsView(m.flags),
    fields: { TargetName: field(m.raw, 12), TargetInfo: field(m.raw, 40) },
    targetName: m.targetName,
    serverChallenge: m.serverChallenge.toString('hex'),
    targetInfo: m.targetInfo.pairs.map(avPairView),
    version: m.version ? formatVersion(m.version) : null,
  };
}

function lmMeaning(lm: Buffer): string {
  if (lm.length === 0) return 'empty (treated as Z(24))';
  if (lm.length === 24 && lm.every((b) => b === 0)) return 'Z(24): no LM response (NTLMv2 client with server timestamp)';
  if (lm.length === 24) return 'LMv2 or LM/NTLMv1 (24 bytes; never used to authenticate)';
  return `unexpected length ${lm.length}`;
}

function ntMeaning(nt: Buffer): string {
  if (nt.length === 0) return 'empty (anonymous)';
  if (nt.length === 24) return 'NTLMv1 (24 bytes: crackable, refused by default)';
  if (nt.length >= 48) return 'NTLMv2 (NTProofStr + client blob)';
  return `unexpected length ${nt.length}`;
}

function describeAuthenticate(m: AuthenticateMessage): Record<string, unknown> {
  const out: Record<string, unknown> = {
    flags: flagsView(m.flags),
    strings: m.unicode ? 'Unicode (UTF-16LE)' : 'OEM',
    fields: {
      LmChallengeResponse: field(m.raw, 12),
      NtChallengeResponse: field(m.raw, 20),
      DomainName: field(m.raw, 28),
      UserName: field(m.raw, 36),
      Workstation: field(m.raw, 44),
      EncryptedRandomSessionKey: field(m.raw, 52),
    },
    domain: m.domain,
    user: m.user,
    workstation: m.workstation,
    lmResponse: { length: m.lmResponse.length, meaning: lmMeaning(m.lmResponse) },
    ntResponse: { length: m.ntResponse.length, meaning: ntMeaning(m.ntResponse) },
    encryptedRandomSessionKey: { length: m.encryptedRandomSessionKey.length, keyExchange: (m.flags & F.NEGOTIATE_KEY_EXCH) !== 0 },
    version: m.version ? formatVersion(m.version) : null,
    mic: m.mic ? { present: true, offset: m.micOffset, value: m.mic.toString('hex') } : { present: false },
  };
  if (m.ntResponse.length >= 48) {
    try {
      const v2 = parseNtlmV2Response(m.ntResponse);
      out.ntlmv2 = {
        blobLength: v2.blob.length,
        timestamp: filetimeText(v2.timestamp),
        clientChallenge: v2.clientChallenge.toString('hex'),
        avPairs: v2.avPairs.map(avPairView),
      };
    } catch (err) {
      out.ntlmv2 = { error: err instanceof NtlmTokenError ? { code: err.code, message: err.message } : String(err) };
    }
  }
  return out;
}

/** A structured description (JSON-ready) of any input. Never throws. */
export function describeToken(input: Uint8Array): TokenDescription {
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  try {
    const m = decodeMessage(buf);
    const body = m.type === MessageType.NEGOTIATE ? describeNegotiate(m) : m.type === MessageType.CHALLENGE ? describeChallenge(m) : describeAuthenticate(m);
    return { valid: true, type: TYPE_NAMES[m.type]!, length: buf.length, ...body };
  } catch (err) {
    const type = buf.length >= 12 ? TYPE_NAMES[buf.readUInt32LE(8)] : undefined;
    const error = err instanceof NtlmTokenError ? { code: err.code, message: err.message, ...(err.offset !== undefined ? { offset: err.offset } : {}) } : { code: 'NTLM_MALFORMED', message: String(err) };
    return { valid: false, length: buf.length, ...(type ? { type } : {}), error };
  }
}

function fieldLine(name: string, f: FieldView | undefined): string {
  return f ? `  ${name.padEnd(26)} len ${String(f.length).padStart(5)}  max ${String(f.maxLength).padStart(5)}  offset ${f.offset}` : `  ${name.padEnd(26)} (absent)`;
}

function pairLines(pairs: AvPairView[], indent: string): string[] {
  return pairs.map((p) => `${indent}${p.name.padEnd(22)} ${p.value}`);
}

/** Human-readable text for operators. Never throws. */
export function formatToken(input: Uint8Array): string {
  const d = describeToken(input);
  if (!d.valid) {
    return `malformed${d.type ? ` ${d.type}` : ''} token (${d.length} bytes): ${d.error.code}: ${d.error.message}\n`;
  }
  const lines: string[] = [`${d.type} (${d.length} bytes)`];
  const flags = d.flags as { hex: string; names: string[] };
  lines.push(`flags ${flags.hex}`, ...flags.names.map((n) => `  ${n}`));
  const fields = d.fields as Record<string, FieldView | undefined> | undefined;
  if (fields) {
    lines.push('fields');
    for (const [name, f] of Object.entries(fields)) lines.push(fieldLine(name, f));
  }
  const put = (label: string, v: unknown) => {
    if (v !== undefined) lines.push(`${label.padEnd(18)}${v === null ? '(none)' : String(v)}`);
  };
  if (d.type === 'NEGOTIATE') {
    put('domain', d.domain);
    put('workstation', d.workstation);
    put('layout', d.layout);
  } else if (d.type === 'CHALLENGE') {
    put('target name', JSON.stringify(d.targetName));
    put('server challenge', d.serverChallenge);
    lines.push('target info', ...pairLines(d.targetInfo as AvPairView[], '  '));
  } else {
    put('strings', d.strings);
    put('domain', JSON.stringify(d.domain));
    put('user', JSON.stringify(d.user));
    put('workstation', JSON.stringify(d.workstation));
    const lm = d.lmResponse as { length: number; meaning: string };
    const nt = d.ntResponse as { length: number; meaning: string };
    put('LM response', `${lm.length} bytes: ${lm.meaning}`);
    put('NT response', `${nt.length} bytes: ${nt.meaning}`);
    const key = d.encryptedRandomSessionKey as { length: number; keyExchange: boolean };
    put('session key', `${key.length} bytes${key.keyExchange ? ' (KEY_EXCH)' : ''}`);
    const mic = d.mic as { present: boolean; offset?: number; value?: string };
    put('MIC', mic.present ? `present at ${mic.offset}: ${mic.value}` : 'absent (no slot: lowest payload offset < 88)');
    const v2 = d.ntlmv2 as { error?: { code: string; message: string }; blobLength?: number; timestamp?: string; clientChallenge?: string; avPairs?: AvPairView[] } | undefined;
    if (v2?.error) put('NTLMv2 blob', `malformed: ${v2.error.code}: ${v2.error.message}`);
    else if (v2) {
      lines.push('NTLMv2 blob');
      lines.push(`  ${'length'.padEnd(22)} ${v2.blobLength}`, `  ${'timestamp'.padEnd(22)} ${v2.timestamp}`, `  ${'client challenge'.padEnd(22)} ${v2.clientChallenge}`);
      lines.push('  AV pairs', ...pairLines(v2.avPairs ?? [], '    '));
    }
  }
  put('version', d.version);
  return `${lines.join('\n')}\n`;
}
