# Sourced by the bench scripts (bench/*.sh, run from the repository root): every process they start is recorded by
# PID in `started`, stopped by PID (TERM, up to 5 s, then KILL) on exit, and waits on ports are bounded.
declare -A started=()   # pid -> name
stop_pid() {  # stop_pid PID: TERM, wait up to 5 s, then KILL
    local pid="$1" i
    kill -0 "$pid" 2>/dev/null || { unset "started[$pid]"; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || true
    unset "started[$pid]"
}
cleanup() {
    local pid
    for pid in "${!started[@]}"; do stop_pid "$pid"; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_port() {  # wait_port PORT: up to 10 s
    local i
    for i in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    return 1
}
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
