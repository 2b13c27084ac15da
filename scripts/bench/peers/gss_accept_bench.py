#!/usr/bin/python3
"""gss-ntlmssp's acceptor (C) through python3-gssapi, timed like rasgate's: full NTLM handshakes
per CPU-second of the acceptor's own steps (accept_sec_context on NEGOTIATE, then on
AUTHENTICATE, then the context dropped). The client tokens come from gss-ntlmssp's initiator
in the same process (acquire_cred_with_password); their building is not timed.

  NTLM_USER_FILE=users gss_accept_bench.py --user U --password P --domain D [--seconds S]
  stdout: one JSON line {"handshakes": N, "cpuSeconds": T, "perSecond": N/T}
"""
import argparse
import json
import sys
import time

import gssapi
import gssapi.raw as gb

NTLM = gssapi.OID.from_int_seq('1.3.6.1.4.1.311.2.2.10')


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument('--user', required=True)
    ap.add_argument('--password', required=True)
    ap.add_argument('--domain', default='')
    ap.add_argument('--seconds', type=float, default=1.0, help='CPU seconds of acceptor steps to measure')
    a = ap.parse_args()
    name = gssapi.Name(f'{a.domain}\\{a.user}' if a.domain else a.user, gssapi.NameType.user)
    client_creds = gb.acquire_cred_with_password(name, a.password.encode(), usage='initiate', mechs=[NTLM]).creds
    target = gssapi.Name('host@rasgate', gssapi.NameType.hostbased_service)
    server_creds = gssapi.Credentials(usage='accept', mechs=[NTLM])

    def handshake(timed: list) -> None:
        client = gssapi.SecurityContext(name=target, creds=client_creds, mech=NTLM, usage='initiate')
        negotiate = client.step()
        t0 = time.process_time()
        server = gssapi.SecurityContext(creds=server_creds, usage='accept')
        challenge = server.step(negotiate)
        t1 = time.process_time()
        authenticate = client.step(challenge)
        t2 = time.process_time()
        server.step(authenticate)
        if not server.complete:
            raise SystemExit('gss-ntlmssp did not complete the handshake')
        del server
        t3 = time.process_time()
        timed[0] += (t1 - t0) + (t3 - t2)

    for _ in range(200):
        handshake([0.0])
    timed = [0.0]
    n = 0
    while timed[0] < a.seconds:
        handshake(timed)
        n += 1
    print(json.dumps({'handshakes': n, 'cpuSeconds': timed[0], 'perSecond': n / timed[0]}), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
