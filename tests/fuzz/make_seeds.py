#!/usr/bin/env python3
"""Writes the hand-made seed inputs of the fuzz corpora (files named seed-*).

    python3 tests/fuzz/make_seeds.py

Request-path inputs start with two control bytes (see fuzz_request.c):
byte 0 selects requests (bit 0 clear) or responses (bit 0 set) and the
options, byte 1 seeds the sizes of the pieces the stream arrives in.
Inputs the fuzzer added later are named by their SHA-1 and are not touched.
"""
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
REQ_DIR = os.path.join(HERE, "corpus", "request")
CONF_DIR = os.path.join(HERE, "corpus", "config")
PP_DIR = os.path.join(HERE, "corpus", "proxy_proto")
TRAILER_DIR = os.path.join(HERE, "corpus", "trailer")

# byte 0 flags
RESP = 0x01
LIMIT16, LIMIT1K, LIMIT1M = 0x02, 0x04, 0x06
V6 = HEAD_REQ = 0x08
REQ_UPGRADE = 0x10
CLIENT_KA = 0x20
CLIENT_10 = 0x40
ONESHOT = 0x80

H = "Host: example.com\r\n"


def crlf(s):
    return s.replace("\n", "\r\n")


REQUESTS = {
    # ordinary traffic
    "get": crlf("GET / HTTP/1.1\nHost: example.com\nUser-Agent: curl/8.0\nAccept: */*\n\n"),
    "get-query": crlf("GET /search?q=a%20b&x=1#frag HTTP/1.1\nHost: example.com:8080\n\n"),
    "get-http10": crlf("GET /index.html HTTP/1.0\n\n"),
    "get-http10-keepalive": crlf("GET / HTTP/1.0\nHost: a\nConnection: keep-alive\n\n"),
    "head": crlf("HEAD /x HTTP/1.1\nHost: a\n\n"),
    "options-star": crlf("OPTIONS * HTTP/1.1\nHost: a\n\n"),
    "delete": crlf("DELETE /items/1 HTTP/1.1\nHost: a\nContent-Length: 0\n\n"),
    "post-cl": crlf("POST /submit HTTP/1.1\nHost: a\nContent-Type: text/plain\nContent-Length: 11\n\n")
    + "hello world",
    "post-cl-split": crlf("POST / HTTP/1.1\nHost: a\nContent-Length: 100\n\n") + "x" * 100,
    "post-chunked": crlf("POST /up HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n"
                         "5\nhello\n6;ext=1;q=\"v\"\n world\n0\nX-Trailer: t\n\n"),
    "post-chunked-gzip": crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding: gzip, chunked\n\n"
                              "1\nz\n0\n\n"),
    "put-chunked-big": crlf("PUT / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n")
    + "40\r\n" + "y" * 64 + "\r\n0\r\n\r\n",
    "pipelined-get-get": crlf("GET /1 HTTP/1.1\nHost: a\n\nGET /2 HTTP/1.1\nHost: a\n\n"),
    "pipelined-post-get": crlf("POST /1 HTTP/1.1\nHost: a\nContent-Length: 3\n\n") + "abc"
    + crlf("GET /2 HTTP/1.1\nHost: a\n\n"),
    "pipelined-chunked-get": crlf("POST /1 HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n"
                                  "3\nabc\n0\n\nGET /2 HTTP/1.1\nHost: a\nConnection: close\n\n"),
    "upgrade-websocket": crlf("GET /chat HTTP/1.1\nHost: a\nUpgrade: websocket\n"
                              "Connection: Upgrade\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\n"
                              "Sec-WebSocket-Version: 13\n\n") + "\x81\x05hello",
    "upgrade-with-body": crlf("POST / HTTP/1.1\nHost: a\nUpgrade: h2c\nConnection: upgrade, HTTP2-Settings\n"
                              "HTTP2-Settings: AAMAAABkAAQAAP__\nContent-Length: 4\n\n") + "body",
    "upgrade-no-connection": crlf("GET / HTTP/1.1\nHost: a\nUpgrade: websocket\n\n"),
    "connection-upgrade-only": crlf("GET / HTTP/1.1\nHost: a\nConnection: upgrade\n\n"),
    "upgrade-te-gzip": crlf("POST / HTTP/1.1\nHost: a\nUpgrade: x\nConnection: upgrade\n"
                            "Transfer-Encoding: gzip\n\n") + "data",
    "connect": crlf("CONNECT example.com:443 HTTP/1.1\nHost: example.com:443\n\n"),
    "expect-100": crlf("PUT /big HTTP/1.1\nHost: a\nExpect: 100-continue\nContent-Length: 5\n\n") + "12345",
    "absolute-form": crlf("GET http://example.com/path?x HTTP/1.1\nHost: example.com\n\n"),
    "absolute-form-https": crlf("GET https://Example.COM:8443 HTTP/1.1\nHost: example.com:8443\n\n"),
    "absolute-form-mismatch": crlf("GET http://evil.com/ HTTP/1.1\nHost: example.com\n\n"),
    "absolute-form-nohost10": crlf("GET http://example.com/ HTTP/1.0\n\n"),
    "hop-by-hop": crlf("GET / HTTP/1.1\nHost: a\nConnection: close, X-Secret\nX-Secret: 1\nKeep-Alive: timeout=5\n"
                       "TE: trailers\nTrailer: X-T\nProxy-Connection: keep-alive\nX-Kept: 2\n\n"),
    "connection-names-framing": crlf("POST / HTTP/1.1\nHost: a\nConnection: content-length, host, "
                                     "transfer-encoding, expect\nContent-Length: 2\n\n") + "ok",
    "xff-existing": crlf("GET / HTTP/1.1\nHost: a\nX-Forwarded-For: 1.2.3.4\nX-Forwarded-For: 5.6.7.8, 9.9.9.9\n"
                         "X-Forwarded-For:\nX-Forwarded-Proto: https\n\n"),
    # sticky sessions: the SRV cookie taken out of Cookie fields (fuzz_request's SRV)
    "cookie-sticky-middle": crlf("GET / HTTP/1.1\nCookie: a=1; SRV=abcdefghijklmnop; b=2\nHost: a\n\n"),
    "cookie-sticky-only-fields": crlf("POST / HTTP/1.1\nHost: a\nCookie: SRV=x\ncookie: y=1;SRV=z;;\n"
                                      "Cookie:  SRV = q ; SRVX=1\nContent-Length: 2\n\n") + "ok",
    "cookie-sticky-none": crlf("GET / HTTP/1.1\nHost: a\nCookie: SRVX=1; xSRV=2; a=SRV=3\n\n"),
    "empty-values": crlf("GET / HTTP/1.1\nHost: a\nX-Empty:\nX-Space:   \nX-Tab:\t\tv\t\n\n"),
    "token-chars": crlf("GET / HTTP/1.1\nHost: a\nX!#$%&'*+-.^_`|~: v\n\n"),
    "obs-text": "GET / HTTP/1.1\r\nHost: a\r\nX-Bytes: caf\xc3\xa9 \xff\x80\r\n\r\n",
    "many-fields-100": "GET / HTTP/1.1\r\nHost: a\r\n" + "".join("X-%d: %d\r\n" % (i, i) for i in range(99)) + "\r\n",
    "many-fields-101": "GET / HTTP/1.1\r\nHost: a\r\n" + "".join("X-%d: %d\r\n" % (i, i) for i in range(100)) + "\r\n",
    "long-uri": "GET /" + "a" * 3000 + " HTTP/1.1\r\nHost: a\r\n\r\n",
    "incomplete-head": "GET / HTTP/1.1\r\nHost: a\r\nX-Partial: ",
    "incomplete-body": crlf("POST / HTTP/1.1\nHost: a\nContent-Length: 50\n\n") + "short",
    "incomplete-chunk": crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n") + "a\r\nonly",
    # request smuggling vectors: all must be refused
    "smuggle-cl-te": crlf("POST / HTTP/1.1\nHost: a\nContent-Length: 13\nTransfer-Encoding: chunked\n\n"
                          "0\n\nSMUGGLED"),
    "smuggle-te-cl": crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\nContent-Length: 4\n\n"
                          "5c\nGPOST / HTTP/1.1\nContent-Length: 15\n\nx=1\n0\n\n"),
    "smuggle-double-cl-same": crlf("POST / HTTP/1.1\nHost: a\nContent-Length: 3\nContent-Length: 3\n\n") + "abc",
    "smuggle-double-cl-differ": crlf("POST / HTTP/1.1\nHost: a\nContent-Length: 3\nContent-Length: 8\n\n")
    + "abcGET /",
    "smuggle-cl-list": crlf("POST / HTTP/1.1\nHost: a\nContent-Length: 3, 3\n\n") + "abc",
    "smuggle-cl-plus": crlf("POST / HTTP/1.1\nHost: a\nContent-Length: +3\n\n") + "abc",
    "smuggle-cl-negative": crlf("POST / HTTP/1.1\nHost: a\nContent-Length: -1\n\n"),
    "smuggle-cl-huge": crlf("POST / HTTP/1.1\nHost: a\nContent-Length: 99999999999999999999999\n\n"),
    "smuggle-cl-hex": crlf("POST / HTTP/1.1\nHost: a\nContent-Length: 0x10\n\n"),
    # llhttp's loose mode: any two bytes after a chunk's data, CR + any byte as a line end
    "smuggle-chunk-data-lf": crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n3\n") + "abc\n10"
                             + crlf("\n\nGET /smuggled HTTP/1.1\nHost: a\n\n"),
    "smuggle-chunk-data-any": crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n3\n") + "abcXX0"
                              + crlf("\n\n"),
    "smuggle-chunk-size-cr": crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n3\nabc\n") + "0\r8"
                             + crlf("\n\n"),
    # a folded trailer line (obs-fold): llhttp joins it to the field before
    "smuggle-trailer-obs-fold": crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n"
                                     "5\nhello\n0\nX-Sum: 1\n  folded\nX-After: 2\n\n"),
    "smuggle-trailer-obs-fold-tab": crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n"
                                         "0\nX-Sum: 1\n\tTransfer-Encoding: chunked\n\nGET /smuggled HTTP/1.1\n"
                                         "Host: a\n\n"),
    "smuggle-trailer-end-lf": crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n0\nX-T: 1\n") + "\n"
                              + crlf("GET /smuggled HTTP/1.1\nHost: a\n\n"),
    "smuggle-te-http10": crlf("POST / HTTP/1.0\nHost: a\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n"),
    "smuggle-te-not-last": crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked, gzip\n\n3\nabc\n0\n\n"),
    "smuggle-te-identity": crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding: identity\nContent-Length: 3\n\nabc"),
    "smuggle-te-xchunked": crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding: xchunked\n\n3\nabc\n0\n\n"),
    "smuggle-te-double": crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\nTransfer-Encoding: gzip\n\n"),
    "smuggle-te-space": crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding : chunked\n\n3\nabc\n0\n\n"),
    "smuggle-te-tab-value": "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\tchunked\t\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    "smuggle-te-vtab": "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \x0bchunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    "smuggle-obs-fold": crlf("GET / HTTP/1.1\nHost: a\nX-Folded: one\n two\n\n"),
    "smuggle-obs-fold-te": crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding:\n chunked\n\n0\n\n"),
    "smuggle-bare-lf": "GET / HTTP/1.1\nHost: a\n\n",
    "smuggle-bare-lf-field": "GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n",
    "smuggle-bare-cr": "GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n",
    "smuggle-cr-head-end": "GET / HTTP/1.1\r\nHost: a\r\n\rGET /admin HTTP/1.1\r\nHost: a\r\n\r\n",
    "smuggle-cr-head-end-chunked": "PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\x02"
    "5\r\nhello\r\n0\r\n\r\n",
    "smuggle-ctl-target": "GET /search?q\x0c HTTP/1.1\r\nHost: a\r\n\r\nGET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n",
    "smuggle-nul-value": "GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n",
    "smuggle-nul-name": "GET / HTTP/1.1\r\nHost: a\r\nX\x00Y: b\r\n\r\n",
    "smuggle-nul-uri": "GET /a\x00b HTTP/1.1\r\nHost: a\r\n\r\n",
    "smuggle-ctl-value": "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01\x7fb\r\n\r\n",
    "smuggle-two-hosts": crlf("GET / HTTP/1.1\nHost: a\nHost: b\n\n"),
    "smuggle-no-host": crlf("GET / HTTP/1.1\nUser-Agent: x\n\n"),
    "smuggle-host-space": crlf("GET / HTTP/1.1\nHost : a\n\n"),
    "smuggle-chunk-size-bad": crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n0x5\nhello\n0\n\n"),
    "smuggle-chunk-size-overflow": crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n"
                                        "fffffffffffffffff1\nhello\n0\n\n"),
    "smuggle-chunk-ext-bad": crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n") + "5;\x01=\r\nhello\r\n0\r\n\r\n",
    "smuggle-chunk-ext-lf": crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n") + "5;a\nhello\r\n0\r\n\r\n",
    "smuggle-chunk-no-crlf": crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n") + "3\r\nabcX0\r\n\r\n",
    "smuggle-chunk-space": crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n") + "3 \r\nabc\r\n0\r\n\r\n",
    "smuggle-chunk-lf-only": crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n") + "3\nabc\n0\n\n",
    "smuggle-not-http": crlf("GET / FTP/1.1\nHost: a\n\n"),
    "smuggle-http2-line": crlf("GET / HTTP/2.0\nHost: a\n\n"),
    "smuggle-http09": crlf("GET /\n\n"),
    "smuggle-lowercase-version": crlf("GET / http/1.1\nHost: a\n\n"),
    "smuggle-method-space": crlf("GET  / HTTP/1.1\nHost: a\n\n"),
    "smuggle-uri-space": crlf("GET /a b HTTP/1.1\nHost: a\n\n"),
    "smuggle-prefix-crlf": crlf("\nGET / HTTP/1.1\nHost: a\n\n"),
    "smuggle-te-get-body": crlf("GET / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n0\n\nGET /admin HTTP/1.1\nHost: a\n\n"),
}

# (flags, text)
REQUEST_MODES = {
    "post-chunked": [LIMIT16, LIMIT1K],
    "put-chunked-big": [LIMIT16],
    "smuggle-trailer-obs-fold": [LIMIT1K, LIMIT1K],
    "post-cl-split": [LIMIT16],
    "get": [ONESHOT, V6],
    "pipelined-post-get": [ONESHOT],
    "xff-existing": [V6],
}

RESPONSES = {
    "200-cl": (CLIENT_KA, crlf("HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 5\n\n") + "hello"),
    "200-cl-close-client": (0, crlf("HTTP/1.1 200 OK\nContent-Length: 5\n\n") + "hello"),
    "200-chunked": (CLIENT_KA, crlf("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\nTrailer: X-T\n\n"
                                    "5\nhello\n0\nX-T: 1\n\n")),
    "200-chunked-trailers": (CLIENT_KA, crlf("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n"
                                             "3\nabc\n0\nGrpc-Status: 0\nX-Empty:\nKeep-Alive: 5\n"
                                             "Content-Length: 9\n\n")),
    "200-eof": (CLIENT_KA, crlf("HTTP/1.0 200 OK\nContent-Type: text/html\n\n") + "until the end"),
    "200-eof-11": (CLIENT_KA, crlf("HTTP/1.1 200 OK\nConnection: close\n\n") + "until the end"),
    "204": (CLIENT_KA, crlf("HTTP/1.1 204 No Content\nContent-Length: 10\n\n")),
    "304": (CLIENT_KA, crlf("HTTP/1.1 304 Not Modified\nETag: \"x\"\nTransfer-Encoding: chunked\n\n")),
    "head-response": (CLIENT_KA | HEAD_REQ, crlf("HTTP/1.1 200 OK\nContent-Length: 1000\n\n")),
    "100-then-200": (CLIENT_KA, crlf("HTTP/1.1 100 Continue\n\nHTTP/1.1 200 OK\nContent-Length: 2\n\n") + "ok"),
    "103-then-200": (CLIENT_KA, crlf("HTTP/1.1 103 Early Hints\nLink: </s.css>; rel=preload\n\n"
                                     "HTTP/1.1 201 Created\nContent-Length: 0\n\n")),
    "101-upgrade": (CLIENT_KA | REQ_UPGRADE, crlf("HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\n"
                                                  "Connection: Upgrade\nSec-WebSocket-Accept: x\n\n") + "\x81\x00"),
    "101-unasked": (CLIENT_KA, crlf("HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\nConnection: Upgrade\n\n")),
    "101-no-headers": (CLIENT_KA | REQ_UPGRADE, crlf("HTTP/1.1 101 Switching Protocols\n\n")),
    "upgrade-refused": (CLIENT_KA | REQ_UPGRADE, crlf("HTTP/1.1 200 OK\nUpgrade: h2c\nConnection: Upgrade\n"
                                                      "Content-Length: 2\n\n") + "no"),
    "hop-by-hop": (CLIENT_KA, crlf("HTTP/1.1 200 OK\nConnection: keep-alive, X-Private\nX-Private: 1\n"
                                   "Keep-Alive: timeout=5\nProxy-Connection: close\nTrailer: X\nTE: x\n"
                                   "Upgrade: foo\nContent-Length: 0\n\n")),
    "http10-client": (CLIENT_KA | CLIENT_10, crlf("HTTP/1.1 200 OK\nContent-Length: 3\n\n") + "abc"),
    "pipelined": (CLIENT_KA, crlf("HTTP/1.1 200 OK\nContent-Length: 1\n\n") + "a"
                  + crlf("HTTP/1.1 404 Not Found\nTransfer-Encoding: chunked\n\n1\nb\n0\n\n")
                  + crlf("HTTP/1.1 200 OK\nContent-Length: 0\n\n")),
    "garbage-after": (CLIENT_KA, crlf("HTTP/1.1 200 OK\nContent-Length: 1\n\n") + "aGARBAGE\r\n\r\n"),
    "cl-te": (CLIENT_KA, crlf("HTTP/1.1 200 OK\nContent-Length: 5\nTransfer-Encoding: chunked\n\n0\n\n")),
    "te-gzip": (CLIENT_KA, crlf("HTTP/1.1 200 OK\nTransfer-Encoding: gzip\n\n") + "compressed"),
    "double-cl": (CLIENT_KA, crlf("HTTP/1.1 200 OK\nContent-Length: 1\nContent-Length: 2\n\n") + "ab"),
    "bad-status": (CLIENT_KA, crlf("HTTP/1.1 2000 OK\nContent-Length: 0\n\n")),
    "short-status": (CLIENT_KA, crlf("HTTP/1.1 20 OK\n\n")),
    "no-reason": (CLIENT_KA, crlf("HTTP/1.1 200\nContent-Length: 0\n\n")),
    "status-bare-cr": (CLIENT_KA, "HTTP/1.1 200 O\rK\r\nContent-Length: 0\r\n\r\n"),
    "bare-lf-status": (CLIENT_KA, "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    "icy": (CLIENT_KA, crlf("ICY 200 OK\n\n")),
    "bare-lf": (CLIENT_KA, "HTTP/1.1 200 OK\nContent-Length: 0\n\n"),
    "obs-fold": (CLIENT_KA, crlf("HTTP/1.1 200 OK\nX: a\n b\nContent-Length: 0\n\n")),
    "many-fields": (CLIENT_KA, "HTTP/1.1 200 OK\r\n" + "".join("X-%d: v\r\n" % i for i in range(257)) + "\r\n"),
    "cut-short": (CLIENT_KA, crlf("HTTP/1.1 200 OK\nContent-Length: 100\n\n") + "partial"),
    "chunked-trailer-obs-fold": (CLIENT_KA, crlf("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n"
                                                 "5\nhello\n0\nX-Sum: 1\n  folded\n\n")),
    "chunked-bad": (CLIENT_KA, crlf("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n") + "zz\r\n"),
    "oneshot": (CLIENT_KA | ONESHOT, crlf("HTTP/1.1 500 Internal Server Error\nContent-Length: 3\n\n") + "err"),
}

CONFIGS = {
    "minimal": "listen 127.0.0.1:8080\npool p { server a 127.0.0.1:9001 }\n",
    "minimal-crlf": "listen 127.0.0.1:8080\r\npool p {\r\n  server a 127.0.0.1:9001\r\n}\r\n",
    "ipv6": "listen [::]:8080\nlisten [::1]:8081\npool p { server a [::1]:9001 weight 256 }\n",
    "two-pools-routes": "listen *:8080\npool a { server s1 127.0.0.1:1 }\npool b { server s2 localhost:2 max-conns 5 }\n"
    "route host Example.com path /v1/ pool a\nroute path / pool b\nroute default pool a\n",
    "everything": "workers 4\nmax-conns 100\nlog-level debug\naccess-log off\nnotify \"/bin/echo hi\"\n"
    "listen 0.0.0.0:80\nstats 127.0.0.1:8404 token \"t o k\"\n"
    "timeout connect 250ms\ntimeout client 1s\ntimeout keep-alive 5m\ntimeout server 1h\n"
    "timeout queue 2s\ntimeout shutdown 0s\nlimit header-size 8k\nlimit headers 50\nlimit body-size 1m\n"
    "pool web {\n balance round-robin\n check http /h host \"h.example\"\n expect 200-204\n interval 500ms\n"
    " check-timeout 100ms\n rise 1\n fall 1\n standby-below 2\n slow-start 10s\n retries 0\n max-queue 0\n"
    " server a 10.0.0.1:80 weight 3 max-conns 10\n standby b 10.0.0.2:80\n}\n",
    "check-tcp-off": "listen 1.2.3.4:5\npool a { check tcp\n server x 1.1.1.1:1 }\npool b { check off\n server y 1.1.1.1:2 }\n"
    "route default pool b\n",
    # broken ones
    "empty": "",
    "comments-only": "# nothing\n   # here\n",
    "no-listen": "pool p { server a 127.0.0.1:9001 }\n",
    "no-pool": "listen 127.0.0.1:8080\n",
    "pool-no-server": "listen 127.0.0.1:8080\npool p { }\n",
    "unclosed": "listen 127.0.0.1:8080\npool p {\n server a 127.0.0.1:9001\n",
    "stray-brace": "}\nlisten 127.0.0.1:8080\n}}\n{\n",
    "nested-pool": "listen :1\npool a { pool b { server s 1.2.3.4:5 } }\n",
    "unknown-directive": "listen 127.0.0.1:8080\nfrobnicate yes\npool p { server a 127.0.0.1:1\n bogus 1 }\n",
    "bad-values": "workers 65\nmax-conns -1\nlog-level loud\ntimeout client 10\ntimeout server 5x\n"
    "timeout connect 99999999999999999999h\nlimit header-size 16q\nlimit body-size 99999999999g\n"
    "limit headers 0\nlisten 127.0.0.1:8080\npool p { server a 127.0.0.1:9001 weight 0\n expect 399-200\n"
    " rise 0\n fall x\n balance random\n check ftp\n}\n",
    "bad-addresses": "listen 127.0.0.1\nlisten 127.0.0.1:0\nlisten 127.0.0.1:65536\nlisten [::1:80\nlisten ::1:80\n"
    "listen host.example:80\nlisten 999.1.1.1:80\npool p { server a [zz]:1 }\n",
    "duplicates": "listen 127.0.0.1:8080\nlisten 127.0.0.1:8080\nstats 127.0.0.1:8080\n"
    "pool p { server a 127.0.0.1:1\n server a 127.0.0.1:2 }\npool p { server b 127.0.0.1:3 }\n",
    "route-unknown-pool": "listen 127.0.0.1:8080\npool p { server a 127.0.0.1:1 }\npool q { server b 127.0.0.1:1 }\n"
    "route path /x pool nope\nroute default\nroute host pool p\n",
    "several-pools-no-route": "listen :8080\npool a { server s 127.0.0.1:1 }\npool b { server t 127.0.0.1:2 }\n",
    "quotes": "listen \"127.0.0.1:8080\"\nnotify \"unterminated\npool \"p q\" { server \"{\" 127.0.0.1:1 }\n",
    "escapes": "access-log \"a\\\"b\\\\c\"\nlisten 127.0.0.1:8080\npool p{server a 127.0.0.1:1}\n",
    "long-word": "listen 127.0.0.1:8080\npool " + "p" * 200 + " { server " + "s" * 100 + " 127.0.0.1:1 }\n"
    "access-log " + "/x" * 700 + "\n",
    "nul-byte": "listen 127.0.0.1:8080\x00\npool p { server a 127.0.0.1:1 }\n",
    "args-missing": "listen\nstats\ntimeout\nlimit\npool\nroute\nlisten 127.0.0.1:8080\npool p { server\nserver a\n }\n",
    "braces-on-lines": "listen 127.0.0.1:8080\npool p\n{\nserver a 127.0.0.1:1\n}\n",
    "admission": "listen 127.0.0.1:8080\nlimit rate 50/s burst 100\nlimit client-conns 20\ntrust 10.0.0.0/8 ::1\n"
    "trust 2001:db8::/32\nclient-ip header X-Forwarded-For from 192.0.2.0/24 2001:db8:cd::/48\n"
    "error-page 503 /etc/hostname\npool p { server a 127.0.0.1:1 }\n"
    "route path /checkout/ pool p priority high\nroute path /feed/ pool p priority low\nroute default pool p\n",
    "admission-bad": "listen 127.0.0.1:8080\nlimit rate 0/s\nlimit rate 5/h burst\nlimit client-conns x\n"
    "trust 10.0.0.1/8\ntrust 300.0.0.0/8\ntrust ::1/129\nclient-ip header X(Y) from 1.2.3.4\nclient-ip header\n"
    "error-page 404 /etc/hostname\nerror-page 503 /dev/zero\nerror-page 503 /nonexistent\n"
    "pool p { server a 127.0.0.1:1 }\nroute default pool p priority urgent\n",
}


# Seeds that show a bug not fixed yet: they go to tests/fuzz/crashes/ (replayed
# by `make fuzz-crashes`) until it is; then delete the name here and rename
# the crash file into the corpus as fixed-seed-NAME (write() leaves a seed
# that is already there under that name alone).  Every one listed so far is
# fixed (corpus/request/fixed-seed-*).
KNOWN_BUGS = set()
CRASH_DIR = os.path.join(HERE, "crashes")

# PROXY protocol headers (fuzz_proxy_proto.c: the first bytes of a connection).
PP_SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def pp_v2(ver_cmd, fam, block, announced=None):
    n = len(block) if announced is None else announced
    return PP_SIG + bytes([ver_cmd, fam, n >> 8, n & 0xFF]) + block


PP_INET = bytes([10, 0, 0, 1, 10, 0, 0, 2, 0x1F, 0x90, 0x00, 0x50])
PP_INET6 = bytes(15) + b"\x01" + bytes(15) + b"\x02" + b"\x30\x39\x01\xbb"
PROXY_HEADERS = {
    "v1-tcp4": b"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\n\r\n",
    "v1-tcp6": b"PROXY TCP6 2001:db8::1 ::1 65535 0\r\n",
    "v1-tcp6-longest": b"PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n",
    "v1-unknown": b"PROXY UNKNOWN\r\n",
    "v1-unknown-addrs": b"PROXY UNKNOWN ::1 ::1 1 2\r\n",
    "v1-bare-lf": b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",
    "v1-leading-zero-port": b"PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",
    "v1-too-long": b"PROXY UNKNOWN " + b"x" * 100 + b"\r\n",
    "v2-tcp4": pp_v2(0x21, 0x11, PP_INET) + b"GET / HTTP/1.1\r\n",
    "v2-tcp6": pp_v2(0x21, 0x21, PP_INET6),
    "v2-local": pp_v2(0x20, 0x00, b""),
    "v2-unspec": pp_v2(0x21, 0x00, b""),
    "v2-unix": pp_v2(0x21, 0x31, bytes(216)),
    "v2-udp4": pp_v2(0x21, 0x12, PP_INET),
    "v2-tlvs": pp_v2(0x21, 0x11, PP_INET + b"\x01\x00\x02h2\x02\x00\x09a.example\x04\x00\x00"),
    "v2-tlv-overrun": pp_v2(0x21, 0x11, PP_INET + b"\x01\x00\x09h2"),
    "v2-huge-length": pp_v2(0x21, 0x11, PP_INET, 0xFFFF),
    "v2-short-block": pp_v2(0x21, 0x21, PP_INET),
    "v2-bad-version": pp_v2(0x11, 0x11, PP_INET),
    "garbage-http": b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
}

# fuzz_trailer.c: byte 0 is the client (bits 0-1) and the options, byte 1
# seeds the piece sizes; a body without a head gets a chunked 200 head.
T_H11, T_H10, T_H2, T_H11_CLOSE = 0, 1, 2, 3
T_LIMIT512, T_LIMIT2K, T_LIMIT64K = 0x04, 0x08, 0x0C
T_HEAD_REQ, T_SERVER_CLOSES, T_SLOW, T_ONESHOT = 0x10, 0x20, 0x40, 0x80
T_ALL_CLIENTS = [T_H11, T_H10, T_H2, T_H11_CLOSE]

CHUNKED_HEAD = "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n"
TRAILERS = {
    # name: (modes, server bytes: LF for CRLF)
    "plain": (T_ALL_CLIENTS, "5\nhello\n0\nX-Checksum: abc\n\n"),
    "none": (T_ALL_CLIENTS, "3\nabc\n0\n\n"),
    "hop-by-hop": (T_ALL_CLIENTS + [T_SLOW],
                   "4\nbody\n0\nConnection: X-Drop, close\nX-Drop: 1\nKeep-Alive: 5\nTE: trailers\n"
                   "Trailer: X-Keep\nUpgrade: h2c\nProxy-Connection: close\nTransfer-Encoding: gzip\n"
                   "X-Keep: 2\n\n"),
    "connection-lists": ([T_H11, T_H2],
                         "0\nconnection: a\nConnection: B , c,,\nA: 1\nb: 2\nC: 3\nd: 4\n\n"),
    "connection-nine": ([T_H11],
                        "0\n" + "".join("Connection: x%d\n" % i for i in range(9)) + "Y: 1\n\n"),
    "head-connection": ([T_H11, T_H2],
                        "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\nConnection: X-Named, keep-alive\n"
                        "Trailer: X-Named, X-Other\n\n2\nok\n0\nX-Named: 1\nX-Other: 2\n\n"),
    "forbidden": ([T_H11, T_H2],
                  "0\nContent-Length: 5\nHost: a\nSet-Cookie: a=b\nContent-Type: text/plain\n"
                  "Authorization: x\nProxy-Authenticate: y\nX-Fine: z\n\n"),
    "ows": ([T_H11, T_H11 | T_ONESHOT], "1\na\n0\nX-A:   spaced value \t\nX-Empty:\nX-B:c\n\n"),
    "extensions": ([T_H11, T_H10], "5;ext=1\nhello\n0;last=\"q\"\nX-A: b\n\n"),
    "stray-after": ([T_H11, T_H11_CLOSE],
                    "0\nX-A: b\n\nHTTP/1.1 200 OK\nContent-Length: 2\n\nhi"),
    "interim": ([T_H11, T_H2],
                "HTTP/1.1 100 Continue\n\nHTTP/1.1 103 Early Hints\nLink: </a>\n\n" + CHUNKED_HEAD +
                "1\nx\n0\nX-A: b\n\n"),
    "over-limit": ([T_H11 | T_LIMIT512, T_H2 | T_LIMIT512],
                   "3\nabc\n0\n" + "".join("X-Long-%02d: %s\n" % (i, "v" * 40) for i in range(16)) + "\n"),
    "large-body": ([T_H11, T_H11 | T_SLOW, T_H10 | T_SLOW],
                   "".join("%x\n%s\n" % (900, chr(97 + i) * 900) for i in range(24)) + "0\nX-End: 1\n\n"),
    "malformed": ([T_H11], "0\nBad Header\n\n"),
    "obs-fold": (T_ALL_CLIENTS + [T_H11 | T_SLOW, T_H2 | T_ONESHOT],
                 "5\nhello\n0\nX-Sum: 1\n  folded\nX-After: 2\n\n"),
    "obs-fold-tab": ([T_H11, T_H10, T_H2], "3\nabc\n0\nX-A: 1\n\tX-B: 2\n\n"),
    "cut-in-trailers": ([T_H11 | T_SERVER_CLOSES, T_H10 | T_SERVER_CLOSES], "2\nab\n0\nX-A: b\nX-"),
    "cut-in-chunk": ([T_H11 | T_SERVER_CLOSES, T_H10 | T_SERVER_CLOSES], "a\nabc"),
    "head-request": ([T_H11 | T_HEAD_REQ], ""),
    "content-length": ([T_H11, T_H10], "HTTP/1.1 200 OK\nContent-Length: 5\n\nhelloEXTRA"),
    "to-eof": ([T_H11 | T_SERVER_CLOSES], "HTTP/1.0 200 OK\n\nuntil the end"),
}


def write(dirname, name, data):
    if os.path.exists(os.path.join(dirname, "fixed-seed-" + name)):
        return  # a fixed bug's seed, kept as a regression under that name
    if name in KNOWN_BUGS:
        os.makedirs(CRASH_DIR, exist_ok=True)
        path = os.path.join(CRASH_DIR, os.path.basename(dirname) + "-seed-" + name)
    else:
        path = os.path.join(dirname, "seed-" + name)
    with open(path, "wb") as f:
        f.write(data)


def main():
    os.makedirs(REQ_DIR, exist_ok=True)
    os.makedirs(CONF_DIR, exist_ok=True)
    os.makedirs(PP_DIR, exist_ok=True)
    os.makedirs(TRAILER_DIR, exist_ok=True)
    # Only what this script writes: seed-* in the corpora, *-seed-* among
    # the crashes (never the fixed-seed-* regressions).
    for d in (REQ_DIR, CONF_DIR, PP_DIR, TRAILER_DIR):
        for n in os.listdir(d) if os.path.isdir(d) else []:
            if n.startswith("seed-"):
                os.remove(os.path.join(d, n))
    for n in os.listdir(CRASH_DIR) if os.path.isdir(CRASH_DIR) else []:
        if "-seed-" in n:
            os.remove(os.path.join(CRASH_DIR, n))
    for name, text in REQUESTS.items():
        raw = text.encode("latin-1")
        write(REQ_DIR, "req-" + name, bytes([0x00, 0x41]) + raw)
        for i, flags in enumerate(REQUEST_MODES.get(name, [])):
            write(REQ_DIR, "req-%s-%d" % (name, i + 1), bytes([flags, 0x42 + i]) + raw)
    for name, (flags, text) in RESPONSES.items():
        write(REQ_DIR, "resp-" + name, bytes([flags | RESP, 0x41]) + text.encode("latin-1"))
    for name, text in CONFIGS.items():
        write(CONF_DIR, name, text.encode("latin-1"))
    for name, data in PROXY_HEADERS.items():
        write(PP_DIR, name, data)
    for name, (modes, text) in TRAILERS.items():
        raw = crlf(text).encode("latin-1")
        for i, flags in enumerate(modes):
            write(TRAILER_DIR, "%s-%d" % (name, i), bytes([flags, 0x41 + i]) + raw)
    for name in ("proxy.conf", "demo.conf"):
        shutil.copyfile(os.path.join(ROOT, "conf", name), os.path.join(CONF_DIR, "seed-" + name))


if __name__ == "__main__":
    main()
