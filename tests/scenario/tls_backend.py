#!/usr/bin/env python3
"""A TLS test server: tls_backend.py PORT CERT_PEM [CLIENT_CA].

Answers every request with "NAME reused=True|False sni=NAME\n" (whether the
client resumed a TLS session, the server name it asked for) and closes the
connection after each response, so each request is a new handshake: what
tls_backend.sh needs to see resumption and verification from the proxy's
side.  With CLIENT_CA it asks for and verifies a client certificate.
"""
import http.server
import socketserver
import ssl
import sys

port, cert = int(sys.argv[1]), sys.argv[2]
client_ca = sys.argv[3] if len(sys.argv) > 3 else None
names = {}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        sock = self.request
        body = ("tls-backend reused=%s sni=%s\n" % (sock.session_reused, names.get(id(sock), "-"))).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert)
if client_ca:
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(client_ca)


def remember_sni(sock, name, _ctx):
    names[id(sock)] = name


ctx.sni_callback = remember_sni
httpd = Server(("127.0.0.1", port), Handler)
httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
httpd.serve_forever()
