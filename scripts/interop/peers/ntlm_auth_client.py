#!/usr/bin/python3
"""NTLM client tokens from python3-ntlm-auth (NtlmContext: NTLMv2, MIC, KEY_EXCH), one base64
token per line.

  ntlm_auth_client.py --user U --password P --domain D [--workstation W] [--session]
                      [--cbt-app-data HEX]
  stdout: NEGOTIATE; stdin: CHALLENGE; stdout: AUTHENTICATE, then exit 0.

--cbt-app-data binds the channel: a gss_channel_bindings_struct with that application data
(e.g. "tls-server-end-point:" + certificate hash), hashed by ntlm-auth into MsvAvChannelBindings.

With --session it then serves GSS_WrapEx / GSS_UnwrapEx (MS-NLMP 3.4.6, 3.4.7) on the
established context until stdin closes, one request per line:
  "WRAP <b64 plaintext>"        -> "<b64 signature(16) + sealed>"
  "UNWRAP <b64 signature+sealed>" -> "<b64 plaintext>" or "ERR <reason>"
"""
import argparse
import base64
import hashlib
import sys

from Cryptodome.Hash import MD4
from ntlm_auth.gss_channel_bindings import GssChannelBindingsStruct
from ntlm_auth.ntlm import NtlmContext

# ntlm-auth 1.4 asks hashlib for MD4, which OpenSSL 3 refuses without the legacy provider;
# route just that name to pycryptodomex (an impacket dependency, installed alongside).
_hashlib_new = hashlib.new


def _new(name, data=b'', **kw):
    if name.lower() == 'md4':
        return MD4.new(data)
    return _hashlib_new(name, data, **kw)


hashlib.new = _new


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument('--user', required=True)
    ap.add_argument('--password', required=True)
    ap.add_argument('--domain', default='')
    ap.add_argument('--workstation', default='NTLMAUTH')
    ap.add_argument('--session', action='store_true')
    ap.add_argument('--cbt-app-data', default=None)
    a = ap.parse_args()
    cbt = None
    if a.cbt_app_data is not None:
        cbt = GssChannelBindingsStruct()
        cbt[cbt.APPLICATION_DATA] = bytes.fromhex(a.cbt_app_data)
    ctx = NtlmContext(a.user, a.password, domain=a.domain, workstation=a.workstation, cbt_data=cbt, ntlm_compatibility=3)
    print(base64.b64encode(ctx.step()).decode(), flush=True)
    line = sys.stdin.readline().strip()
    if not line:
        print('no CHALLENGE on stdin', file=sys.stderr)
        return 2
    print(base64.b64encode(ctx.step(base64.b64decode(line))).decode(), flush=True)
    if a.session:
        serve_session(ctx)
    return 0


def serve_session(ctx: NtlmContext) -> None:
    for line in sys.stdin:
        op, _, arg = line.strip().partition(' ')
        data = base64.b64decode(arg)
        try:
            out = ctx.wrap(data) if op == 'WRAP' else ctx.unwrap(data)
            print(base64.b64encode(out).decode(), flush=True)
        except Exception as e:  # a bad signature is an expected answer here
            print(f'ERR {type(e).__name__}: {e}'.replace('\n', ' '), flush=True)


if __name__ == '__main__':
    sys.exit(main())
