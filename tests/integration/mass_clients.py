"""Opens many MySQL client connections at once and reports what each one got first.

Run as a process of its own (a process has its own descriptor limit): it connects COUNT
sockets to 127.0.0.1:PORT without blocking, spreading their source addresses over
127.0.0.2-127.0.0.5 so that ephemeral ports never run out, reads the first MySQL packet of
each until DEADLINE seconds have passed (or only half-open ones are left), prints one JSON
line of counts, then holds every socket open until its standard input closes.

  greeting         a server greeting (protocol 10): the session is open
  err_<code>       an ERR packet in place of the greeting; "messages" lists each text once
  closed           closed or reset before a whole packet arrived
  silent           connected, and the server's side holds the connection (accepted, or waiting in
                   the listen queue), but nothing yet at the deadline
  half_open        connected as the client sees it, but the server's kernel never completed the
                   handshake: a SYN cookie whose ACK met a full accept queue is forgotten by the
                   server without a trace (no socket, no retransmission), and a MySQL client,
                   which waits for the server to speak first, would wait for ever
  unconnected      the TCP handshake itself had not completed at the deadline (its SYNs were
                   dropped by a full listen queue and are still being retried, or the server
                   is still retrying its SYN-ACK)
  connect_failed   the TCP connect itself failed
"""

import argparse
import errno
import json
import resource
import selectors
import socket
import struct
import sys
import time


def first_packet(buf):
    """(kind, message) once `buf` holds a whole packet, else None."""
    if len(buf) < 4:
        return None
    length = int.from_bytes(buf[:3], "little")
    if len(buf) < 4 + length or length == 0:
        return None
    payload = buf[4:4 + length]
    if payload[0] == 0x0A:
        return "greeting", None
    if payload[0] == 0xFF and len(payload) >= 3:
        code = int.from_bytes(payload[1:3], "little")
        text = payload[3:]
        if text[:1] == b"#":
            text = text[6:]
        return f"err_{code}", text.decode(errors="replace")
    return "other", None


def server_side(port):
    """{(server address, client address): state} of this namespace's TCP sockets on local port `port`.

    /proc/net/tcp lists a listener's children too (accepted or waiting in the accept queue), and its
    handshakes in progress as SYN_RECV ("03")."""
    def endpoint(hex_pair):
        host, port_hex = hex_pair.split(":")
        return socket.inet_ntoa(struct.pack("<I", int(host, 16))), int(port_hex, 16)

    found = {}
    with open("/proc/net/tcp") as table:
        next(table)
        for line in table:
            fields = line.split()
            local, remote = endpoint(fields[1]), endpoint(fields[2])
            if local[1] == port:
                found[(local, remote)] = fields[3]
    return found


def waiting(sockets, port):
    """What each socket of `sockets`, still without a first packet, is waiting on."""
    servers = server_side(port) if sockets else {}
    kinds = []
    for s in sockets:
        try:
            peer = s.getpeername()
        except OSError:  # the handshake never completed: the kernel's listen queue overflowed
            kinds.append("unconnected")
            continue
        state = servers.get((peer, s.getsockname()))
        kinds.append("half_open" if state is None else "unconnected" if state == "03" else "silent")
    return kinds


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("count", type=int)
    p.add_argument("--deadline", type=float, default=60)
    a = p.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    sel = selectors.DefaultSelector()
    counts, messages, buffers, socks = {}, set(), {}, []

    def count(kind):
        counts[kind] = counts.get(kind, 0) + 1

    for i in range(a.count):
        s = socket.socket()
        s.setblocking(False)
        s.bind((f"127.0.0.{2 + i % 4}", 0))
        rc = s.connect_ex(("127.0.0.1", a.port))
        if rc not in (0, errno.EINPROGRESS):
            count("connect_failed")
            s.close()
            continue
        socks.append(s)
        buffers[s] = b""
        sel.register(s, selectors.EVENT_READ)

    deadline = time.monotonic() + a.deadline
    while buffers and time.monotonic() < deadline:
        ready = sel.select(timeout=min(1.0, max(0.0, deadline - time.monotonic())))
        if not ready and set(waiting(buffers, a.port)) == {"half_open"}:
            break  # a quiet second, and all that is left will never hear from the server
        for key, _ in ready:
            s = key.fileobj
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            done = None
            if not data:
                done = ("closed", None)
            else:
                buffers[s] += data
                done = first_packet(buffers[s])
            if done:
                count(done[0])
                if done[1]:
                    messages.add(done[1])
                sel.unregister(s)
                del buffers[s]
    for kind in waiting(buffers, a.port):
        count(kind)
    print(json.dumps({"counts": counts, "messages": sorted(messages)}), flush=True)
    sys.stdin.read()  # hold every session until the test says so
    for s in socks:
        s.close()


if __name__ == "__main__":
    main()
