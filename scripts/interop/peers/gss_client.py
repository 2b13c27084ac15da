#!/usr/bin/python3
"""NTLM client tokens from gss-ntlmssp through python3-gssapi, one base64 token per line.

  gss_client.py --user U --password P --domain D [--target host@server] [--cbt-app-data HEX]
  stdout: NEGOTIATE; stdin: CHALLENGE; stdout: AUTHENTICATE, then exit 0.

The credential comes from gss_acquire_cred_with_password on the NTLM mech
(OID 1.3.6.1.4.1.311.2.2.10), so no NTLM_USER_FILE is needed on this side.
"""
import argparse
import base64
import sys

import gssapi
import gssapi.raw as gb

NTLM = gssapi.OID.from_int_seq('1.3.6.1.4.1.311.2.2.10')


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument('--user', required=True)
    ap.add_argument('--password', required=True)
    ap.add_argument('--domain', default='')
    ap.add_argument('--target', default='host@rasgate')
    ap.add_argument('--cbt-app-data', default=None, help='channel bindings application data (hex)')
    a = ap.parse_args()
    cb = gb.ChannelBindings(application_data=bytes.fromhex(a.cbt_app_data)) if a.cbt_app_data is not None else None
    principal = f'{a.domain}\\{a.user}' if a.domain else a.user
    name = gssapi.Name(principal, gssapi.NameType.user)
    creds = gb.acquire_cred_with_password(name, a.password.encode(), usage='initiate', mechs=[NTLM]).creds
    target = gssapi.Name(a.target, gssapi.NameType.hostbased_service)
    ctx = gssapi.SecurityContext(name=target, creds=creds, mech=NTLM, usage='initiate', channel_bindings=cb)
    print(base64.b64encode(ctx.step()).decode(), flush=True)
    line = sys.stdin.readline().strip()
    if not line:
        print('no CHALLENGE on stdin', file=sys.stderr)
        return 2
    out = ctx.step(base64.b64decode(line))
    print(base64.b64encode(out or b'').decode(), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
