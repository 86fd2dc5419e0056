#!/bin/sh
# The quickstart: builds symbolon, creates a private CA, issues a service (workload) certificate and a user
# certificate, shows them verified by symbolon and by openssl, revokes one and shows the CRL refusing it,
# and packages the user certificate for a browser. Everything goes into ./quickstart-out (recreated each run).
set -eu
cd "$(dirname "$0")/.."
command -v swift >/dev/null 2>&1 || { echo "error: the Swift 6 toolchain is not on PATH (try /opt/swift/usr/bin)" >&2; exit 1; }
scripts/install-deps.sh libssl-dev libsqlite3-dev openssl sqlite3

echo "== building symbolon"
swift build --product symbolon 2>&1 | tail -1
BIN="$(swift build --show-bin-path)/symbolon"
OUT=./quickstart-out
rm -rf "$OUT"
mkdir -p "$OUT"
# Demo passphrases only; in production put them in a file readable by the CA operator alone.
printf 'quickstart-root-passphrase\n' > "$OUT/root-passphrase"
printf 'quickstart-p12-passphrase\n' > "$OUT/p12-passphrase"
chmod 600 "$OUT/root-passphrase" "$OUT/p12-passphrase"
run() { echo "\$ symbolon $*"; "$BIN" "$@"; echo; }

echo "== 1. a private CA for trust domain acme.internal"
run ca init --dir "$OUT/ca" --name "Acme" --trust-domain acme.internal --dns-constraint acme.internal \
    --passphrase-file "$OUT/root-passphrase"

echo "== 2. a service certificate (SPIFFE ID, 24h) and a user certificate (e-mail, 90d)"
run ca issue --dir "$OUT/ca" --profile service --spiffe-id spiffe://acme.internal/ns/payments/sa/api \
    --out-cert "$OUT/api.pem" --out-key "$OUT/api-key.pem"
run ca issue --dir "$OUT/ca" --profile user --cn "Alice Smith" --email alice@acme.com \
    --out-cert "$OUT/alice.pem" --out-key "$OUT/alice-key.pem"
run cert inspect "$OUT/api.pem"

echo "== 3. verified: by symbolon (as a TLS client certificate) and by openssl"
run cert verify --roots "$OUT/ca/root.pem" --leaf "$OUT/api.pem" --purpose client \
    --uri spiffe://acme.internal/ns/payments/sa/api
run cert verify --roots "$OUT/ca/root.pem" --leaf "$OUT/alice.pem" --purpose client --email alice@acme.com
echo "\$ openssl verify -x509_strict -purpose sslclient -CAfile root.pem -untrusted intermediate.pem …"
openssl verify -x509_strict -purpose sslclient -CAfile "$OUT/ca/root.pem" -untrusted "$OUT/ca/intermediate.pem" \
    "$OUT/api.pem" "$OUT/alice.pem"
echo

echo "== 4. refused: a SPIFFE ID outside the trust domain (the CA says why)"
if "$BIN" ca issue --dir "$OUT/ca" --profile service --spiffe-id spiffe://evil.example/x \
    --out-cert "$OUT/evil.pem" --out-key "$OUT/evil-key.pem"; then
    echo "error: the CA issued outside its trust domain" >&2; exit 1
fi
echo

echo "== 5. revoke the service certificate and publish CRLs (intermediate and root)"
run ca revoke --dir "$OUT/ca" --cert "$OUT/api.pem" --reason keyCompromise
run ca crl --dir "$OUT/ca" --out "$OUT/intermediate.crl.pem"
run ca crl --dir "$OUT/ca" --issuer root --out "$OUT/root.crl.pem" --passphrase-file "$OUT/root-passphrase"
echo "\$ symbolon cert verify … --crls intermediate.crl.pem --crls root.crl.pem   (exit 1 expected: revoked)"
if "$BIN" cert verify --roots "$OUT/ca/root.pem" --leaf "$OUT/api.pem" \
    --crls "$OUT/intermediate.crl.pem" --crls "$OUT/root.crl.pem"; then
    echo "error: a revoked certificate was accepted" >&2; exit 1
fi
run cert verify --roots "$OUT/ca/root.pem" --leaf "$OUT/alice.pem" \
    --crls "$OUT/intermediate.crl.pem" --crls "$OUT/root.crl.pem"

echo "== 6. the user certificate as PKCS#12 for a browser"
run export p12 --cert "$OUT/alice.pem" --key "$OUT/alice-key.pem" --name "Alice Smith" \
    --out "$OUT/alice.p12" --passphrase-file "$OUT/p12-passphrase"

echo "== 7. the inventory"
run ca list --dir "$OUT/ca"
echo "quickstart done: everything is in $OUT"
