#!/usr/bin/python3
"""NTLM client tokens from python3-impacket, one base64 token per line.

  impacket_client.py --user U --password P --domain D [--workstation W] [--ntlmv1] [--sign] [--print-key]
  stdout: NEGOTIATE; stdin: CHALLENGE; stdout: AUTHENTICATE (then the exported session key in
  hex with --print-key), then exit 0.

--ntlmv1 sets impacket's use_ntlmv2=False: a 24-byte NTLMv1 (ESS) response, used as a
negative case. An empty --user and --password gives impacket's anonymous AUTHENTICATE.
"""
import argparse
import base64
import sys

from impacket import ntlm


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument('--user', default='')
    ap.add_argument('--password', default='')
    ap.add_argument('--domain', default='')
    ap.add_argument('--workstation', default='IMPACKET')
    ap.add_argument('--ntlmv1', action='store_true')
    ap.add_argument('--sign', action='store_true')
    ap.add_argument('--print-key', action='store_true', help='then print the exported session key (hex)')
    a = ap.parse_args()
    v2 = not a.ntlmv1
    negotiate = ntlm.getNTLMSSPType1(a.workstation, '', signingRequired=a.sign, use_ntlmv2=v2)
    print(base64.b64encode(negotiate.getData()).decode(), flush=True)
    line = sys.stdin.readline().strip()
    if not line:
        print('no CHALLENGE on stdin', file=sys.stderr)
        return 2
    authenticate, key = ntlm.getNTLMSSPType3(negotiate, base64.b64decode(line), a.user, a.password, a.domain, use_ntlmv2=v2)
    print(base64.b64encode(authenticate.getData()).decode(), flush=True)
    if a.print_key:
        print(key.hex(), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
