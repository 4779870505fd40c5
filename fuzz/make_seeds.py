#!/usr/bin/env python3
"""Writes the seed inputs of the session fuzzers into fuzz/corpus/ (h2_session_fuzzer,
ws_session_fuzzer, tls_fuzzer): one valid exchange each and a few variants. Run from anywhere:
    fuzz/make_seeds.py            # h2 and ws seeds, and a ClientHello from `openssl s_client`
The models are the fuzzers' built-in recordings (fuzz/session_fixture.hpp): chat-tiny,
responses-tiny. HPACK here is literal fields without indexing and without Huffman (RFC 7541
§6.2.2), which every decoder takes."""
import os
import socket
import struct
import subprocess
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def write(fuzzer, name, data):
    folder = os.path.join(CORPUS, fuzzer)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


# ---- HTTP/2 (RFC 9113): the client's bytes after the preface ----------------------------------

def frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload


def hpack(fields):
    out = b""
    for k, v in fields:
        k, v = k.encode(), v.encode()
        assert len(k) < 127 and len(v) < 127
        out += b"\x00" + bytes([len(k)]) + k + bytes([len(v)]) + v
    return out


DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE = 0, 1, 3, 4, 6, 7, 8
END_STREAM, END_HEADERS = 0x1, 0x4
settings = frame(SETTINGS, 0, 0, struct.pack(">HI", 4, 65535) + struct.pack(">HI", 2, 0))
settings_ack = frame(SETTINGS, 1, 0)


def request(stream, method, path, body=None, extra=()):
    fields = [(":method", method), (":scheme", "http"), (":path", path), (":authority", "127.0.0.1")]
    if body is not None:
        fields += [("content-type", "application/json"), ("content-length", str(len(body)))]
    fields += list(extra)
    if body is None:
        return frame(HEADERS, END_HEADERS | END_STREAM, stream, hpack(fields))
    return frame(HEADERS, END_HEADERS, stream, hpack(fields)) + frame(DATA, END_STREAM, stream, body.encode())


def h2_seeds():
    f = "h2_session_fuzzer"
    chat = '{"model":"chat-tiny","stream":true,"messages":[{"role":"user","content":"hi"}]}'
    write(f, "post-chat-stream", settings + settings_ack + request(1, "POST", "/v1/chat/completions", chat))
    write(f, "post-chat-nonstream", settings + request(1, "POST", "/v1/chat/completions", chat.replace("true", "false")))
    write(f, "two-streams-get-models-and-responses",
          settings + request(1, "GET", "/v1/models")
          + request(3, "POST", "/v1/responses", '{"model":"responses-tiny","stream":true,"input":"hi"}',
                    [("x-ssebench-speed", "0")]))
    write(f, "ping-window-rst-goaway",
          settings + frame(PING, 0, 0, b"12345678") + frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1 << 20))
          + request(1, "POST", "/v1/chat/completions", chat)
          + frame(RST_STREAM, 0, 1, struct.pack(">I", 8)) + frame(GOAWAY, 0, 0, struct.pack(">II", 0, 0)))
    write(f, "options-preflight",
          settings + request(1, "OPTIONS", "/v1/chat/completions", None,
                             [("origin", "http://localhost"), ("access-control-request-method", "POST")]))


# ---- WebSocket (RFC 6455): byte 0 = mode (bit 0: chat path, bit 1: pipelined), then frames ------

def ws_frame(opcode, payload, fin=True, mask=b"\x01\x02\x03\x04"):
    b0 = (0x80 if fin else 0) | opcode
    n = len(payload)
    if n < 126:
        head = bytes([b0, 0x80 | n])
    elif n < 65536:
        head = bytes([b0, 0x80 | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, 0x80 | 127]) + struct.pack(">Q", n)
    masked = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
    return head + mask + masked


def ws_seeds():
    f = "ws_session_fuzzer"
    resp = b'{"type":"response.create","model":"responses-tiny","input":"hi"}'
    chat = b'{"type":"chat.completions.create","model":"chat-tiny","messages":[{"role":"user","content":"hi"}]}'
    close = ws_frame(8, struct.pack(">H", 1000) + b"bye")
    write(f, "responses-turn", b"\x00" + ws_frame(1, resp))
    write(f, "responses-turn-then-close", b"\x00" + ws_frame(1, resp) + close)
    write(f, "chat-turn-pipelined", b"\x03" + ws_frame(1, chat) + close)
    write(f, "fragmented-with-ping", b"\x00" + ws_frame(1, resp[:10], fin=False) + ws_frame(9, b"p")
          + ws_frame(0, resp[10:]) + close)
    write(f, "two-turns-then-binary", b"\x01" + ws_frame(1, chat) + ws_frame(1, chat) + ws_frame(2, b"\x00\x01"))
    # A zero mask leaves the payload as it is: the dictionary's words (ws_session_fuzzer.dict) then
    # land in the payload as themselves.
    write(f, "zero-mask-turn", b"\x00" + ws_frame(1, resp, mask=b"\x00\x00\x00\x00"))
    write(f, "bad-json-and-type", b"\x00" + ws_frame(1, b"{nope") + ws_frame(1, b'{"type":"x"}') + close)


# ---- TLS: a real ClientHello from openssl s_client --------------------------------------------

def client_hello(*args):
    """The bytes `openssl s_client ARGS` sends first, read by a listener that never answers."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    got = []

    def accept():
        c, _ = srv.accept()
        c.settimeout(3)
        data = b""
        while len(data) < 5 or len(data) < 5 + struct.unpack(">H", data[3:5])[0]:
            chunk = c.recv(65536)
            if not chunk:
                break
            data += chunk
        got.append(data)
        c.close()

    t = threading.Thread(target=accept)
    t.start()
    subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", *args],
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=10, check=False)
    t.join()
    srv.close()
    return got[0]


def tls_seeds():
    """Byte 0: the size of the first piece fed (0: all at once), then the client's bytes."""
    f = "tls_fuzzer"
    hello = client_hello("-servername", "localhost", "-alpn", "h2,http/1.1")
    write(f, "clienthello-alpn-h2-http11", b"\x00" + hello)
    write(f, "clienthello-alpn-h2-http11-cut-in-header", b"\x03" + hello)
    write(f, "clienthello-alpn-http11-tls12", b"\x00" + client_hello("-tls1_2", "-alpn", "http/1.1"))
    write(f, "clienthello-alpn-no-overlap", b"\x00" + client_hello("-alpn", "spdy/3,h3"))
    write(f, "clienthello-no-alpn", b"\x00" + client_hello("-servername", "localhost"))
    write(f, "plain-http-to-tls-port", b"\x00GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")


if __name__ == "__main__":
    h2_seeds()
    ws_seeds()
    tls_seeds()
