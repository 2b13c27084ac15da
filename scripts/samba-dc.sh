#!/usr/bin/env bash
# A throwaway Samba AD DC inside a network namespace, for rasgate's domain tests and bench.
#
#   scripts/samba-dc.sh start  [NAME]   provision (cached), start, wait, print KEY=VALUE lines
#   scripts/samba-dc.sh stop   [NAME]   kill everything, remove the namespace and the run tree
#   scripts/samba-dc.sh status [NAME]   exit 0 when running (and print the same lines)
#   scripts/samba-dc.sh exec   NAME CMD...  run CMD inside the DC's namespace and mount view
#
# NAME (default rasgate-dc) names the namespace and the run tree /tmp/NAME, so several test
# files can each have their own DC. Steps: Samba's samba-tool domain provision (source4/scripting), run in a namespace.
# Needs root, iproute2, samba, samba-ad-dc, winbind. Under CI=true nothing is skipped: a
# missing tool makes `start` fail.
set -euo pipefail

cmd=${1:-status}
name=${2:-rasgate-dc}
case "$name" in *[!a-zA-Z0-9_-]*|'') echo "samba-dc: bad name '$name'" >&2; exit 2 ;; esac

ns=$name
dir=/tmp/$name
here=$(cd "$(dirname "$0")" && pwd)
# The provisioned tree (with users) is cached per script version: provisioning takes ~10 s,
# copying it well under one.
stamp=$(cat "$0" "$here/fixtures/dc-users.sh" "$here/fixtures/dc-users.env" | md5sum | cut -c1-12)
cache=${RASGATE_DC_CACHE:-/tmp/rasgate-dc-cache}/$stamp
realm=EXAMPLE.TEST
domain=EXAMPLE
adminpass='Adm1n-Pass!'

need() {
  local t
  for t in "$@"; do
    if ! command -v "$t" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$t" ]; then
      echo "samba-dc: missing tool $t (run scripts/install-test-deps.sh as root)" >&2
      exit 3
    fi
  done
}

# Every process of the DC (and every client of its winbindd) runs in the namespace with the
# tree's run directory over /run/samba: libwbclient always looks there.
in_ns() {
  ip netns exec "$ns" sh -c 'mount --bind "$0/run" /run/samba && exec "$@"' "$1" "${@:2}"
}

info() {
  cat <<EOF
DC_NS=$ns
DC_DIR=$dir
DC_ADDRESS=127.0.0.1
DC_LDAP_URL=ldap://127.0.0.1:389
DC_REALM=$realm
DC_DOMAIN=$domain
DC_ADMIN_PASSWORD=$adminpass
DC_SMB_CONF=$dir/etc/smb.conf
EOF
  cat "$here/fixtures/dc-users.env"
}

provision() {
  local tmp=$cache.tmp.$$
  rm -rf "$tmp"; mkdir -p "$tmp"
  trap 'rm -rf "$tmp" "$tmp.log"' EXIT
  samba-tool domain provision --targetdir="$tmp" --realm=$realm --domain=$domain \
    --server-role=dc --dns-backend=NONE --host-name=dc1 --adminpass="$adminpass" \
    --option='interfaces = lo' --option='bind interfaces only = yes' >"$tmp.log" 2>&1 \
    || { cat "$tmp.log" >&2; exit 4; }
  # Keep every runtime path under the tree; only the services the tests need.
  sed -i "/^\[global\]/a\\
\\tpid directory = $tmp/run\\
\\twinbindd socket directory = $tmp/run/winbindd\\
\\tncalrpc dir = $tmp/run/ncalrpc\\
\\tserver services = s3fs, rpc, ldap, kdc, winbindd\\
\\tprefork children = 1\\
\\tlog level = 0" "$tmp/etc/smb.conf"
  mkdir -p "$tmp/run/winbindd" "$tmp/run/ncalrpc"
  SMBCONF="$tmp/etc/smb.conf" bash "$here/fixtures/dc-users.sh" >>"$tmp.log" 2>&1 \
    || { cat "$tmp.log" >&2; exit 5; }
  echo "$tmp" >"$tmp/.provisioned-at"
  rm -f "$tmp.log"
  mv -T "$tmp" "$cache" 2>/dev/null || rm -rf "$tmp"   # a concurrent provisioner won: use its tree
  trap - EXIT
  # Trees of older versions of this script and its fixtures are of no further use.
  find "$(dirname "$cache")" -mindepth 1 -maxdepth 1 -type d ! -name "$stamp*" -mmin +10 -exec rm -rf {} + 2>/dev/null || true
}

running() {
  ip netns pids "$ns" >/dev/null 2>&1 && [ -s "$dir/run/samba.pid" ] && kill -0 "$(cat "$dir/run/samba.pid")" 2>/dev/null
}

stop() {
  if ip netns list 2>/dev/null | grep -qw "^$ns"; then
    local pids
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -n "$pids" ] && kill $pids 2>/dev/null || true
    for _ in $(seq 50); do
      pids=$(ip netns pids "$ns" 2>/dev/null || true)
      [ -z "$pids" ] && break
      sleep 0.1
    done
    [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  fi
  rm -rf "$dir"
}

start() {
  need ip samba samba-tool wbinfo ntlm_auth
  [ "$(id -u)" = 0 ] || { echo "samba-dc: needs root (network namespace)" >&2; exit 3; }
  if running; then info; return 0; fi
  stop
  [ -d "$cache" ] || provision
  local from
  from=$(cat "$cache/.provisioned-at")
  cp -a "$cache" "$dir"
  # The tree was provisioned elsewhere: point its config at where it lives now.
  sed -i "s#$from#$dir#g" "$dir/etc/smb.conf"
  rm -f "$dir/run/"*.pid
  ip netns add "$ns"
  ip netns exec "$ns" ip link set lo up
  in_ns "$dir" samba -s "$dir/etc/smb.conf" -F --debug-stdout >"$dir/samba.log" 2>&1 &
  local ok=
  for _ in $(seq 300); do
    if ip netns exec "$ns" bash -c 'exec 3<>/dev/tcp/127.0.0.1/389' 2>/dev/null; then
      if in_ns "$dir" wbinfo -p >/dev/null 2>&1; then ok=1; break; fi
    fi
    sleep 0.1
  done
  if [ -z "$ok" ]; then
    echo "samba-dc: DC did not come up in 30 s; log follows" >&2
    tail -50 "$dir/samba.log" >&2
    stop
    exit 6
  fi
  info
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) if running; then info; else echo "samba-dc: $ns not running" >&2; exit 1; fi ;;
  exec) shift 2; in_ns "$dir" "$@" ;;
  *) echo "usage: $0 start|stop|status [NAME] | exec NAME CMD..." >&2; exit 2 ;;
esac
