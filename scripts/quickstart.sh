#!/bin/sh
# The quickstart: builds symbolon, creates a private CA, issues a service (workload) certificate and a user
# certificate, shows them verified by symbolon and by openssl, revokes one and shows the CRL refusing it,
# packages the user certificate for a browser, then runs the main job end to end: `symbolon proxy server` in
# front of a backend, one client allowed, one refused for lack of a certificate, one refused by policy, with the
# proxy's log lines saying why; then `--mode http`: the backend gets the verified identity in headers (a forged one is
# removed) and a per-route policy refuses a call with 403. Everything goes into ./quickstart-out (recreated each run).
set -eu
cd "$(dirname "$0")/.."
command -v swift >/dev/null 2>&1 || { echo "error: the Swift 6 toolchain is not on PATH (try /opt/swift/usr/bin)" >&2; exit 1; }
scripts/install-deps.sh libssl-dev libgnutls28-dev libsqlite3-dev openssl sqlite3 curl python3

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
    --dns-constraint localhost \
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

echo "== 7. the mTLS proxy in front of a backend"
run ca issue --dir "$OUT/ca" --profile server --dns localhost --out-cert "$OUT/proxy.pem" --out-key "$OUT/proxy-key.pem"
run ca issue --dir "$OUT/ca" --profile service --spiffe-id spiffe://acme.internal/ns/payments/sa/checkout \
    --out-cert "$OUT/checkout.pem" --out-key "$OUT/checkout-key.pem"
run ca issue --dir "$OUT/ca" --profile service --spiffe-id spiffe://acme.internal/ns/web/sa/frontend \
    --out-cert "$OUT/frontend.pem" --out-key "$OUT/frontend-key.pem"
mkdir -p "$OUT/www"
echo "hello from the backend" > "$OUT/www/index.html"
BACKEND_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$BACKEND_PORT" --bind 127.0.0.1 --directory "$OUT/www" >"$OUT/backend.log" 2>&1 &
BACKEND_PID=$!
for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$BACKEND_PORT/" && break
    sleep 0.1
done
echo "\$ symbolon proxy server --listen 127.0.0.1:0 --target 127.0.0.1:$BACKEND_PORT --cert proxy.pem --key proxy-key.pem \\"
echo "      --ca root.pem --crl intermediate.crl.pem --crl root.crl.pem --allow-spiffe-id 'spiffe://acme.internal/ns/payments/**'"
"$BIN" proxy server --listen 127.0.0.1:0 --target "127.0.0.1:$BACKEND_PORT" --cert "$OUT/proxy.pem" \
    --key "$OUT/proxy-key.pem" --ca "$OUT/ca/root.pem" --crl "$OUT/intermediate.crl.pem" --crl "$OUT/root.crl.pem" \
    --allow-spiffe-id 'spiffe://acme.internal/ns/payments/**' 2>"$OUT/proxy.log" &
PROXY_PID=$!
trap 'kill "$PROXY_PID" "$BACKEND_PID" 2>/dev/null || true' EXIT
PORT=""
for _ in $(seq 1 100); do
    PORT=$(sed -n 's/.*listening proxy server on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$OUT/proxy.log" | head -1)
    [ -n "$PORT" ] && break
    sleep 0.1
done
[ -n "$PORT" ] || { echo "error: the proxy did not start:" >&2; cat "$OUT/proxy.log" >&2; exit 1; }
URL="https://localhost:$PORT/"
echo
echo "\$ curl --cacert root.pem --cert checkout.pem --key checkout-key.pem $URL   (allowed)"
curl -sS --cacert "$OUT/ca/root.pem" --cert "$OUT/checkout.pem" --key "$OUT/checkout-key.pem" "$URL"
echo "\$ curl --cacert root.pem $URL   (refused: no client certificate)"
if curl -sS --cacert "$OUT/ca/root.pem" "$URL"; then echo "error: a client without a certificate got in" >&2; exit 1; fi
echo "\$ curl --cacert root.pem --cert frontend.pem --key frontend-key.pem $URL   (refused by policy)"
if curl -sS --cacert "$OUT/ca/root.pem" --cert "$OUT/frontend.pem" --key "$OUT/frontend-key.pem" "$URL"; then
    echo "error: a client outside the policy got in" >&2; exit 1
fi
sleep 0.3
echo
echo "the proxy's log (one line per connection, with the reason):"
cat "$OUT/proxy.log"
kill -TERM "$PROXY_PID"
wait "$PROXY_PID" || true
echo

echo "== 8. HTTP at the edge: the backend learns who called, and cannot be lied to"
cat > "$OUT/echo_headers.py" <<'PY'
# A backend that answers with the identity headers it received.
import http.server, sys
class Echo(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        seen = [f"{k}: {v[:72]}" for k, v in self.headers.items() if k.lower() in
                ("x-client-spiffe-id", "x-forwarded-client-cert", "client-cert")]
        body = ("backend saw:\n  " + "\n  ".join(seen) + "\n").encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Echo).serve_forever()
PY
cat > "$OUT/routes.json" <<'JSON'
{ "routes": [
  { "name": "orders-read", "methods": ["GET"], "path": "/orders", "allow": [ { "spiffeId": "spiffe://acme.internal/ns/payments/**" } ] },
  { "name": "refunds", "methods": ["POST"], "pathPrefix": "/refunds", "allow": [ { "ou": "finance" } ] }
] }
JSON
ECHO_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 "$OUT/echo_headers.py" "$ECHO_PORT" &
ECHO_PID=$!
for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$ECHO_PORT/" && break
    sleep 0.1
done
echo "\$ symbolon proxy server --mode http --routes routes.json --listen 127.0.0.1:0 --target 127.0.0.1:$ECHO_PORT … \\"
echo "      --allow-spiffe-id 'spiffe://acme.internal/**'"
"$BIN" proxy server --mode http --routes "$OUT/routes.json" --listen 127.0.0.1:0 --target "127.0.0.1:$ECHO_PORT" \
    --cert "$OUT/proxy.pem" --key "$OUT/proxy-key.pem" --ca "$OUT/ca/root.pem" --crl "$OUT/intermediate.crl.pem" \
    --crl "$OUT/root.crl.pem" --allow-spiffe-id 'spiffe://acme.internal/**' 2>"$OUT/http-proxy.log" &
HTTP_PROXY_PID=$!
trap 'kill "$HTTP_PROXY_PID" "$ECHO_PID" "$BACKEND_PID" 2>/dev/null || true' EXIT
PORT=""
for _ in $(seq 1 100); do
    PORT=$(sed -n 's/.*listening proxy server on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$OUT/http-proxy.log" | head -1)
    [ -n "$PORT" ] && break
    sleep 0.1
done
[ -n "$PORT" ] || { echo "error: the proxy did not start:" >&2; cat "$OUT/http-proxy.log" >&2; exit 1; }
echo
echo "\$ curl --cert checkout.pem … -H 'X-Client-SPIFFE-ID: spiffe://acme.internal/ns/admin' https://localhost:$PORT/orders"
echo "  (a forged identity header: the proxy removes it and sets the verified one)"
SEEN=$(curl -sS --cacert "$OUT/ca/root.pem" --cert "$OUT/checkout.pem" --key "$OUT/checkout-key.pem" \
    -H 'X-Client-SPIFFE-ID: spiffe://acme.internal/ns/admin' "https://localhost:$PORT/orders")
echo "$SEEN"
case "$SEEN" in *ns/admin*) echo "error: the forged header reached the backend" >&2; exit 1 ;; esac
echo "\$ curl --cert checkout.pem … -X POST https://localhost:$PORT/refunds/7   (refused by the route policy: 403)"
STATUS=$(curl -sS -o "$OUT/refused.txt" -w '%{http_code}' --cacert "$OUT/ca/root.pem" --cert "$OUT/checkout.pem" \
    --key "$OUT/checkout-key.pem" -X POST "https://localhost:$PORT/refunds/7")
echo "$STATUS $(cat "$OUT/refused.txt")"
[ "$STATUS" = 403 ] || { echo "error: expected 403, got $STATUS" >&2; exit 1; }
sleep 0.3
echo
echo "the proxy's access log (one line per request, with the route and the reason):"
grep ' request ' "$OUT/http-proxy.log"
kill -TERM "$HTTP_PROXY_PID"
wait "$HTTP_PROXY_PID" || true
kill "$ECHO_PID" 2>/dev/null || true
echo

echo "== 9. the inventory"
run ca list --dir "$OUT/ca"
echo "quickstart done: everything is in $OUT"
