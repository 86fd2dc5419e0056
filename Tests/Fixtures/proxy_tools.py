"""Real peers for the proxy end-to-end tests: a backend, TLS clients, load and hostile clients.

Every mode prints its results on stdout, one line each, and never runs longer than its own deadline.
"""
import json
import os
import random
import resource
import select
import socket
import ssl
import sys
import threading
import time

SIGNATURE = bytes.fromhex("0D0A0D0A000D0A515549540A")


def out(*parts):
    print(*parts, flush=True)


def read_exact(conn, count):
    data = b""
    while len(data) < count:
        chunk = conn.recv(count - len(data))
        if not chunk:
            raise EOFError("EOF after %d of %d bytes" % (len(data), count))
        data += chunk
    return data


def parse_proxy_header(conn):
    """Reads a PROXY v2 header and returns a dict describing it (or {"error": ...})."""
    head = read_exact(conn, 16)
    info = {"signature": head[:12] == SIGNATURE, "verCmd": "%02x" % head[12], "family": "%02x" % head[13]}
    length = int.from_bytes(head[14:16], "big")
    body = read_exact(conn, length)
    offset = 0
    if head[13] == 0x11:
        info["src"] = "%s:%d" % (socket.inet_ntoa(body[0:4]), int.from_bytes(body[8:10], "big"))
        info["dst"] = "%s:%d" % (socket.inet_ntoa(body[4:8]), int.from_bytes(body[10:12], "big"))
        offset = 12
    elif head[13] == 0x21:
        info["src"] = "[%s]:%d" % (socket.inet_ntop(socket.AF_INET6, body[0:16]), int.from_bytes(body[32:34], "big"))
        info["dst"] = "[%s]:%d" % (socket.inet_ntop(socket.AF_INET6, body[16:32]), int.from_bytes(body[34:36], "big"))
        offset = 36
    tlvs = {}
    while offset + 3 <= len(body):
        kind = body[offset]
        size = int.from_bytes(body[offset + 1:offset + 3], "big")
        tlvs["%02x" % kind] = body[offset + 3:offset + 3 + size]
        offset += 3 + size
    if "e0" in tlvs:
        info["identity"] = tlvs["e0"].decode("utf-8", "replace")
    info["tlvTypes"] = sorted(tlvs.keys())
    return info


def backend(args):
    """backend echo|http tcp|unix:PATH [--proxy-protocol]: prints 'port N' (or 'unix PATH'), then serves."""
    mode, where = args[0], args[1]
    proxy_protocol = "--proxy-protocol" in args
    if where.startswith("unix:"):
        path = where[5:]
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(path)
        out("unix", path)
    else:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        out("port", server.getsockname()[1])
    server.listen(512)
    count = [0]

    def handle(conn):
        try:
            header = None
            if proxy_protocol:
                header = parse_proxy_header(conn)
                out("header", json.dumps(header))
            if mode == "flood":
                # Sends as fast as the peer takes it, until it goes away: a proxy must not buffer it all.
                chunk = bytes(65536)
                while True:
                    conn.sendall(chunk)
            if mode == "stall":
                # Accepts and never reads: a proxy must stop reading its client instead of buffering.
                time.sleep(3600)
            if mode == "echo":
                if header is not None:
                    conn.sendall(("PROXY " + json.dumps(header) + "\n").encode())
                while True:
                    data = conn.recv(65536)
                    if not data:
                        break
                    conn.sendall(data)
            else:
                request = b""
                while b"\r\n\r\n" not in request:
                    data = conn.recv(65536)
                    if not data:
                        return
                    request += data
                body = "hello from the backend, connection %d\n" % count[0]
                if header is not None:
                    body += "PROXY " + json.dumps(header) + "\n"
                response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (
                    len(body.encode()), body)
                conn.sendall(response.encode())
        except Exception as error:  # a broken peer must not stop the backend
            out("backend-error", type(error).__name__, error)
        finally:
            conn.close()

    while True:
        conn, _ = server.accept()
        count[0] += 1
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


def context(cert, key, ca, server_name_check=True):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(ca)
    ctx.check_hostname = server_name_check
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx


def open_tls(address, ctx, timeout):
    if address.startswith("unix:"):
        raw = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        raw.settimeout(timeout)
        raw.connect(address[5:])
        return ctx.wrap_socket(raw, server_hostname="localhost")
    host, port = address.rsplit(":", 1)
    raw = socket.create_connection((host, int(port)), timeout=timeout)
    return ctx.wrap_socket(raw, server_hostname="localhost")


def echo_once(conn, message):
    conn.sendall(message)
    data = b""
    while len(data) < len(message):
        chunk = conn.recv(65536)
        if not chunk:
            raise EOFError("EOF after %d of %d echoed bytes" % (len(data), len(message)))
        data += chunk
    if data != message:
        raise ValueError("echo mismatch: %r" % data[:80])
    return data


def tls_options(args):
    options = {"cert": None, "key": None, "ca": None, "plain": False}
    rest = []
    index = 0
    while index < len(args):
        if args[index] in ("--cert", "--key", "--ca"):
            options[args[index][2:]] = args[index + 1]
            index += 2
        elif args[index] == "--plain":
            options["plain"] = True
            index += 1
        else:
            rest.append(args[index])
            index += 1
    return options, rest


def connect(address, options, timeout=5):
    if options["plain"]:
        if address.startswith("unix:"):
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            conn.settimeout(timeout)
            conn.connect(address[5:])
            return conn
        host, port = address.rsplit(":", 1)
        return socket.create_connection((host, int(port)), timeout=timeout)
    return open_tls(address, context(options["cert"], options["key"], options["ca"]), timeout)


def client(args):
    """client ADDRESS MESSAGE [--cert C --key K] --ca CA [--plain]: one echo round trip.
    Prints 'echo MESSAGE' or 'error TYPE MESSAGE' (exit 1)."""
    options, rest = tls_options(args)
    address, message = rest[0], rest[1].encode()
    try:
        conn = connect(address, options)
        if not options["plain"]:
            out("tls", conn.version(), conn.cipher()[0])
        echo_once(conn, message)
        out("echo", message.decode())
        conn.close()
    except Exception as error:
        out("error", type(error).__name__, str(error).replace("\n", " "))
        sys.exit(1)


def interactive(args):
    """interactive ADDRESS [TLS options]: connects, prints 'connected', then obeys stdin lines:
    'echo TEXT' -> 'echo TEXT' or 'error …'; 'wait-eof SECONDS' -> 'eof AFTER' / 'error …' / 'still-open';
    'quit'."""
    options, rest = tls_options(args)
    try:
        conn = connect(rest[0], options)
        out("connected")
    except Exception as error:
        out("error", type(error).__name__, str(error).replace("\n", " "))
        sys.exit(1)
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        if command == "echo":
            try:
                conn.settimeout(5)
                echo_once(conn, argument.encode())
                out("echo", argument)
            except Exception as error:
                out("error", type(error).__name__, str(error).replace("\n", " "))
        elif command == "wait-eof":
            started = time.monotonic()
            deadline = started + float(argument)
            result = "still-open"
            while time.monotonic() < deadline:
                conn.settimeout(max(0.05, deadline - time.monotonic()))
                try:
                    data = conn.recv(65536)
                    if not data:
                        result = "eof %.2f" % (time.monotonic() - started)
                        break
                except socket.timeout:
                    continue
                except Exception as error:
                    result = "error %s %s" % (type(error).__name__, str(error).replace("\n", " "))
                    break
            out(result)
        elif command == "quit":
            break
    try:
        conn.close()
    except Exception:
        pass
    out("bye")


def load(args):
    """load ADDRESS SECONDS THREADS [TLS options]: new connection + one echo, in a loop per thread.
    Prints one JSON line {"ok": N, "failed": N, "errors": [...]}."""
    options, rest = tls_options(args)
    address, seconds, threads = rest[0], float(rest[1]), int(rest[2])
    lock = threading.Lock()
    result = {"ok": 0, "failed": 0, "errors": []}
    deadline = time.monotonic() + seconds

    def worker(number):
        sequence = 0
        while time.monotonic() < deadline:
            sequence += 1
            message = ("load %d %d\n" % (number, sequence)).encode()
            try:
                conn = connect(address, options)
                echo_once(conn, message)
                conn.close()
                with lock:
                    result["ok"] += 1
            except Exception as error:
                with lock:
                    result["failed"] += 1
                    if len(result["errors"]) < 10:
                        result["errors"].append("%s: %s" % (type(error).__name__, error))
            time.sleep(0.01)

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for worker_thread in workers:
        worker_thread.start()
    for worker_thread in workers:
        worker_thread.join()
    out(json.dumps(result))


def hostile(args):
    """hostile HOST:PORT IDLE HALF SECONDS: opens IDLE silent connections and HALF that send half a ClientHello;
    prints 'opened N', then waits up to SECONDS for the proxy to close them and prints
    'closed C of N in S' (C counts EOFs and resets)."""
    host, port = args[0].rsplit(":", 1)
    idle, half, seconds = int(args[1]), int(args[2]), float(args[3])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = idle + half + 64
    if soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
        except Exception as error:
            out("rlimit", error)
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    # A ClientHello record header announcing 512 bytes, then only part of them.
    half_hello = bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03]) + os.urandom(40)
    conns = []
    started = time.monotonic()
    for number in range(idle + half):
        if len(conns) + 32 >= soft:
            break
        try:
            conn = socket.create_connection((host, int(port)), timeout=5)
            if number >= idle:
                conn.sendall(half_hello)
            conn.setblocking(False)
            conns.append(conn)
        except Exception as error:
            out("connect-error", type(error).__name__, error)
            break
    out("opened", len(conns), "limit", soft)
    open_set = {conn.fileno(): conn for conn in conns}
    closed = 0
    deadline = started + seconds
    poller = select.poll()
    for fd in open_set:
        poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    while open_set and time.monotonic() < deadline:
        for fd, _ in poller.poll(100):
            conn = open_set.get(fd)
            if conn is None:
                continue
            try:
                data = conn.recv(4096)
                if data:
                    continue  # an alert before the close is fine
            except BlockingIOError:
                continue
            except Exception:
                pass
            poller.unregister(fd)
            del open_set[fd]
            closed += 1
    out("closed", closed, "of", len(conns), "in", "%.2f" % (time.monotonic() - started))
    for conn in conns:
        conn.close()


def garbage(args):
    """garbage HOST:PORT: sends random bytes on one connection and an HTTP request on another; prints what came
    back as 'reply KIND BYTES closed|open'."""
    host, port = args[0].rsplit(":", 1)
    # Each payload is complete, so a proxy has nothing to wait for: random bytes behind an invalid record type
    # (a first byte >= 0x80 would announce an SSLv2 record of up to 32 KiB), an HTTP request, zeros, a well-formed
    # SSLv2-style hello, and a complete TLS record holding a complete ClientHello message of garbage.
    for kind, payload in (("random", b"\x42" + os.urandom(2047)),
                          ("http", b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"),
                          ("zeros", bytes(64)),
                          ("sslv2", bytes.fromhex("802e0103010015000000100000") + os.urandom(35)),
                          ("record", bytes.fromhex("160301004001") + (60).to_bytes(3, "big") + os.urandom(60))):
        conn = socket.create_connection((host, int(port)), timeout=5)
        received = b""
        state = "open"
        try:
            conn.sendall(payload)
            conn.settimeout(5)
            while True:
                data = conn.recv(4096)
                if not data:
                    state = "closed"
                    break
                received += data
        except socket.timeout:
            state = "open"
        except Exception:
            state = "closed"
        conn.close()
        out("reply", kind, len(received), state)


def bulk(args):
    """bulk ADDRESS MEGABYTES [TLS options] [--half-close]: streams MEGABYTES of random data through an echo
    backend while reading the echo, in one thread with select (an SSLSocket must not be read and written from two
    threads at once); with --half-close (plain sockets) the write side is then shut down and the echo read to EOF.
    Prints 'bulk SENT RECEIVED match|mismatch SECONDS [why it stopped]' or 'error …'."""
    options, rest = tls_options([a for a in args if a != "--half-close"])
    half_close = "--half-close" in args
    address, size = rest[0], int(float(rest[1]) * 1024 * 1024)
    started = time.monotonic()
    deadline = started + 30
    retry = (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError, InterruptedError)
    try:
        conn = connect(address, options, timeout=20)
        conn.setblocking(False)
        payload = os.urandom(size)
        view = memoryview(payload)
        received = bytearray()
        sent = 0
        shut = False
        stopped = ""
        while time.monotonic() < deadline:
            if half_close and sent == size and not shut:
                conn.shutdown(socket.SHUT_WR)
                shut = True
            if len(received) >= size and not half_close:
                break
            pending = conn.pending() if hasattr(conn, "pending") else 0
            readable, writable, _ = select.select([conn], [conn] if sent < size else [], [], 1)
            if readable or pending:
                try:
                    chunk = conn.recv(262144)
                    if not chunk:
                        stopped = "eof"
                        break
                    received += chunk
                except retry:
                    pass
            if writable and sent < size:
                try:
                    sent += conn.send(view[sent:sent + 65536])
                except retry:
                    pass
        else:
            stopped = "timeout"
        state = "match" if bytes(received) == payload else "mismatch"
        out("bulk", sent, len(received), state, "%.2f" % (time.monotonic() - started), stopped)
        conn.close()
    except Exception as error:
        out("error", type(error).__name__, str(error).replace("\n", " "))
        sys.exit(1)


def drip(args):
    """drip HOST:PORT INTERVAL SECONDS: sends a ClientHello one byte every INTERVAL seconds (a timer reset by every byte would
    never fire); prints 'closed after N bytes in S' when the proxy closes, or 'still-open after S'."""
    host, port = args[0].rsplit(":", 1)
    interval, seconds = float(args[1]), float(args[2])
    conn = socket.create_connection((host, int(port)), timeout=5)
    hello = bytes.fromhex("1603010200010001fc0303") + os.urandom(500)
    started = time.monotonic()
    conn.settimeout(interval)
    for count, byte in enumerate(hello):
        if time.monotonic() - started > seconds:
            out("still-open after %.2f" % (time.monotonic() - started))
            return
        try:
            conn.sendall(bytes([byte]))
            data = conn.recv(4096)
            if not data:
                out("closed after %d bytes in %.2f" % (count + 1, time.monotonic() - started))
                return
        except socket.timeout:
            continue
        except Exception:
            out("closed after %d bytes in %.2f" % (count + 1, time.monotonic() - started))
            return
    out("still-open after %.2f" % (time.monotonic() - started))


def stall(args):
    """stall ADDRESS SECONDS [TLS options] [--send]: connects, then for SECONDS either reads nothing (the backend
    floods) or, with --send, writes as fast as the socket takes it (the backend never reads); then prints
    'stalled SENT' and, reading for at most 5 s, 'drained RECEIVED'."""
    options, rest = tls_options([a for a in args if a != "--send"])
    send = "--send" in args
    address, seconds = rest[0], float(rest[1])
    conn = connect(address, options, timeout=5)
    conn.setblocking(False)
    sent = 0
    deadline = time.monotonic() + seconds
    chunk = bytes(65536)
    retry = (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError, InterruptedError)
    while time.monotonic() < deadline:
        if send:
            _, writable, _ = select.select([], [conn], [], 0.2)
            if writable:
                try:
                    sent += conn.send(chunk)
                except retry:
                    pass
        else:
            time.sleep(0.2)
    out("stalled", sent)
    received = 0
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not send:
        readable, _, _ = select.select([conn], [], [], 0.5)
        try:
            data = conn.recv(262144)
            if not data:
                break
            received += len(data)
        except retry:
            continue
        if received > 16 * 1024 * 1024:
            break
    out("drained", received)
    conn.close()


if __name__ == "__main__":
    {"backend": backend, "client": client, "interactive": interactive, "load": load, "hostile": hostile,
     "garbage": garbage, "bulk": bulk, "drip": drip, "stall": stall}[sys.argv[1]](sys.argv[2:])
