#!/usr/bin/env bash
# Proxy benchmark: `symbolon proxy server` against nginx (stream module, TLS termination + proxy_pass), same PKI,
# same backend, same load generator, one run; prints each metric for both and the ratio Symbolon / nginx.
#
#   bench/proxy.sh [--rounds N] [--warm-count N] [--hold N] [--no-perf] [--no-install]
#
# --rounds N      interleaved rounds of the handshake-CPU metric (default 3; the median is reported)
# --warm-count N  warm handshakes per server and round (default 3000, in 6 batches; the cold part of a round is
#                 always the 2,000 client certificates, each once, in 4 batches of 500)
# --hold N        idle connections for the memory metric (default: 10,000, or fewer if RLIMIT_NOFILE's hard
#                 limit does not allow 2 descriptors per connection in Symbolon's single process)
# --no-perf       skip the perf profile of Symbolon in the warm-handshake case
# --no-install    do not apt-get install missing packages (nginx, libnginx-mod-stream, linux-perf)
# Environment: BENCH_SCRATCH (build directory, default /tmp/symbolon-bench-build), BENCH_PKI (PKI cache, default
#              /tmp/symbolon-bench-proxy-pki; reused while its certificates are valid for 2 more hours),
#              BENCH_PORT_BASE (default 19100: backend +0, Symbolon +1, nginx +2), BENCH_RESULTS (where the perf
#              report is written, default bench/results).
#
# Metrics (bench/README.md, "Proxy vs nginx"):
#  1. server CPU (utime+stime from /proc; nginx: master + workers) per full TLS 1.3 mTLS handshake:
#     warm = one client certificate reconnecting; cold = 2,000 distinct client certificates, each used once,
#     on freshly started servers. Batches of 500 alternate between the servers; one is loaded at a time.
#  2. p50/p99 latency of a 64-byte echo at 200/s for 10 s: on kept-alive connections, and with a new
#     connection (connect + full handshake + echo + close) per request.
#  3. MiB/s of a 100 MiB download through the proxy (median of 5, alternating), and server CPU per 100 MiB.
#  4. RSS per idle connection: (RSS with N open, handshaken, idle connections − RSS before) / N.
# Both servers: 2 worker threads/processes, one log line per connection to a file (nginx: stream access_log).
# Every process started here is stopped by PID on every exit path; every wait is bounded.
set -euo pipefail

cd "$(dirname "$0")/.."
repo="$(pwd)"
rounds=3
warm_count=3000
hold=""
do_perf=1
install=1
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds="${2:?}"; shift 2 ;;
        --warm-count) warm_count="${2:?}"; shift 2 ;;
        --hold) hold="${2:?}"; shift 2 ;;
        --no-perf) do_perf=0; shift ;;
        --no-install) install=0; shift ;;
        -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
        *) echo "proxy.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
scratch="${BENCH_SCRATCH:-/tmp/symbolon-bench-build}"
pki="${BENCH_PKI:-/tmp/symbolon-bench-proxy-pki}"
base="${BENCH_PORT_BASE:-19100}"
results_dir="${BENCH_RESULTS:-$repo/bench/results}"
backend_port=$base
symbolon_port=$((base + 1))
nginx_port=$((base + 2))
client_certs=2000
hz=$(getconf CLK_TCK)

say() { echo "== $*"; }
die() { echo "proxy.sh: $*" >&2; exit 1; }

# ---------------------------------------------------------------- processes: every one by PID, bounded waits
work="$(mktemp -d "${TMPDIR:-/tmp}/symbolon-bench-proxy.XXXXXX")"
. bench/lib/processes.sh

# ---------------------------------------------------------------- tools
if ! command -v swift >/dev/null && [ -x /opt/swift/usr/bin/swift ]; then PATH="/opt/swift/usr/bin:$PATH"; fi
missing=()
command -v nginx >/dev/null || missing+=(nginx)
[ -e /usr/lib/nginx/modules/ngx_stream_module.so ] || missing+=(libnginx-mod-stream)
if [ "$do_perf" = 1 ] && ! perf --version >/dev/null 2>&1; then missing+=(linux-perf); fi
if [ ${#missing[@]} -gt 0 ]; then
    [ "$install" = 1 ] || die "missing packages: ${missing[*]} (run without --no-install, or install them)"
    say "installing ${missing[*]}"
    timeout 300 apt-get update >"$work/apt.log" 2>&1 || { tail "$work/apt.log" >&2; die "apt-get update failed"; }
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y "${missing[@]}" >>"$work/apt.log" 2>&1 \
        || { tail "$work/apt.log" >&2; die "apt-get install ${missing[*]} failed"; }
fi
for tool in swift python3 nginx openssl awk; do command -v "$tool" >/dev/null || die "$tool is not on PATH"; done
[ "$do_perf" = 1 ] && ! perf --version >/dev/null 2>&1 && { echo "   perf unavailable: no profile"; do_perf=0; }
nginx_version=$(nginx -v 2>&1 | sed 's/.*nginx\///')

# Descriptors: the soft limit up to the hard one (65536 if allowed). Symbolon needs 2 per proxied connection in
# one process (client + target); nginx splits them over its 2 workers; the client and backend need 1 each.
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=1048576
want=65536
[ "$hard" -lt "$want" ] && want=$hard
ulimit -n "$want"
if [ -z "$hold" ]; then
    hold=10000
    max_hold=$(( (want - 100) / 2 ))
    [ "$hold" -gt "$max_hold" ] && hold=$(( max_hold / 100 * 100 ))
fi
say "RLIMIT_NOFILE $(ulimit -n) (hard $(ulimit -Hn)); idle connections for the memory metric: $hold"

# ---------------------------------------------------------------- build
say "building symbolon and symbolon-loadgen (release, scratch path $scratch)"
start=$(date +%s)
for product in symbolon symbolon-loadgen; do
    swift build -c release --product "$product" --scratch-path "$scratch" >"$work/build-$product.log" 2>&1 \
        || { tail -n 40 "$work/build-$product.log" >&2; die "build of $product failed (log: $work/build-$product.log)"; }
done
symbolon="$scratch/release/symbolon"
loadgen="$scratch/release/symbolon-loadgen"
echo "   built in $(( $(date +%s) - start )) s; symbolon at commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- Sources || echo '+dirty')"

# ---------------------------------------------------------------- PKI (the real CLI), cached while valid
pki_valid() {
    [ -f "$pki/complete" ] || return 1
    local f
    for f in "$pki/server.pem" "$pki/warm.pem" "$pki/clients/0.pem" "$pki/clients/$((client_certs - 1)).pem"; do
        openssl x509 -in "$f" -noout -checkend 7200 >/dev/null 2>&1 || return 1
    done
}
if pki_valid; then
    say "PKI: reusing $pki (certificates valid for 2 h more)"
else
    say "PKI: symbolon ca init + $((client_certs + 2)) × symbolon ca issue into $pki"
    rm -rf "$pki"
    mkdir -p "$pki/clients"
    echo "bench-proxy-passphrase" >"$pki/passphrase"
    start=$(date +%s)
    "$symbolon" ca init --dir "$pki/ca" --name Bench --trust-domain bench.internal --dns-constraint localhost \
        --passphrase-file "$pki/passphrase" >"$work/pki.log" 2>&1 || { cat "$work/pki.log" >&2; die "ca init failed"; }
    "$symbolon" ca issue --dir "$pki/ca" --profile service --spiffe-id spiffe://bench.internal/proxy --dns localhost \
        --out-cert "$pki/server.pem" --out-key "$pki/server-key.pem" >>"$work/pki.log" 2>&1 \
        || { cat "$work/pki.log" >&2; die "issuing the server certificate failed"; }
    "$symbolon" ca issue --dir "$pki/ca" --profile service --spiffe-id spiffe://bench.internal/client/warm \
        --out-cert "$pki/warm.pem" --out-key "$pki/warm-key.pem" >>"$work/pki.log" 2>&1 \
        || { cat "$work/pki.log" >&2; die "issuing the warm client certificate failed"; }
    seq 0 $((client_certs - 1)) | xargs -P 3 -I{} "$symbolon" ca issue --dir "$pki/ca" --profile service \
        --spiffe-id "spiffe://bench.internal/client/{}" --out-cert "$pki/clients/{}.pem" \
        --out-key "$pki/clients/{}-key.pem" >>"$work/pki.log" 2>&1 || { tail "$work/pki.log" >&2; die "issuing client certificates failed"; }
    n=$(ls "$pki/clients" | grep -c -- '-key.pem$' || true)
    [ "$n" = "$client_certs" ] || die "expected $client_certs client keys in $pki/clients, found $n"
    touch "$pki/complete"
    echo "   issued $((client_certs + 2)) certificates in $(( $(date +%s) - start )) s (3 CLI calls at a time)"
fi
root="$pki/ca/root.pem"

# ---------------------------------------------------------------- servers
for port in $backend_port $symbolon_port $nginx_port; do port_free "$port" || die "port $port is in use (set BENCH_PORT_BASE)"; done

backend_pid=""
start_backend() {
    python3 "$repo/bench/backend.py" "$backend_port" >"$work/backend.log" 2>&1 &
    backend_pid=$!
    started[$backend_pid]=backend
    wait_port "$backend_port" || die "the backend did not start (log: $work/backend.log)"
}

symbolon_pid=""
start_symbolon() {
    "$symbolon" proxy server --listen "127.0.0.1:$symbolon_port" --target "127.0.0.1:$backend_port" \
        --cert "$pki/server.pem" --key "$pki/server-key.pem" --ca "$root" \
        --allow-spiffe-id 'spiffe://bench.internal/client/**' --threads 2 --no-watch --log-format text \
        2>>"$work/symbolon.log" &
    symbolon_pid=$!
    started[$symbolon_pid]=symbolon
    wait_port "$symbolon_port" || die "symbolon did not start (log: $work/symbolon.log)"
}
stop_symbolon() { [ -n "$symbolon_pid" ] && stop_pid "$symbolon_pid"; symbolon_pid=""; }

mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
daemon off;
master_process on;
worker_processes 2;
worker_rlimit_nofile $want;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections $(( want - 100 )); }
stream {
    # One line per connection, like Symbolon's connection log.
    log_format conn '\$remote_addr [\$time_iso8601] identity="\$ssl_client_s_dn" tls=\$ssl_protocol '
                    'cipher=\$ssl_cipher group=\$ssl_curve resumed=\$ssl_session_reused status=\$status '
                    'bytes_in=\$bytes_received bytes_out=\$bytes_sent duration=\$session_time';
    access_log $work/nginx/access.log conn;
    server {
        listen 127.0.0.1:$nginx_port ssl;
        ssl_certificate $pki/server.pem;
        ssl_certificate_key $pki/server-key.pem;
        ssl_client_certificate $root;
        ssl_verify_client on;
        ssl_verify_depth 2;
        ssl_protocols TLSv1.3;
        proxy_pass 127.0.0.1:$backend_port;
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
stop_nginx() { [ -n "$nginx_pid" ] && stop_pid "$nginx_pid"; nginx_pid=""; }

start_server() { if [ "$1" = symbolon ]; then start_symbolon; else start_nginx; fi; }
stop_server() { if [ "$1" = symbolon ]; then stop_symbolon; else stop_nginx; fi; }
server_port() { if [ "$1" = symbolon ]; then echo "$symbolon_port"; else echo "$nginx_port"; fi; }
server_pids() {  # the server's processes: symbolon's one; nginx's master and workers
    if [ "$1" = symbolon ]; then echo "$symbolon_pid"; else echo "$nginx_pid" $(pgrep -P "$nginx_pid"); fi
}
cpu_ticks() {  # utime + stime of the server's processes, in clock ticks
    local total=0 pid t
    for pid in $(server_pids "$1"); do
        t=$(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')
        total=$((total + t))
    done
    echo "$total"
}
rss_kib() {
    local total=0 pid r
    for pid in $(server_pids "$1"); do
        r=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
        total=$((total + r))
    done
    echo "$total"
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
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
results="$work/results.txt"
: >"$results"
record() { echo "$*" >>"$results"; }

say "host: load average $(cut -d' ' -f1-3 /proc/loadavg); openssl speed ECDSA P-256 sign/s (1 s, one core): $(openssl speed -seconds 1 ecdsap256 2>/dev/null | awk '/ecdsa \(nistp256\)/ { print $(NF-1) }')"
start_backend
say "backend alone (no TLS, no proxy): $(lg plain-bulk plain-bulk --port "$backend_port" | field mib_per_s) MiB/s for 100 MiB"

warm_args=(--ca "$root" --cert "$pki/warm.pem" --key "$pki/warm-key.pem")
cold_args=(--ca "$root" --cert-dir "$pki/clients" --cert-count "$client_certs")

# ---------------------------------------------------------------- 1. CPU per handshake
# Per round: both servers freshly started (Symbolon's verified-chain cache empty), 100 warm-up handshakes each,
# then the cold certificates in 4 batches of 500 and the warm ones in 6 batches, alternating servers batch by
# batch (the order flips every batch and every round) so both see the same moments of this shared host. Only one
# server is loaded at a time; the idle one uses no CPU. Per server and round: its CPU over all its batches / count.
cold_batches=4
warm_batches=6
cold_batch=$((client_certs / cold_batches))
warm_batch=$(( (warm_count + warm_batches - 1) / warm_batches ))
say "1. server CPU per full handshake: $rounds rounds; cold $cold_batches × $cold_batch distinct certificates, warm $warm_batches × $warm_batch; servers alternating batch by batch"
batch_run() {  # batch_run SERVER KIND BATCH ARGS…: one batch, adds the server's ticks to ticks_SERVER_KIND
    local server="$1" kind="$2" batch="$3"
    shift 3
    local t0 t1 line
    t0=$(cpu_ticks "$server")
    line=$(lg "$kind-$server-$round-$batch" handshakes --port "$(server_port "$server")" "$@")
    t1=$(cpu_ticks "$server")
    eval "ticks_${server}_${kind}=\$(( ticks_${server}_${kind} + t1 - t0 ))"
    eval "rate_${server}_${kind}=\"\${rate_${server}_${kind}} $(echo "$line" | field rate)\""
}
for round in $(seq "$rounds"); do
    start_symbolon
    start_nginx
    for server in symbolon nginx; do
        lg "warmup-$server-$round" handshakes --port "$(server_port "$server")" "${warm_args[@]}" --count 100 >/dev/null
    done
    for server in symbolon nginx; do
        for kind in cold warm; do eval "ticks_${server}_${kind}=0; rate_${server}_${kind}="; done
    done
    flip=$((round % 2))
    for batch in $(seq 0 $((cold_batches - 1))); do
        if [ $(( (batch + flip) % 2 )) = 1 ]; then order="symbolon nginx"; else order="nginx symbolon"; fi
        for server in $order; do
            batch_run "$server" cold "$batch" "${cold_args[@]}" --offset $((batch * cold_batch)) --count "$cold_batch"
        done
    done
    for batch in $(seq 0 $((warm_batches - 1))); do
        if [ $(( (batch + flip) % 2 )) = 1 ]; then order="symbolon nginx"; else order="nginx symbolon"; fi
        for server in $order; do
            batch_run "$server" warm "$batch" "${warm_args[@]}" --count "$warm_batch"
        done
    done
    for server in symbolon nginx; do
        for kind in cold warm; do
            eval "ticks=\$ticks_${server}_${kind}; rates=\$rate_${server}_${kind}"
            if [ "$kind" = cold ]; then n=$((cold_batch * cold_batches)); else n=$((warm_batch * warm_batches)); fi
            value=$(awk -v d="$ticks" -v hz="$hz" -v n="$n" 'BEGIN { printf "%.3f", d * 1000 / hz / n }')
            record "$kind $server $value"
            echo "   round $round $server $kind: $value ms/handshake ($ticks ticks for $n; client rates/s:$rates)"
        done
    done
    stop_symbolon
    stop_nginx
done

# ---------------------------------------------------------------- 2. latency, 3. throughput (both servers up)
start_symbolon
start_nginx
for server in symbolon nginx; do  # warm both paths
    lg "warmup2-$server" handshakes --port "$(server_port "$server")" "${warm_args[@]}" --count 100 --payload 64 >/dev/null
done
say "2. latency of a 64-byte echo at 200/s for 10 s (8 client threads; new: connect + handshake + echo, close not timed); 3 runs each, alternating"
for mode in keepalive new; do
    for run in 1 2 3; do
        if [ $((run % 2)) = 1 ]; then order="symbolon nginx"; else order="nginx symbolon"; fi
        for server in $order; do
            line=$(lg "latency-$mode-$server-$run" latency --port "$(server_port "$server")" "${warm_args[@]}" \
                --mode "$mode" --rate 200 --seconds 10 --size 64 --threads 8)
            record "lat_${mode}_p50 $server $(echo "$line" | field p50_ms)"
            record "lat_${mode}_p99 $server $(echo "$line" | field p99_ms)"
            echo "   $mode run $run $server: p50 $(echo "$line" | field p50_ms) ms, p99 $(echo "$line" | field p99_ms) ms, late starts $(echo "$line" | field late)"
        done
    done
done
say "3. 100 MiB download through the proxy: 5 runs each, alternating"
for run in 1 2 3 4 5; do
    for server in symbolon nginx; do
        t0=$(cpu_ticks "$server")
        line=$(lg "bulk-$server-$run" bulk --port "$(server_port "$server")" "${warm_args[@]}")
        t1=$(cpu_ticks "$server")
        record "bulk $server $(echo "$line" | field mib_per_s)"
        record "bulk_cpu $server $(awk -v d=$((t1 - t0)) -v hz="$hz" 'BEGIN { printf "%.0f", d * 1000 / hz }')"
        echo "   run $run $server: $(echo "$line" | field mib_per_s) MiB/s, server CPU $(( (t1 - t0) * 1000 / hz )) ms"
    done
done
stop_symbolon
stop_nginx

# ---------------------------------------------------------------- 4. memory per idle connection
say "4. RSS per idle connection: $hold open connections, handshake done, idle; each server alone"
for server in symbolon nginx; do
    port=$(server_port "$server")
    start_server "$server"
    lg "warmup4-$server" handshakes --port "$port" "${warm_args[@]}" --count 200 --payload 64 >/dev/null
    sleep 1
    rss0=$(rss_kib "$server")
    "$loadgen" hold --port "$port" "${warm_args[@]}" --count "$hold" >"$work/hold-$server.log" 2>&1 &
    hold_pid=$!
    started[$hold_pid]=hold
    for i in $(seq 1200); do grep -q '^HOLDING' "$work/hold-$server.log" && break; kill -0 "$hold_pid" 2>/dev/null || break; sleep 0.1; done
    grep -q '^HOLDING' "$work/hold-$server.log" || { cat "$work/hold-$server.log" >&2; die "the hold client did not open its connections"; }
    sleep 3  # let the server finish the last handshakes and target connects
    rss1=$(rss_kib "$server")
    ok=$(grep '^HOLDING' "$work/hold-$server.log" | field ok)
    established=$(ss -Htn state established "( sport = :$port )" | wc -l)
    per=$(awk -v a="$rss0" -v b="$rss1" -v n="$ok" 'BEGIN { printf "%.1f", (b - a) / n }')
    record "rss $server $per"
    echo "   $server: RSS $rss0 KiB idle → $rss1 KiB with $ok open ($established established at the server port): $per KiB/connection"
    [ "$ok" = "$hold" ] || echo "   WARNING: only $ok of $hold connections opened ($(grep -m1 'first failure' "$work/hold-$server.log" || true))"
    stop_pid "$hold_pid"
    stop_server "$server"
done

# ---------------------------------------------------------------- perf profiles of Symbolon (warm, cold)
trim() { awk -v max="$2" '!/^#/ && NF && n++ < max { sub(/ *- *- *$/, ""); sub(/ +$/, ""); print }' "$1"; }
perf_profile() {  # perf_profile KIND DESCRIPTION LOADGEN-ARGS…: 4 s of perf on a fresh Symbolon under that load
    local kind="$1" description="$2" load_pid i
    shift 2
    local out="$results_dir/perf-symbolon-$kind.txt"
    start_symbolon
    lg "perf-warmup-$kind" handshakes --port "$symbolon_port" "${warm_args[@]}" --count 100 >/dev/null
    "$loadgen" handshakes --port "$symbolon_port" "$@" >"$work/perf-load-$kind.log" 2>&1 &
    load_pid=$!
    started[$load_pid]=perf-load
    for i in $(seq 300); do grep -q '^loaded' "$work/perf-load-$kind.log" && break; sleep 0.1; done
    sleep 0.3
    if timeout 60 perf record -F 2000 -g -p "$symbolon_pid" -o "$work/perf-$kind.data" -- sleep 4 >"$work/perf-record-$kind.log" 2>&1; then
        for i in $(seq 300); do kill -0 "$load_pid" 2>/dev/null || break; sleep 0.1; done
        # Full reports to files first: piping perf into head would end it with SIGPIPE (and pipefail).
        perf report -i "$work/perf-$kind.data" --stdio --no-children -g none --sort dso >"$work/perf-$kind-dso.txt" 2>/dev/null || true
        perf report -i "$work/perf-$kind.data" --stdio --no-children -g none --sort dso,symbol \
            >"$work/perf-$kind-symbols.txt" 2>/dev/null || true
        perf report -i "$work/perf-$kind.data" --stdio --children -g none --sort symbol \
            >"$work/perf-$kind-children.txt" 2>/dev/null || true
        {
            echo "# perf profile of symbolon proxy server --threads 2, $description,"
            echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), symbolon at $(git rev-parse --short HEAD)"
            echo "# perf record -F 2000 -g -p PID -- sleep 4, during: $(grep '^RESULT' "$work/perf-load-$kind.log" || echo 'load still running')"
            echo "# $(grep -m1 'samples' "$work/perf-$kind-symbols.txt" || true)"
            echo
            echo "## self time by shared object (perf report --no-children --sort dso)"
            trim "$work/perf-$kind-dso.txt" 15
            echo
            echo "## top 40 symbols, self time (perf report --no-children --sort dso,symbol)"
            trim "$work/perf-$kind-symbols.txt" 40
            echo
            echo "## top 40 symbols including callees (perf report --children --sort symbol)"
            trim "$work/perf-$kind-children.txt" 40
            echo
            echo "## Symbolon's own frames (Swift), including callees, top 40 (lower bounds: GnuTLS, nettle, GMP and"
            echo "## OpenSSL have no frame pointers, so chains through them are cut)"
            grep -E '\] \$s' "$work/perf-$kind-children.txt" | trim /dev/stdin 40 || true
        } >"$out"
        echo "   $kind: written to $out"
    else
        echo "   perf record failed: $(tail -n 3 "$work/perf-record-$kind.log")"
    fi
    stop_pid "$load_pid"
    stop_symbolon
}
if [ "$do_perf" = 1 ]; then
    say "perf profiles of symbolon: warm handshakes (1 certificate), cold (2,000 certificates, each once)"
    mkdir -p "$results_dir"
    perf_profile warm "warm full mTLS handshakes (one client certificate reconnecting)" \
        "${warm_args[@]}" --count 5000
    perf_profile cold "cold full mTLS handshakes (2,000 distinct client certificates, each once, fresh server)" \
        "${cold_args[@]}" --count "$client_certs"
fi
stop_pid "$backend_pid"

# ---------------------------------------------------------------- table
echo ""
echo "connection log lines written: symbolon $(grep -c ' conn ' "$work/symbolon.log" || true), nginx $(wc -l <"$work/nginx/access.log")"
echo "load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores, shared)"
echo "symbolon $(git rev-parse --short HEAD) --threads 2; nginx $nginx_version worker_processes 2; both log one line per connection to a file"
echo ""
awk -v rounds="$rounds" -v hold="$hold" -v warmn="$warm_count" '
    { v[$1, $2] = v[$1, $2] " " $3; n[$1, $2]++ }
    function med(key, server,   a, k, i, j, t) {
        k = split(v[key, server], a, " ")
        for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
        if (k == 0) return ""
        return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
    }
    function range(key, server,   a, k, i, lo, hi) {
        k = split(v[key, server], a, " "); lo = a[1]; hi = a[1]
        for (i = 2; i <= k; i++) { if (a[i] + 0 < lo + 0) lo = a[i]; if (a[i] + 0 > hi + 0) hi = a[i] }
        return (k > 1) ? sprintf("%s–%s", lo, hi) : ""
    }
    function row(label, key, unit, goal,   s, g) {
        s = med(key, "symbolon"); g = med(key, "nginx")
        printf "%-44s %10s %10s %7.2f  %s\n", label " (" unit ")", s, g, (g > 0 ? s / g : 0), goal
        if (range(key, "symbolon") != "") printf "%-44s %10s %10s\n", "   range over runs", range(key, "symbolon"), range(key, "nginx")
    }
    function rounds_ratio(key,   a, b, k, i, r, list, j, t) {  # S/N within each round (same moments of the host)
        k = split(v[key, "symbolon"], a, " "); split(v[key, "nginx"], b, " ")
        for (i = 1; i <= k; i++) { r[i] = a[i] / b[i]; list = list sprintf(" %.2f", r[i]) }
        for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
        printf "%-44s %29.2f  (rounds:%s)\n", "   S/N within each round, median", (k % 2) ? r[(k + 1) / 2] : (r[k / 2] + r[k / 2 + 1]) / 2, list
        if (key == "warm") ratio_warm = (k % 2) ? r[(k + 1) / 2] : (r[k / 2] + r[k / 2 + 1]) / 2
    }
    END {
        printf "%-44s %10s %10s %7s  %s\n", "metric (median)", "symbolon", "nginx", "S/N", "goal"
        row("1a CPU/handshake, warm: 1 cert", "warm", "ms", "S ≤ 0.45 ms")
        rounds_ratio("warm")
        row("1b CPU/handshake, cold: 2,000 certs", "cold", "ms", "S/N ≤ 1")
        rounds_ratio("cold")
        row("2 keep-alive 64 B echo p50", "lat_keepalive_p50", "ms", "")
        row("2 keep-alive 64 B echo p99", "lat_keepalive_p99", "ms", "")
        row("2 new connection per request p50", "lat_new_p50", "ms", "")
        row("2 new connection per request p99", "lat_new_p99", "ms", "")
        row("3 100 MiB download", "bulk", "MiB/s", "higher is better")
        row("3 server CPU per 100 MiB", "bulk_cpu", "ms", "")
        row("4 RSS per idle connection, N=" hold, "rss", "KiB", "")
        printf "\nAbsolute CPU times on this host ran 2–3× above the figures in the team notes (bench/README.md). An\n"
        printf "estimate, not a measurement: the warm S/N within rounds × the 0.89 ms nginx measured there = %.2f ms (goal ≤ 0.45)\n", ratio_warm * 0.89
    }
' "$results"
echo ""
echo "(logs: $work)"
