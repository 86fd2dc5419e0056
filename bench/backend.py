#!/usr/bin/env python3
"""The proxy bench's backend (bench/proxy.sh): one asyncio loop, plain TCP on 127.0.0.1.

The first byte a connection sends picks the mode:
  'S' + 8-byte big-endian length: send that many bytes (slices of one preallocated buffer, no copies), then close.
  anything else: echo every byte back (the first one included) until the peer closes.
A connection that sends nothing is held open, idle, until the peer closes it.

usage: backend.py PORT   (prints READY when listening)
"""
import asyncio
import socket
import sys

BLOCK = memoryview(bytearray(b"s" * (4 << 20)))


async def serve(loop, conn):
    try:
        first = await loop.sock_recv(conn, 65536)
        if not first:
            return
        if first[:1] == b"S":
            while len(first) < 9:
                more = await loop.sock_recv(conn, 65536)
                if not more:
                    return
                first += more
            remaining = int.from_bytes(first[1:9], "big")
            while remaining > 0:
                step = min(remaining, len(BLOCK))
                await loop.sock_sendall(conn, BLOCK[:step])
                remaining -= step
            conn.shutdown(socket.SHUT_WR)
            while await loop.sock_recv(conn, 65536):
                pass
            return
        await loop.sock_sendall(conn, first)
        while True:
            data = await loop.sock_recv(conn, 65536)
            if not data:
                return
            await loop.sock_sendall(conn, data)
    except OSError:
        pass
    finally:
        conn.close()


async def main(port):
    loop = asyncio.get_running_loop()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(4096)
    listener.setblocking(False)
    print("READY", flush=True)
    while True:
        try:
            conn, _ = await loop.sock_accept(listener)
        except OSError:
            await asyncio.sleep(0.01)  # EMFILE and the like: back off, do not spin
            continue
        conn.setblocking(False)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        loop.create_task(serve(loop, conn))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
