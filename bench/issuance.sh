#!/usr/bin/env bash
# Issuance benchmark: certificates issued per second in process (sign + self-check + durable SQLite commit),
# beside the ECDSA P-256 sign rate `openssl speed` measures in the same run, as a ratio. Aim: ≥ 0.25.
#
#   bench/issuance.sh [--prototype] [--seconds N]
#
# --prototype  also run the bench's models of the proposed changes, tiers A and A+C (bench/README.md,
#              "Proposals"; they are not what Symbolon ships).
# --seconds N  length of each timed run (default 5).
# Environment: BENCH_SCRATCH (build directory, default /tmp/symbolon-bench-build),
#              BENCH_REQUIRE_AIM=1 (exit 3 when the aim is not met).
#
# Installs nothing; needs swift and openssl on PATH. Exits non-zero when the build, openssl or any run fails,
# including when a run's store does not hold exactly the certificates it issued. About 1–2 minutes.
set -euo pipefail

cd "$(dirname "$0")/.."
seconds=5
prototype=0
while [ $# -gt 0 ]; do
    case "$1" in
        --prototype) prototype=1; shift ;;
        --seconds) seconds="${2:?--seconds needs a value}"; shift 2 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "issuance.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
case "$seconds" in
    ''|*[!0-9.]*|*.*.*) echo "issuance.sh: --seconds takes a number, not '$seconds'" >&2; exit 2 ;;
esac
scratch="${BENCH_SCRATCH:-/tmp/symbolon-bench-build}"
aim=0.25

if ! command -v swift >/dev/null && [ -x /opt/swift/usr/bin/swift ]; then PATH="/opt/swift/usr/bin:$PATH"; fi
for tool in swift openssl awk; do
    command -v "$tool" >/dev/null || { echo "issuance.sh: $tool is not on PATH (this script installs nothing)" >&2; exit 1; }
done
logs="$(mktemp -d "${TMPDIR:-/tmp}/symbolon-bench-logs.XXXXXX")"

echo "== building symbolon-bench (release, scratch path $scratch)"
start=$(date +%s)
if ! swift build -c release --product symbolon-bench --scratch-path "$scratch" >"$logs/build.log" 2>&1; then
    tail -n 40 "$logs/build.log" >&2
    echo "issuance.sh: build failed (full log: $logs/build.log)" >&2
    exit 1
fi
bench="$scratch/release/symbolon-bench"
echo "   built in $(( $(date +%s) - start )) s"

# `openssl speed` prints a table whose last line is:  256 bits ecdsa (nistp256)  <sign s> <verify s> <sign/s> <verify/s>
speed() {
    local out="$logs/openssl-speed$1.log"
    shift
    if ! openssl speed "$@" -seconds 3 ecdsap256 >"$out" 2>&1; then
        cat "$out" >&2
        echo "issuance.sh: openssl speed failed" >&2
        exit 1
    fi
    awk '/ecdsa \(nistp256\)/ { sign = $(NF-1) } END { if (sign == "") exit 1; print sign }' "$out" || {
        cat "$out" >&2
        echo "issuance.sh: cannot find the nistp256 sign/s column in openssl speed's output" >&2
        exit 1
    }
}
echo "== openssl speed -seconds 3 ecdsap256 ($(openssl version | awk '{print $1, $2}'))"
sign=$(speed "")
echo "   ECDSA P-256 sign/s: $sign (one core; openssl speed divides by CPU time, not wall time)"

results="$logs/results.txt"
: >"$results"
run() {
    local name="$1"
    shift
    echo "== symbolon-bench issuance $*"
    if ! "$bench" issuance "$@" >"$logs/$name.log" 2>&1; then
        cat "$logs/$name.log" >&2
        echo "issuance.sh: the benchmark run '$*' failed" >&2
        exit 1
    fi
    grep '^RESULT ' "$logs/$name.log" >>"$results" || {
        cat "$logs/$name.log" >&2
        echo "issuance.sh: no RESULT line from '$*'" >&2
        exit 1
    }
}
run group64 --threads 2 --batch 64 --seconds "$seconds" --baseline-seconds "$seconds"
run group256 --threads 2 --batch 256 --seconds "$seconds" --baseline-seconds 0
run single64 --threads 1 --batch 64 --seconds "$seconds" --baseline-seconds 0
if [ "$prototype" = 1 ]; then
    for tiers in A AC; do
        run "proto$tiers" --prototype "$tiers" --threads 2 --batch 64 --seconds "$seconds" --baseline-seconds 0
    done
fi

echo ""
echo "load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores, shared; see bench/README.md on noise)"
echo ""
awk -v sign="$sign" -v aim="$aim" '
    function field(name,   i, kv) {
        for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == name) return kv[2] }
        return ""
    }
    BEGIN {
        printf "%-30s %7s %8s %8s %5s %8s %7s %7s %7s\n", "configuration", "certs/s", "p50 ms", "p99 ms", "cores", "CPU µs/c", "÷ sign", "÷ now", "per CPU"
        best = 0
    }
    {
        mode = field("mode"); threads = field("threads"); batch = field("batch"); rate = field("rate")
        if (field("stored") != field("expected")) { lost = 1 }
        what = threads " thr × batch " batch
        if (threads == 1 && batch == 1) what = what " (naive)"
        if (mode ~ /^prototype-/) { what = "PROTO " substr(mode, 11) " " what }
        ratio = rate / sign
        now = field("sign_rate")
        perCPU = (1e6 / field("cpu_us_per_cert")) / now
        printf "%-30s %7.0f %8.2f %8.2f %5.2f %8.0f %7.3f %7.3f %7.3f\n", what, rate, field("p50_ms"), field("p99_ms"), field("cpu_cores"), field("cpu_us_per_cert"), ratio, rate / now, perCPU
        if (mode == "authority" && ratio > best) { best = ratio; bestName = what }
        if (mode ~ /^prototype-/ && ratio > bestProto) { bestProto = ratio; bestProtoName = what }
    }
    END {
        printf "\nopenssl speed ECDSA P-256 sign/s in this run: %s\n", sign
        print "÷ sign  = certificates/s ÷ openssl speed sign/s: the issue'"'"'s measure (all threads, wall clock, vs one core)"
        print "÷ now   = the same against the sign rate the bench measured in process just before and after that row"
        print "          (EVP_PKEY_sign, as openssl speed): this shared host'"'"'s speed drifts by up to ±20 % within minutes"
        print "per CPU = certificates per CPU-second ÷ that sign rate: the per-core ratio, less sensitive to other load"
        if (lost) { print "FAILED: a run lost rows"; exit 1 }
        printf "aim ≥ %.2f of the sign rate: %s (best: %s at %.3f)\n", aim, (best >= aim ? "MET" : "NOT MET"), bestName, best
        if (bestProtoName != "") printf "best prototype of the proposed changes (not what Symbolon ships): %s at %.3f\n", bestProtoName, bestProto
        print (best >= aim ? "AIM_MET" : "AIM_NOT_MET") > "/dev/stderr"
    }
' "$results" 2>"$logs/verdict"
echo "(logs: $logs)"
if [ "${BENCH_REQUIRE_AIM:-0}" = 1 ] && grep -q AIM_NOT_MET "$logs/verdict"; then
    exit 3
fi
