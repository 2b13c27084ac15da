#!/usr/bin/python3
"""gss-ntlmssp as an NTLM acceptor, through python3-gssapi, one line per step.

  NTLM_USER_FILE=users gss_acceptor.py [--cbt-app-data HEX] [--session]
                                       (users: DOMAIN:user:password lines)
  stdin: NEGOTIATE (base64); stdout: CHALLENGE (base64)
  stdin: AUTHENTICATE (base64); stdout: "OK <initiator name> <session key hex>" or
  "FAIL <gss error>"; exit 0 either way (a crash exits non-zero).

gss-ntlmssp rejects a NEGOTIATE shorter than 40 bytes (no Version field).

With --session, after OK it serves gss_wrap / gss_unwrap (sealed) until stdin closes:
  "WRAP <b64 plaintext>" -> "<b64 token>"   "UNWRAP <b64 token>" -> "<b64 plaintext>" | "ERR ..."
(an NTLM wrap token is the 16-byte signature followed by the sealed data).
"""
import argparse
import base64
import sys

import gssapi
import gssapi.raw as gb

NTLM = gssapi.OID.from_int_seq('1.3.6.1.4.1.311.2.2.10')


def read_token() -> bytes:
    line = sys.stdin.readline().strip()
    if not line:
        raise SystemExit('no token on stdin')
    return base64.b64decode(line)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument('--cbt-app-data', default=None, help='expected channel bindings application data (hex)')
    ap.add_argument('--session', action='store_true')
    a = ap.parse_args()
    cb = gb.ChannelBindings(application_data=bytes.fromhex(a.cbt_app_data)) if a.cbt_app_data is not None else None
    creds = gssapi.Credentials(usage='accept', mechs=[NTLM])
    ctx = gssapi.SecurityContext(creds=creds, usage='accept', channel_bindings=cb)
    try:
        challenge = ctx.step(read_token())
    except gssapi.exceptions.GSSError as e:
        print(f'FAIL negotiate: {e}'.replace('\n', ' '), flush=True)
        return 0
    print(base64.b64encode(challenge or b'').decode(), flush=True)
    try:
        ctx.step(read_token())
    except gssapi.exceptions.GSSError as e:
        print(f'FAIL {e}'.replace('\n', ' '), flush=True)
        return 0
    if not ctx.complete:
        print('FAIL context not complete', flush=True)
        return 0
    key = ''
    try:
        # GSS_C_INQ_SSPI_SESSION_KEY 1.2.840.113554.1.2.2.5.5: the NTLM exported session key.
        inq = gb.inquire_sec_context_by_oid(ctx, gssapi.OID.from_int_seq('1.2.840.113554.1.2.2.5.5'))
        key = inq[0].hex() if inq else ''
    except Exception:  # the key is a bonus check only
        key = ''
    # gss-ntlmssp's display name carries its C string's NUL terminator.
    name = str(ctx.initiator_name).rstrip('\x00')
    print(f'OK {name} {key}'.strip(), flush=True)
    if a.session:
        serve_session(ctx)
    return 0


def serve_session(ctx) -> None:
    for line in sys.stdin:
        op, _, arg = line.strip().partition(' ')
        data = base64.b64decode(arg)
        try:
            out = ctx.wrap(data, True).message if op == 'WRAP' else ctx.unwrap(data).message
            print(base64.b64encode(out).decode(), flush=True)
        except gssapi.exceptions.GSSError as e:
            print(f'ERR {e}'.replace('\n', ' '), flush=True)


if __name__ == '__main__':
    sys.exit(main())
