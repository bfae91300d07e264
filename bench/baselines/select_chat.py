#!/usr/bin/env python3
"""A classic single-threaded select() chat server: the design Plugboard started from.

This is the shape of the original socket-programming write-ups: one process, one
select() over the listening socket and every client, blocking sockets, and a broadcast
loop that send()s each line to every other client in turn. It asks for a name, then every
line goes to everyone else. Kept deliberately naive; the benchmark measures that design.

Two concessions so the benchmark can drive it, neither a performance trick:
- input is split into lines (the write-ups broadcast whatever recv() returned, which
  mangles several lines arriving in one read); output uses Plugboard's line format;
- /msg NAME TEXT, so the benchmark can check that every connection still works.

select() only takes descriptors below FD_SETSIZE (1024 on Linux), so connections that
get a higher descriptor are told the server is full and closed.
"""

import argparse
import json
import select
import socket
import time

FD_SETSIZE = 1024
RECV_BYTES = 4096


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8008)
    ap.add_argument("--ready-file", help='write {"line": {"host", "port"}} here once listening')
    args = ap.parse_args()

    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((args.host, args.port))
    # The write-ups used listen(5..10); that drops connection bursts, which would measure
    # the kernel's SYN retry timer rather than the server, so use the same 511 as Plugboard.
    server.listen(511)
    host, port = server.getsockname()[:2]
    print(f"select() chat server on {host}:{port}", flush=True)
    if args.ready_file:
        with open(args.ready_file, "w") as f:
            json.dump({"line": {"host": host, "port": port}}, f)

    sockets = [server]  # everything select() watches
    names = {}  # client socket -> chosen name, or None while still choosing
    by_name = {}  # lower-case name -> socket
    pending = {}  # client socket -> bytes of an unfinished line

    def send(sock, text):
        try:
            sock.sendall((text + "\r\n").encode("utf-8"))
        except OSError:
            pass  # a dead peer shows up as readable with no data, and is dropped then

    def broadcast(sender, text):
        data = (text + "\r\n").encode("utf-8")
        for sock in sockets:
            if sock is not server and sock is not sender and names.get(sock) is not None:
                try:
                    sock.sendall(data)
                except OSError:
                    pass

    def drop(sock, reason):
        name = names.pop(sock, None)
        pending.pop(sock, None)
        if sock in sockets:
            sockets.remove(sock)
        sock.close()
        if name is not None:
            del by_name[name.lower()]
            broadcast(None, f"* {name} left ({reason})")

    def handle(sock, line):
        name = names[sock]
        if name is None:
            wanted = line.strip()
            if not wanted or " " in wanted or len(wanted) > 30:
                sock.sendall(b"Invalid name.\r\nChoose a name: ")
            elif wanted.lower() in by_name:
                sock.sendall(b"That name is taken.\r\nChoose a name: ")
            else:
                names[sock] = wanted
                by_name[wanted.lower()] = sock
                send(sock, f"* Welcome, {wanted}! You are in #lobby.")
                broadcast(sock, f"* {wanted} joined #lobby")
            return
        stamp = time.strftime("%H:%M")
        if line.startswith("/msg "):
            parts = line.split(" ", 2)
            target = by_name.get(parts[1].lower()) if len(parts) == 3 else None
            if target is None:
                send(sock, "* No such person.")
            else:
                send(target, f"[{stamp}] *{name}* {parts[2]}")
        elif line.startswith("/quit"):
            drop(sock, "quit")
        else:
            broadcast(sock, f"[{stamp}] <{name}> {line}")

    while True:
        readable, _, _ = select.select(sockets, [], [])
        for sock in readable:
            if sock is server:
                conn, _ = server.accept()
                if conn.fileno() >= FD_SETSIZE:
                    conn.sendall(b"* Server full\r\n")
                    conn.close()
                    continue
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sockets.append(conn)
                names[conn] = None
                pending[conn] = b""
                online = sum(1 for n in names.values() if n is not None)
                conn.sendall(f"Welcome to the select() chat. {online} online.\r\nChoose a name: ".encode())
                continue
            if sock not in names:
                continue  # dropped earlier in this round
            try:
                data = sock.recv(RECV_BYTES)
            except OSError:
                data = b""
            if not data:
                drop(sock, "connection closed")
                continue
            *lines, pending[sock] = (pending[sock] + data).split(b"\n")
            for raw in lines:
                if sock not in names:
                    break
                handle(sock, raw.rstrip(b"\r").decode("utf-8", "replace"))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
