#!/bin/sh
# Installs the Debian packages Symbolon needs, only those that are missing.
#   build:  libssl-dev (OpenSSL 3: X.509, CA, CRL, PKCS#12), libgnutls28-dev (GnuTLS: the TLS handshake), libsqlite3-dev
#   tests:  openssl, sqlite3, libnss3-tools (pk12util/certutil, the NSS store Firefox and Chromium use), e2fsprogs (chattr),
#           curl and python3 (real TLS clients for the proxy tests)
set -eu
need=""
for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        need="$need $pkg"
    fi
done
[ -z "$need" ] && exit 0
echo "installing Debian packages:$need" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "error: need root or sudo to install:$need" >&2; exit 1; }
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq $need >&2
