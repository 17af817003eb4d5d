"""raw_http.py: the pieces the scenarios' hand-written HTTP peers share
(imported by their inline python: sys.path gets tests/scenario first).

    serve(port, handle, cert=None)
                             a threaded server on 127.0.0.1:port: for each
                             connection, reads the request head and calls
                             handle(conn, head, rest) (rest: the bytes after
                             the head); the connection is closed after.
                             With cert (a PEM of certificate and key) it
                             speaks TLS, and the close after sends no
                             close_notify (conn.unwrap() first sends one)
    read_head(sock, data)    (head, rest) once a head is in, None at EOF
    read_to_eof(sock)        (every byte until the peer's end of stream,
                             the error that ended it instead or None)
"""
import socket
import threading


def read_head(sock, data=b""):
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    return head + b"\r\n\r\n", rest


def read_to_eof(sock):
    got = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return got, None
            got += chunk
    except OSError as e:
        return got, e


def listener(port):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(64)
    return srv


def serve(port, handle, cert=None):
    srv = listener(port)
    ctx = None
    if cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert)

    def one(conn):
        try:
            if ctx:
                conn = ctx.wrap_socket(conn, server_side=True)
            got = read_head(conn)
            if got is not None:
                handle(conn, got[0], got[1])
        except (OSError, ValueError):
            pass
        finally:
            conn.close()

    while True:
        conn, _ = srv.accept()
        threading.Thread(target=one, args=(conn,), daemon=True).start()
