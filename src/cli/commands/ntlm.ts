/**
 * `rasgate ntlm decode TOKEN [--json]`: pretty-print an NTLM token for troubleshooting.
 * TOKEN is base64, hex, an HTTP header value (`NTLM <base64>`, `Negotiate <base64>`, with or
 * without the `Authorization:` / `WWW-Authenticate:` name), or `-` to read it from stdin.
 * A SPNEGO-wrapped token is searched for its NTLMSSP part. Exit 0 when the token decodes,
 * 2 on a malformed token or bad usage (one line on stderr says why).
 */
import { describeToken, formatToken } from '../../ntlm/decode.js';
import { NTLMSSP_SIGNATURE } from '../../ntlm/constants.js';

const USAGE = `usage: rasgate ntlm decode TOKEN|- [--json]
  Pretty-print an NTLM message (NEGOTIATE, CHALLENGE, AUTHENTICATE): flags, names, AV pairs,
  response lengths. Secrets in it (responses, session key) are shown as lengths only.
  TOKEN   base64, hex, or a header value such as "NTLM TlRMTVNTUAAB..." ("-" reads stdin);
          a SPNEGO-wrapped token is searched for its NTLMSSP part
  --json  machine-readable output
  Exit status: 0 decoded, 2 a malformed token or bad usage.
`;

/** Token text -> bytes, or a reason it is not a token. */
export function parseTokenText(text: string): { bytes: Buffer; note?: string } | { error: string } {
  let t = text.trim();
  t = t.replace(/^(?:proxy-)?(?:authorization|www-authenticate|proxy-authenticate)\s*:\s*/i, '');
  t = t.replace(/^(?:NTLM|Negotiate)\s+/i, '').trim();
  if (t === '') return { error: 'empty token' };
  let bytes: Buffer;
  const compactHex = t.replace(/[\s:]/g, '');
  if (/^(?:0x)?[0-9a-fA-F]+$/.test(compactHex) && compactHex.replace(/^0x/, '').length % 2 === 0 && !/^TlRM/.test(t)) {
    bytes = Buffer.from(compactHex.replace(/^0x/, ''), 'hex');
  } else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(t.replace(/\s+/g, ''))) {
    bytes = Buffer.from(t.replace(/\s+/g, ''), t.includes('-') || t.includes('_') ? 'base64url' : 'base64');
  } else {
    return { error: 'not base64 or hex' };
  }
  if (bytes.length === 0) return { error: 'empty token' };
  const at = bytes.indexOf(NTLMSSP_SIGNATURE);
  if (at > 0) return { bytes: bytes.subarray(at), note: `NTLMSSP found at byte ${at} of a ${bytes.length}-byte wrapper (SPNEGO?)` };
  return { bytes };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(USAGE);
    return sub ? 0 : 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (sub !== 'decode') {
    process.stderr.write(`rasgate ntlm: unknown subcommand "${sub}"\n${USAGE}`);
    return 2;
  }
  const json = rest.includes('--json');
  const args = rest.filter((a) => a !== '--json');
  const unknown = args.find((a) => a.startsWith('--'));
  if (unknown) {
    process.stderr.write(`rasgate ntlm decode: unknown option "${unknown}"\n${USAGE}`);
    return 2;
  }
  if (args.length === 0) {
    process.stderr.write(`rasgate ntlm decode: TOKEN is required\n${USAGE}`);
    return 2;
  }
  const text = args.length === 1 && args[0] === '-' ? await readStdin() : args.join(' ');
  const parsed = parseTokenText(text);
  if ('error' in parsed) {
    process.stderr.write(`rasgate ntlm decode: bad token: ${parsed.error}\n`);
    return 2;
  }
  const description = describeToken(parsed.bytes);
  if (json) {
    process.stdout.write(`${JSON.stringify(parsed.note ? { note: parsed.note, ...description } : description, null, 2)}\n`);
  } else {
    if (parsed.note) process.stdout.write(`(${parsed.note})\n`);
    if (description.valid) process.stdout.write(formatToken(parsed.bytes));
  }
  if (!description.valid) {
    const e = description.error;
    process.stderr.write(`rasgate ntlm decode: bad token: ${e.code}: ${e.message}\n`);
    return 2;
  }
  return 0;
}
