#!/bin/sh
# Runs every test: unit tests and end-to-end tests against the real binary, openssl, pk12util, sqlite3, curl and
# Python's ssl module.
# Usage: scripts/test.sh [extra swift test arguments, e.g. --filter EndToEndTests]
set -eu
cd "$(dirname "$0")/.."
command -v swift >/dev/null 2>&1 || { echo "error: the Swift 6 toolchain is not on PATH (try /opt/swift/usr/bin)" >&2; exit 1; }
scripts/install-deps.sh libssl-dev libgnutls28-dev libsqlite3-dev openssl sqlite3 libnss3-tools e2fsprogs curl python3 python3-requests python3-jwt python3-cryptography
swift build --build-tests
swift test --skip-build "$@"
