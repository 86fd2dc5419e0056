#!/usr/bin/env bash
# HTTP proxy benchmark: `symbolon proxy server --mode http` against nginx (http module: ssl_verify_client on +
# proxy_pass + the client certificate in a header), same PKI, same backend, same load generator, one run; prints
# requests/s and latency for both and the ratios Symbolon / nginx. Goal (issue): rps ≥ 1.0× nginx, p99 ≤ nginx.
#
#   bench/http.sh [--rounds N] [--seconds S] [--warmup S] [--connections C] [--client-threads T]
#                 [--rate R] [--rate-rounds N] [--rate-seconds S]
#                 [--symbolon-log file|null] [--nginx-log off|file] [--with-tcp] [--no-perf] [--no-save]
#
# --rounds N          interleaved rounds; each round is one batch per server, the order flipping every round
#                     (default 6; medians are reported)
# --seconds S         measured seconds per batch (default 8), after --warmup S seconds of the same load (default 2)
# --connections C     kept-alive mTLS connections of the load generator (default 64), over --client-threads T
#                     threads (default 2)
# --rate R            then latency at a fixed R requests/s that both servers sustain (default 2000; 0 skips it):
#                     --rate-rounds N interleaved rounds (default 3) of --rate-seconds S (default 5) per server
# --symbolon-log      where Symbolon's stderr (one access-log line per request, one line per connection) goes:
#                     file (default: a file in the run's temporary directory, on the same disk as everything else)
#                     or null (/dev/null; the lines are still formatted and written)
# --nginx-log         nginx's access log: off (default, as the issue asks) or file (one line per request, same disk)
# --with-tcp          also run `symbolon proxy server` in tcp mode (bytes passed through, no HTTP parsing, no
#                     identity headers) as a third server in every round: how much of the cost is the HTTP layer
# --no-perf           skip the perf profile of Symbolon (an extra, unmeasured batch)
# --no-save           do not write the output to bench/results/http-run-<UTC date>-<time>.txt
# Environment: BENCH_SCRATCH (build directory, default /tmp/symbolon-bench-build), BENCH_HTTP_PKI (PKI cache,
#              default /tmp/symbolon-bench-http-pki, reused while valid for 2 more hours), BENCH_HTTP_PORT_BASE
#              (default 19200: backend +0, Symbolon +1, nginx +2, Symbolon tcp mode +3), BENCH_RESULTS (default
#              bench/results), BENCH_KEEP_LOGS=1 (keep the whole access logs; otherwise their first 2,000 lines).
#
# Load: every connection sends `GET /small HTTP/1.1` and waits for the whole response before the next one (closed
# loop, no pipelining); handshakes happen before anything is measured. Per batch: rps over the measured window,
# latency percentiles of the requests completed in it (request written → last response byte), errors, the server's
# CPU (utime+stime from /proc, nginx: master + workers) over exactly that window per 10k requests, and its RSS at the
# end of the window (64 connections open).
# Backend: a separate nginx (1 worker, plain HTTP on loopback, keep-alive, `return 200 "ok\n"`), the same for both.
# Both servers: 2 threads / worker processes, keep-alive to the backend, no per-connection request limit.
# Every process started here is stopped by PID on every exit path; every wait is bounded.
set -euo pipefail

cd "$(dirname "$0")/.."
repo="$(pwd)"
rounds=6
seconds=8
rate=2000
rate_rounds=3
rate_seconds=5
warmup=2
connections=64
client_threads=2
symbolon_log=file
nginx_log=off
do_perf=1
save=1
with_tcp=0
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds="${2:?}"; shift 2 ;;
        --seconds) seconds="${2:?}"; shift 2 ;;
        --warmup) warmup="${2:?}"; shift 2 ;;
        --connections) connections="${2:?}"; shift 2 ;;
        --rate) rate="${2:?}"; shift 2 ;;
        --rate-rounds) rate_rounds="${2:?}"; shift 2 ;;
        --rate-seconds) rate_seconds="${2:?}"; shift 2 ;;
        --client-threads) client_threads="${2:?}"; shift 2 ;;
        --symbolon-log) symbolon_log="${2:?}"; shift 2 ;;
        --nginx-log) nginx_log="${2:?}"; shift 2 ;;
        --with-tcp) with_tcp=1; shift ;;
        --no-perf) do_perf=0; shift ;;
        --no-save) save=0; shift ;;
        -h|--help) sed -n '2,37p' "$0"; exit 0 ;;
        *) echo "http.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
case "$symbolon_log" in file|null) ;; *) echo "http.sh: --symbolon-log is file or null" >&2; exit 2 ;; esac
case "$nginx_log" in off|file) ;; *) echo "http.sh: --nginx-log is off or file" >&2; exit 2 ;; esac
scratch="${BENCH_SCRATCH:-/tmp/symbolon-bench-build}"
pki="${BENCH_HTTP_PKI:-/tmp/symbolon-bench-http-pki}"
base="${BENCH_HTTP_PORT_BASE:-19200}"
results_dir="${BENCH_RESULTS:-$repo/bench/results}"
backend_port=$base
symbolon_port=$((base + 1))
nginx_port=$((base + 2))
tcp_port=$((base + 3))
servers=(symbolon nginx)
[ "$with_tcp" = 1 ] && servers+=(symbolon-tcp)

work="$(mktemp -d "${TMPDIR:-/tmp}/symbolon-bench-http.XXXXXX")"
if [ "$save" = 1 ]; then
    mkdir -p "$results_dir"
    saved="$results_dir/http-run-$(date -u +%Y-%m-%d-%H%M).txt"
    exec > >(tee "$saved") 2>&1
fi

say() { echo "== $*"; }
die() { echo "http.sh: $*" >&2; exit 1; }

# ---------------------------------------------------------------- processes: every one by PID, bounded waits
. bench/lib/processes.sh

# ---------------------------------------------------------------- tools
if ! command -v swift >/dev/null && [ -x /opt/swift/usr/bin/swift ]; then PATH="/opt/swift/usr/bin:$PATH"; fi
for tool in swift nginx openssl awk; do command -v "$tool" >/dev/null || die "$tool is not on PATH"; done
if [ "$do_perf" = 1 ] && ! perf --version >/dev/null 2>&1; then echo "   perf unavailable: no profile"; do_perf=0; fi
nginx_version=$(nginx -v 2>&1 | sed 's/.*nginx\///')
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# ---------------------------------------------------------------- build
say "building symbolon and symbolon-loadgen (release, scratch path $scratch)"
start=$(date +%s)
for product in symbolon symbolon-loadgen; do
    swift build -c release --product "$product" --scratch-path "$scratch" >"$work/build-$product.log" 2>&1 \
        || { tail -n 40 "$work/build-$product.log" >&2; die "build of $product failed (log: $work/build-$product.log)"; }
done
symbolon="$scratch/release/symbolon"
loadgen="$scratch/release/symbolon-loadgen"
commit="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- Sources || echo '+dirty')"
echo "   built in $(( $(date +%s) - start )) s; symbolon at commit $commit"
"$symbolon" proxy server --help 2>&1 | grep -q -- '--mode' || die "this symbolon has no proxy server --mode (HTTP mode)"

# ---------------------------------------------------------------- PKI (the real CLI), cached while valid
pki_valid() {
    [ -f "$pki/complete" ] || return 1
    local f
    for f in "$pki/server.pem" "$pki/client.pem"; do
        openssl x509 -in "$f" -noout -checkend 7200 >/dev/null 2>&1 || return 1
    done
}
if pki_valid; then
    say "PKI: reusing $pki (certificates valid for 2 h more)"
else
    say "PKI: symbolon ca init + 2 × symbolon ca issue into $pki"
    rm -rf "$pki"
    mkdir -p "$pki"
    echo "bench-http-passphrase" >"$pki/passphrase"
    "$symbolon" ca init --dir "$pki/ca" --name Bench --trust-domain bench.internal --dns-constraint localhost \
        --passphrase-file "$pki/passphrase" >"$work/pki.log" 2>&1 || { cat "$work/pki.log" >&2; die "ca init failed"; }
    "$symbolon" ca issue --dir "$pki/ca" --profile service --spiffe-id spiffe://bench.internal/proxy --dns localhost \
        --out-cert "$pki/server.pem" --out-key "$pki/server-key.pem" >>"$work/pki.log" 2>&1 \
        || { cat "$work/pki.log" >&2; die "issuing the server certificate failed"; }
    "$symbolon" ca issue --dir "$pki/ca" --profile service --spiffe-id spiffe://bench.internal/client/http \
        --out-cert "$pki/client.pem" --out-key "$pki/client-key.pem" >>"$work/pki.log" 2>&1 \
        || { cat "$work/pki.log" >&2; die "issuing the client certificate failed"; }
    touch "$pki/complete"
fi
root="$pki/ca/root.pem"
client_args=(--ca "$root" --cert "$pki/client.pem" --key "$pki/client-key.pem")

# ---------------------------------------------------------------- servers
for port in $backend_port $symbolon_port $nginx_port $tcp_port; do port_free "$port" || die "port $port is in use (set BENCH_HTTP_PORT_BASE)"; done

temp_paths() {  # nginx's temporary directories inside its prefix (the defaults under /var/lib/nginx may not exist)
    local d="$1" t
    for t in client_body proxy fastcgi uwsgi scgi; do echo "    ${t}_temp_path $d/$t;"; done
}

# The backend: its own nginx (1 worker), plain HTTP, keep-alive without a request limit. /small is the load;
# /headers shows which identity headers a proxy sent (checked once per server before the batches).
mkdir -p "$work/backend"
cat >"$work/backend/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
pid $work/backend/nginx.pid;
error_log $work/backend/error.log warn;
events { worker_connections 4096; }
http {
$(temp_paths "$work/backend")
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    server {
        listen 127.0.0.1:$backend_port;
        location = /small { default_type text/plain; return 200 "ok\n"; }
        location = /headers {
            default_type text/plain;
            return 200 "x-client-cert: \$http_x_client_cert\nx-client-verify: \$http_x_client_verify\nx-forwarded-client-cert: \$http_x_forwarded_client_cert\nclient-cert: \$http_client_cert\nclient-cert-chain: \$http_client_cert_chain\nx-client-spiffe-id: \$http_x_client_spiffe_id\nhost: \$http_host\n";
        }
    }
}
EOF
backend_pid=""
start_backend() {
    nginx -c "$work/backend/nginx.conf" -p "$work/backend" -e "$work/backend/error.log" 2>>"$work/backend/stderr.log" &
    backend_pid=$!
    started[$backend_pid]=backend
    wait_port "$backend_port" || die "the backend did not start (log: $work/backend/error.log)"
    local i
    for i in $(seq 50); do [ "$(pgrep -P "$backend_pid" | wc -l)" -ge 1 ] && return 0; sleep 0.1; done
    die "the backend nginx has no worker"
}

symbolon_pid=""
start_symbolon() {
    local log="$work/symbolon.log"
    [ "$symbolon_log" = null ] && log=/dev/null
    "$symbolon" proxy server --mode http --listen "127.0.0.1:$symbolon_port" --target "127.0.0.1:$backend_port" \
        --cert "$pki/server.pem" --key "$pki/server-key.pem" --ca "$root" \
        --allow-spiffe-id 'spiffe://bench.internal/client/**' --threads 2 --no-watch --log-format text \
        2>>"$log" &
    symbolon_pid=$!
    started[$symbolon_pid]=symbolon
    wait_port "$symbolon_port" || die "symbolon did not start (log: $work/symbolon.log)"
}

tcp_pid=""
start_tcp() {  # the same proxy in tcp mode (byte pipe); its log goes where the http mode's goes
    local log="$work/symbolon-tcp.log"
    [ "$symbolon_log" = null ] && log=/dev/null
    "$symbolon" proxy server --listen "127.0.0.1:$tcp_port" --target "127.0.0.1:$backend_port" \
        --cert "$pki/server.pem" --key "$pki/server-key.pem" --ca "$root" \
        --allow-spiffe-id 'spiffe://bench.internal/client/**' --threads 2 --no-watch --log-format text \
        2>>"$log" &
    tcp_pid=$!
    started[$tcp_pid]=symbolon-tcp
    wait_port "$tcp_port" || die "symbolon (tcp mode) did not start (log: $work/symbolon-tcp.log)"
}

if [ "$nginx_log" = file ]; then
    nginx_access="log_format req '\$remote_addr [\$time_iso8601] \"\$request\" \$status \$body_bytes_sent \"\$ssl_client_s_dn\" \$request_time';
    access_log $work/nginx/access.log req;"
else
    nginx_access="access_log off;"
fi
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 2;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
$(temp_paths "$work/nginx")
    $nginx_access
    upstream backend {
        server 127.0.0.1:$backend_port;
        keepalive 64;
        keepalive_requests 100000000;
        keepalive_timeout 300s;
    }
    server {
        listen 127.0.0.1:$nginx_port ssl;
        ssl_certificate $pki/server.pem;
        ssl_certificate_key $pki/server-key.pem;
        ssl_client_certificate $root;
        ssl_verify_client on;
        ssl_verify_depth 2;
        ssl_protocols TLSv1.3;
        keepalive_requests 100000000;
        keepalive_timeout 300s;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Client-Cert \$ssl_client_escaped_cert;
            proxy_set_header X-Client-Verify \$ssl_client_verify;
        }
    }
}
EOF
nginx_pid=""
start_nginx() {
    nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" -e "$work/nginx/error.log" 2>>"$work/nginx/stderr.log" &
    nginx_pid=$!
    started[$nginx_pid]=nginx
    wait_port "$nginx_port" || die "nginx did not start (log: $work/nginx/error.log)"
    local i
    for i in $(seq 50); do [ "$(pgrep -P "$nginx_pid" | wc -l)" -ge 2 ] && return 0; sleep 0.1; done
    die "nginx has no 2 workers"
}

server_port() {
    case "$1" in symbolon) echo "$symbolon_port" ;; nginx) echo "$nginx_port" ;; symbolon-tcp) echo "$tcp_port" ;; esac
}
pids_csv() {  # a server's processes: symbolon's one; nginx's master and workers
    if [ "$1" = symbolon ]; then echo "$symbolon_pid"
    elif [ "$1" = symbolon-tcp ]; then echo "$tcp_pid"
    elif [ "$1" = nginx ]; then echo "$nginx_pid $(pgrep -P "$nginx_pid" | tr '\n' ' ')" | xargs | tr ' ' ','
    else echo "$backend_pid $(pgrep -P "$backend_pid" | tr '\n' ' ')" | xargs | tr ' ' ','; fi
}

lg() {  # lg NAME LOADGEN-ARGS…: runs the load generator (bounded), keeps its output, prints its RESULT line
    local name="$1"
    shift
    if ! timeout 300 "$loadgen" "$@" >"$work/$name.log" 2>&1; then
        cat "$work/$name.log" >&2
        die "load generator failed: $*"
    fi
    grep '^RESULT ' "$work/$name.log"
}
field() { tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2 }'; }
results="$work/results.txt"
: >"$results"
record() { echo "$*" >>"$results"; }

say "host: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
start_backend
line=$(lg backend-alone http --port "$backend_port" --plain yes --connections "$connections" \
    --threads "$client_threads" --seconds 3 --warmup 1 --backend-pids "$(pids_csv backend)")
say "backend alone (plain HTTP, no proxy, 3 s): $(echo "$line" | field rps) rps, p99 $(echo "$line" | field p99_ms) ms, backend CPU $(echo "$line" | field backend_cpu_s) s of 3 s"

start_symbolon
start_nginx
[ "$with_tcp" = 1 ] && start_tcp
say "identity headers each proxy sent to the backend (GET /headers; value lengths in bytes)"
for server in symbolon nginx; do
    timeout 30 "$loadgen" http-get --port "$(server_port "$server")" "${client_args[@]}" --path /headers \
        >"$work/headers-$server.txt" 2>&1 || { cat "$work/headers-$server.txt" >&2; die "GET /headers through $server failed"; }
    head -n1 "$work/headers-$server.txt" | grep -q ' 200 ' || { cat "$work/headers-$server.txt" >&2; die "GET /headers through $server: not 200"; }
    echo "   $server: $(awk -F': ' '/^(x-client-cert|x-client-verify|x-forwarded-client-cert|client-cert|client-cert-chain|x-client-spiffe-id): / {
        v = substr($0, length($1) + 3); if (v != "") printf "%s %d B; ", $1, length(v) }' "$work/headers-$server.txt")"
done
grep -q '^x-client-cert: .\+' "$work/headers-nginx.txt" || die "nginx did not send X-Client-Cert"
grep -q '^client-cert: .\+' "$work/headers-symbolon.txt" || die "symbolon did not send Client-Cert"

# ---------------------------------------------------------------- the batches
say "$rounds rounds × ${#servers[@]} batches ($(echo "${servers[@]}" | sed 's/ /, /g')): $connections kept-alive mTLS connections ($client_threads client threads), GET /small, ${warmup} s warm-up + ${seconds} s measured per batch; the order turns every round"
batch() {  # batch SERVER ROUND
    local server="$1" round="$2" line
    line=$(lg "batch-$server-$round" http --port "$(server_port "$server")" "${client_args[@]}" --path /small \
        --connections "$connections" --threads "$client_threads" --seconds "$seconds" --warmup "$warmup" \
        --server-pids "$(pids_csv "$server")" --backend-pids "$(pids_csv backend)")
    local k
    for k in rps p50_ms p99_ms p999_ms server_cpu_ms_per_10k server_rss_kib; do record "$k $server $round $(echo "$line" | field "$k")"; done
    printf '   round %s %-12s %8s rps  p50 %6s  p99 %6s  p99.9 %6s  max %7s ms  errors %s+%s  min/100ms %5s rps  CPU %5s ms/10k  RSS %6s KiB  backend %s s  host busy %s\n' \
        "$round" "$server" "$(echo "$line" | field rps)" "$(echo "$line" | field p50_ms)" "$(echo "$line" | field p99_ms)" \
        "$(echo "$line" | field p999_ms)" "$(echo "$line" | field max_ms)" "$(echo "$line" | field errors)" \
        "$(echo "$line" | field bad_status)" "$(echo "$line" | field min_rps_100ms)" \
        "$(echo "$line" | field server_cpu_ms_per_10k)" "$(echo "$line" | field server_rss_kib)" \
        "$(echo "$line" | field backend_cpu_s)" "$(echo "$line" | field host_busy)"
    local errors closes
    errors=$(( $(echo "$line" | field errors) + $(echo "$line" | field bad_status) ))
    closes=$(echo "$line" | field server_closes)
    if [ "$errors" != 0 ] || [ "$closes" != 0 ]; then
        echo "     $server: $errors errors, $closes server closes: $(grep -E '^first' "$work/batch-$server-$round.log" | tr '\n' ' ')"
    fi
}
for round in $(seq "$rounds"); do
    # Round r starts with server (r-1) mod n and goes on in turn; with two servers: S N, N S, S N …
    n=${#servers[@]}
    for i in $(seq 0 $((n - 1))); do batch "${servers[$(( (round - 1 + i) % n ))]}" "$round"; done
done

# ---------------------------------------------------------------- latency at a fixed rate
if [ "$rate" != 0 ]; then
    say "latency at a fixed $rate requests/s over the same $connections connections (each sends every $connections/$rate s); $rate_rounds rounds × ${#servers[@]}, ${warmup} s warm-up + ${rate_seconds} s measured"
    for round in $(seq "$rate_rounds"); do
        n=${#servers[@]}
        for i in $(seq 0 $((n - 1))); do
            server="${servers[$(( (round - 1 + i) % n ))]}"
            line=$(lg "rate-$server-$round" http --port "$(server_port "$server")" "${client_args[@]}" --path /small \
                --connections "$connections" --threads "$client_threads" --seconds "$rate_seconds" --warmup "$warmup" \
                --rate "$rate" --server-pids "$(pids_csv "$server")" --backend-pids "$(pids_csv backend)")
            for k in p50_ms p99_ms p999_ms server_cpu_ms_per_10k; do record "fixed_$k $server $round $(echo "$line" | field "$k")"; done
            printf '   round %s %-12s %8s rps  p50 %6s  p99 %6s  p99.9 %6s  max %7s ms  late %s  errors %s+%s  CPU %5s ms/10k  host busy %s\n' \
                "$round" "$server" "$(echo "$line" | field rps)" "$(echo "$line" | field p50_ms)" "$(echo "$line" | field p99_ms)" \
                "$(echo "$line" | field p999_ms)" "$(echo "$line" | field max_ms)" "$(echo "$line" | field late)" \
                "$(echo "$line" | field errors)" "$(echo "$line" | field bad_status)" \
                "$(echo "$line" | field server_cpu_ms_per_10k)" "$(echo "$line" | field host_busy)"
        done
    done
fi

# ---------------------------------------------------------------- perf profile of Symbolon (an extra batch)
trim() { awk -v max="$2" '!/^#/ && NF && n++ < max { sub(/ *- *- *$/, ""); sub(/ +$/, ""); print }' "$1"; }
if [ "$do_perf" = 1 ]; then
    out="$results_dir/perf-symbolon-http.txt"
    say "perf profile of symbolon during an extra batch (not counted): $out"
    perf_seconds=5
    "$loadgen" http --port "$symbolon_port" "${client_args[@]}" --path /small --connections "$connections" \
        --threads "$client_threads" --seconds "$((perf_seconds + 2))" --warmup "$warmup" >"$work/perf-load.log" 2>&1 &
    load_pid=$!
    started[$load_pid]=perf-load
    sleep "$((warmup + 1))"
    if timeout 60 perf record -F 999 -g -p "$symbolon_pid" -o "$work/perf.data" -- sleep "$perf_seconds" >"$work/perf-record.log" 2>&1; then
        for i in $(seq 300); do kill -0 "$load_pid" 2>/dev/null || break; sleep 0.1; done
        perf report -i "$work/perf.data" --stdio --no-children -g none --sort dso >"$work/perf-dso.txt" 2>/dev/null || true
        perf report -i "$work/perf.data" --stdio --no-children -g none --sort dso,symbol >"$work/perf-symbols.txt" 2>/dev/null || true
        perf report -i "$work/perf.data" --stdio --children -g none --sort symbol >"$work/perf-children.txt" 2>/dev/null || true
        mkdir -p "$results_dir"
        {
            echo "# perf profile of symbolon proxy server --mode http --threads 2: $connections kept-alive mTLS connections,"
            echo "# GET /small in a closed loop; $(date -u '+%Y-%m-%d %H:%M UTC'), symbolon at $commit"
            echo "# perf record -F 999 -g -p PID -- sleep $perf_seconds, during: $(grep '^RESULT' "$work/perf-load.log" || echo 'load still running')"
            echo "# $(grep -m1 'samples' "$work/perf-symbols.txt" || true)"
            echo
            echo "## self time by shared object (perf report --no-children --sort dso)"
            trim "$work/perf-dso.txt" 15
            echo
            echo "## top 50 symbols, self time (perf report --no-children --sort dso,symbol)"
            trim "$work/perf-symbols.txt" 50
            echo
            echo "## top 50 symbols including callees (perf report --children --sort symbol)"
            trim "$work/perf-children.txt" 50
            echo
            echo "## Symbolon's own frames (Swift), including callees, top 50 (lower bounds: GnuTLS, nettle and GMP"
            echo "## have no frame pointers, so chains through them are cut)"
            grep -E '\] \$s' "$work/perf-children.txt" | trim /dev/stdin 50 || true
        } >"$work/perf-report.txt"
        # Swift symbols demangled (simplified) when the toolchain's swift-demangle is there.
        demangle="$(dirname "$(command -v swift)")/swift-demangle"
        if [ -x "$demangle" ]; then "$demangle" --simplified <"$work/perf-report.txt" >"$out"; else cp "$work/perf-report.txt" "$out"; fi
        echo "   during: $(grep '^RESULT' "$work/perf-load.log" | field rps) rps; top shared objects (self):"
        trim "$work/perf-dso.txt" 8 | sed 's/^/     /'
    else
        echo "   perf record failed: $(tail -n 3 "$work/perf-record.log")"
    fi
    stop_pid "$load_pid"
fi

stop_pid "$symbolon_pid"
stop_pid "$nginx_pid"
[ -n "$tcp_pid" ] && stop_pid "$tcp_pid"
stop_pid "$backend_pid"

# ---------------------------------------------------------------- logs and table
echo ""
if [ "$symbolon_log" = file ]; then
    requests=$(grep -c ' request ' "$work/symbolon.log" || true)
    not200=$(grep ' request ' "$work/symbolon.log" | grep -vc ' status=200 ' || true)
    other=$(grep -v ' request ' "$work/symbolon.log" | grep -v ' conn ' | grep -vE 'listening|stopp|draining|ready|start' | head -5 || true)
    echo "symbolon log ($work/symbolon.log, $(du -h "$work/symbolon.log" | cut -f1)): $requests request lines, $not200 not status=200, $(grep -c ' conn ' "$work/symbolon.log" || true) connection lines"
    [ -n "$other" ] && { echo "other lines in the symbolon log (first 5):"; echo "$other" | sed 's/^/   /'; }
fi
[ "$nginx_log" = file ] && echo "nginx access log: $(wc -l <"$work/nginx/access.log") lines"
if [ -z "${BENCH_KEEP_LOGS:-}" ]; then  # ~100 MB of access log per run: keep the first 2,000 lines of each
    for f in "$work/symbolon.log" "$work/symbolon-tcp.log" "$work/nginx/access.log"; do
        [ -f "$f" ] && { head -n 2000 "$f" >"$f.head"; rm -f "$f"; }
    done
fi
[ -s "$work/nginx/error.log" ] && { echo "nginx error log (last 5 lines):"; tail -n 5 "$work/nginx/error.log" | sed 's/^/   /'; }
echo "load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores, shared)"
echo "symbolon $commit --mode http --threads 2 (stderr: $([ "$symbolon_log" = file ] && echo 'a file on the same disk' || echo /dev/null));" \
     "nginx $nginx_version worker_processes 2 (access_log $nginx_log); backend nginx 1 worker"
echo ""
awk -v tcp="$with_tcp" -v rate="$rate" -v conns="$connections" '
    { v[$1, $2] = v[$1, $2] " " $4; r[$1, $2, $3] = $4; if (!($3 in seen)) { seen[$3] = 1; order[++nr] = $3 } }
    function sortlist(list, a,   k, i, j, t) {
        k = split(list, a, " ")
        for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
        return k
    }
    function med(list,   a, k) { k = sortlist(list, a); if (k == 0) return ""; return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2 }
    function range(list,   a, k) { k = sortlist(list, a); return (k > 1) ? sprintf("%s–%s", fmt(a[1]), fmt(a[k])) : "" }
    function fmt(x) { return (x + 0 >= 1000) ? sprintf("%.0f", x) : (x + 0 >= 100) ? sprintf("%.1f", x) : sprintf("%.3f", x) }
    function perround(key, server,   i, list) {
        for (i = 1; i <= nr; i++) if (r[key, "nginx", order[i]] > 0)
            list = list " " sprintf("%.2f", r[key, server, order[i]] / r[key, "nginx", order[i]])
        return list
    }
    function row(label, key, goal,   s, g, t, list) {
        s = med(v[key, "symbolon"]); g = med(v[key, "nginx"]); t = med(v[key, "symbolon-tcp"])
        list = perround(key, "symbolon")
        printf "%-30s %10s %10s %7.2f %8.2f  %s\n", label, fmt(s), fmt(g), (g > 0 ? s / g : 0), med(list), goal
        printf "%-30s symbolon %s, nginx %s; S/N per round:%s\n", "", range(v[key, "symbolon"]), range(v[key, "nginx"]), list
        if (tcp) printf "%-30s tcp mode: %s (T/N %.2f; per round:%s)\n", "", fmt(t), (g > 0 ? t / g : 0), perround(key, "symbolon-tcp")
    }
    END {
        printf "%-30s %10s %10s %7s %8s  %s\n", "metric (median of rounds)", "symbolon", "nginx", "S/N", "S/N rnd", "goal"
        printf "closed loop, %s connections:\n", conns
        row("  requests/s", "rps", "S/N ≥ 1.0")
        row("  p50 latency (ms)", "p50_ms", "")
        row("  p99 latency (ms)", "p99_ms", "S/N ≤ 1.0")
        row("  p99.9 latency (ms)", "p999_ms", "")
        row("  server CPU per 10k req (ms)", "server_cpu_ms_per_10k", "")
        row("  server RSS (KiB)", "server_rss_kib", "")
        if (("fixed_p99_ms", "nginx") in v) {
            printf "at a fixed %s requests/s:\n", rate
            row("  p50 latency (ms)", "fixed_p50_ms", "")
            row("  p99 latency (ms)", "fixed_p99_ms", "S/N ≤ 1.0")
            row("  p99.9 latency (ms)", "fixed_p999_ms", "")
            row("  server CPU per 10k req (ms)", "fixed_server_cpu_ms_per_10k", "")
        }
        printf "\nS/N = median(symbolon) / median(nginx); S/N rnd = median over rounds of the ratio within each round\n"
        printf "(the batches of a round ran back to back, so that ratio sees the same state of this shared host).\n"
        if (tcp) printf "tcp mode = symbolon proxy server without --mode http (byte pipe: no parsing, no identity headers).\n"
    }
' "$results"
echo ""
echo "(logs: $work)"
[ "$save" = 1 ] && echo "(this output: ${saved#"$repo/"})"
exit 0
