#!/usr/bin/env python3
"""A TLS test server: tls_backend.py PORT CERT_PEM [CLIENT_CA|-] [keepalive|slow-handshake].

Answers every GET and POST with "tls-backend reused=True|False sni=NAME conns=N"
(whether the client resumed a TLS session, the server name it asked for,
the connections accepted so far) and closes the connection after each
response, so each request is a new handshake: what tls_backend.sh needs to
see resumption and verification from the proxy's side.  With CLIENT_CA it
asks for and verifies a client certificate; with `keepalive` it keeps
connections open (to see the proxy reuse them); with `slow-handshake` it
answers each TLS handshake 0.3 s late (a slow or distant server).
"""
import http.server
import socketserver
import ssl
import sys
import time

port, cert = int(sys.argv[1]), sys.argv[2]
client_ca = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] != "-" else None
keepalive = len(sys.argv) > 4 and sys.argv[4] == "keepalive"
slow_handshake = len(sys.argv) > 4 and sys.argv[4] == "slow-handshake"
names = {}
conns = [0]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        sock = self.request
        body = ("tls-backend reused=%s sni=%s conns=%d\n"
                % (sock.session_reused, names.get(id(sock), "-"), conns[0])).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        if not keepalive:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = not keepalive

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.do_GET()

    def setup(self):
        conns[0] += 1
        super().setup()

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def get_request(self):
        sock, addr = self.socket.accept()
        if slow_handshake:
            time.sleep(0.3)
            sock = ctx.wrap_socket(sock, server_side=True)
        return sock, addr


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert)
if client_ca:
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(client_ca)


def remember_sni(sock, name, _ctx):
    names[id(sock)] = name


ctx.sni_callback = remember_sni
httpd = Server(("127.0.0.1", port), Handler)
if not slow_handshake:
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
httpd.serve_forever()
