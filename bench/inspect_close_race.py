"""bench/inspect_close_race.py: node's inspector without leakhunt.

A minimal CDP client (standard library only) that ends a session in one of
three ways, to show that the crash documented in docs/watch.md is node's and
which close order avoids it:

  race         evaluate a deferred require('inspector').close(), then send a
               close frame at once: both ends close together (node 20.20
               segfaults now and then)
  serverclose  evaluate the deferred close, wait for node's close frame,
               answer it, wait for the end of the stream (what leakhunt does
               when it opened the inspector)
  clientclose  send a close frame and wait for node's answer (what leakhunt
               does when the inspector was already open)

usage: python3 bench/inspect_close_race.py ws://127.0.0.1:PORT/ID MODE
bench/inspect_close_race.sh runs it in a loop against a leaking target.
"""
import base64
import json
import os
import socket
import struct
import sys
import time

DEFERRED_CLOSE = "(r => { setImmediate(() => r('inspector').close()); })(require)"


def main(url, mode):
    hostport, path = url[len("ws://"):].split("/", 1)
    host, port = hostport.split(":")
    s = socket.create_connection((host, int(port)), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET /%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
               % (path, hostport, key)).encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(4096)
    buf = buf.split(b"\r\n\r\n", 1)[1]

    def frame(opcode, payload):
        # client frames are masked (RFC 6455 5.3)
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode])
        head += bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n)
        return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))

    def recv_frame():
        nonlocal buf
        while True:
            if len(buf) >= 2:
                opcode, n, off = buf[0] & 15, buf[1] & 127, 2
                if n == 126:
                    n, off = struct.unpack(">H", buf[2:4])[0], 4
                elif n == 127:
                    n, off = struct.unpack(">Q", buf[2:10])[0], 10
                if len(buf) >= off + n:
                    payload, buf = buf[off:off + n], buf[off + n:]
                    return opcode, payload
            data = s.recv(65536)
            if not data:
                return None, b""
            buf += data

    def call(msg_id, method, params):
        s.sendall(frame(1, json.dumps({"id": msg_id, "method": method, "params": params}).encode()))
        while True:
            opcode, payload = recv_frame()
            if opcode != 1 or json.loads(payload).get("id") == msg_id:
                return opcode

    call(1, "Runtime.evaluate", {"expression": "process.pid", "returnByValue": True})
    if mode == "clientclose":
        s.sendall(frame(8, b""))
        recv_frame()
    elif mode == "race":
        s.sendall(frame(1, json.dumps({"id": 2, "method": "Runtime.evaluate", "params": {
            "expression": DEFERRED_CLOSE, "includeCommandLineAPI": True}}).encode()))
        s.sendall(frame(8, b""))
        time.sleep(0.2)
    elif mode == "serverclose":
        call(2, "Runtime.evaluate", {"expression": DEFERRED_CLOSE, "includeCommandLineAPI": True})
        while True:
            opcode, _ = recv_frame()
            if opcode is None:
                break
            if opcode == 8:
                s.sendall(frame(8, b""))
                while s.recv(4096):
                    pass
                break
    s.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
