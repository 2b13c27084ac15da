#!/usr/bin/env bash
# Installs the Debian packages the tests drive as real peers (socat ptys, Samba, NTLM clients, ...).
#   scripts/install-test-deps.sh          install what is missing (needs root; runs apt-get update first)
#   scripts/install-test-deps.sh --check  list what is missing, exit 1 if anything is
# Under CI=true a tool that is still missing afterwards is a failure, never a silent skip.
set -euo pipefail

# "probe|debian package": a probe is a command name, a file path, or py:MODULE (Debian's /usr/bin/python3).
REQUIRED=(
  "socat|socat"
  "telnet|telnet"
  "curl|curl"
  "smbd|samba"
  "samba|samba-ad-dc"
  "samba-tool|samba-ad-provision"
  "ntlm_auth|winbind"
  "wbinfo|winbind"
  "smbclient|smbclient"
  "ldapsearch|ldap-utils"
  "kinit|krb5-user"
  "ip|iproute2"
  "py:impacket|python3-impacket"
  "py:ntlm_auth|python3-ntlm-auth"
  "py:Cryptodome|python3-pycryptodome"
  "py:gssapi|python3-gssapi"
  "/usr/lib/x86_64-linux-gnu/gssntlmssp/gssntlmssp.so|gss-ntlmssp"
  "chromium|chromium"
  "py:requests_ntlm|python3-requests-ntlm"
  "openssl|openssl"
  "debootstrap|debootstrap"
  "promtool|prometheus"
)

have() {
  local probe=$1
  case "$probe" in
    py:*) /usr/bin/python3 -c "import ${probe#py:}" >/dev/null 2>&1 ;;
    /*) [ -e "$probe" ] ;;
    *) command -v "$probe" >/dev/null 2>&1 || [ -x "/usr/sbin/$probe" ] || [ -x "/sbin/$probe" ] ;;
  esac
}

missing_pkgs() {
  local entry probe pkg out=()
  for entry in "${REQUIRED[@]}"; do
    probe=${entry%%|*}; pkg=${entry##*|}
    have "$probe" || out+=("$pkg")
  done
  [ ${#out[@]} -gt 0 ] && printf '%s\n' "${out[@]}" | sort -u
  return 0
}

missing=$(missing_pkgs)
if [ "${1:-}" = "--check" ]; then
  [ -z "$missing" ] && exit 0
  echo "missing test dependencies (Debian packages): $(echo $missing)" >&2
  exit 1
fi
[ -z "$missing" ] && { echo "test dependencies: all present"; exit 0; }

if [ "$(id -u)" != 0 ]; then
  echo "test dependencies missing: $(echo $missing); run as root: sudo $0" >&2
  exit 1
fi
echo "installing test dependencies: $(echo $missing)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q $missing
# With recommends: that is how these packages were installed and tested here.
still=$(missing_pkgs)
if [ -n "$still" ]; then
  echo "test dependencies still missing after install: $(echo $still)" >&2
  exit 1
fi
echo "test dependencies: installed"
