/*
 * xprt_tls: the transport for TLS connections (see xprt.h), client side
 * (terminating) and server side (to TLS servers), over OpenSSL on the
 * worker's loop.
 *
 * The handshake is not a separate step: SSL_read and SSL_write drive it,
 * so the protocol above starts at once and reads as on a plain socket (a
 * read returns EAGAIN until the request's first bytes are decrypted), and
 * the protocol's own `timeout client` bounds a handshake that stalls.  When
 * OpenSSL needs the other direction (a write during a read: a handshake
 * message, a key update) the flags in struct xprt make the watcher wait for
 * that direction and deliver it as the one the owner asked for.
 *
 * Bytes go straight from OpenSSL to the socket: no io_uring batching and no
 * splice (the capabilities say so), since the ciphertext only exists inside
 * SSL_write.  Records are at most 16 KiB, so a large body streams through
 * the protocol's buffers a record at a time.
 *
 * Listeners read ahead (tls_ctx.c): one read takes every record the socket
 * holds (the client's Finished and its request together) instead of a read
 * for each record's header and one for its body.  Whole records can then
 * wait in OpenSSL with nothing left on the socket: XPRT_TLS_BUFFERED says
 * so until a read comes back wanting more from the socket.
 */
#include "xprt.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "tls_ctx.h"

/* OpenSSL keeps its errors per thread: one left over from an earlier call
 * would make SSL_get_error report it for the next one. */
static int ssl_error(struct xprt *x, int ret)
{
    int e = SSL_get_error(x->ssl, ret);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
        ERR_clear_error();
    return e;
}

static void handshake_done(struct xprt *x)
{
    struct listener_counters *k = SSL_get_app_data(x->ssl);
    x->tls_state = XPRT_TLS_ESTABLISHED;
    if (!k)
        return;
    atomic_fetch_add_explicit(&k->handshakes, 1, memory_order_relaxed);
    if (SSL_session_reused(x->ssl))
        atomic_fetch_add_explicit(&k->resumed, 1, memory_order_relaxed);
}

static void handshake_failed(struct xprt *x, const char *why)
{
    struct listener_counters *k = SSL_get_app_data(x->ssl);
    if (x->tls_state != XPRT_TLS_HANDSHAKING && x->tls_state != XPRT_TLS_FIRST_BYTE)
        return;
    x->tls_state = XPRT_TLS_FAILED;
    if (k)
        atomic_fetch_add_explicit(&k->failed, 1, memory_order_relaxed);
    log_debug("TLS handshake failed on fd %d: %s", x->fd, why);
}

static void note_progress(struct xprt *x)
{
    if (x->tls_state <= XPRT_TLS_HANDSHAKING && SSL_is_init_finished(x->ssl))
        handshake_done(x);
}

/* After a read or peek that gave bytes: whether OpenSSL holds ciphertext
 * it took from the socket and has not decrypted yet (read-ahead).  Only a
 * read that wants more from the socket proves that none of it is a whole
 * record, so the flag is cleared there (read_wants_socket). */
static void note_buffered(struct xprt *x)
{
    if (SSL_has_pending(x->ssl))
        x->tls_flags |= XPRT_TLS_BUFFERED;
    else
        x->tls_flags &= (uint8_t)~XPRT_TLS_BUFFERED;
}

static void read_wants_socket(struct xprt *x)
{
    x->tls_flags &= (uint8_t)~XPRT_TLS_BUFFERED;
}

/* Why a fatal error happened, for the debug log and the failure count. */
static const char *fatal_reason(struct xprt *x, int e)
{
    static _Thread_local char why[160];
    unsigned long code = ERR_peek_last_error();
    if (e == SSL_ERROR_SYSCALL)
        return errno ? strerror(errno) : "the peer closed during the handshake";
    if (SSL_get_verify_result(x->ssl) != X509_V_OK)
        return X509_verify_cert_error_string(SSL_get_verify_result(x->ssl));
    if (!code)
        return "protocol error";
    ERR_error_string_n(code, why, sizeof why);
    return why;
}

/* A plaintext HTTP request on a TLS port gets a plaintext 400 (CONTRACT 7)
 * instead of a handshake failure the client cannot read.  A TLS record
 * starts with its type (22 for a handshake); an HTTP method with a capital
 * letter.  Returns 1 while the first byte is still to come (EAGAIN), 2
 * when the peer closed before sending one, -1 after answering a plaintext
 * request, 0 to go on with TLS. */
static int sniff_first_byte(struct xprt *x)
{
    static const char resp[] = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 35\r\n"
                               "Connection: close\r\n\r\nThis port expects TLS (use https).\n";
    unsigned char c;
    ssize_t n = recv(x->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 1;
    if (n == 0) {
        /* Closed before a byte: a port probe or a balancer's TCP check,
         * not a failed handshake (not counted). */
        x->tls_state = XPRT_TLS_FAILED;
        return 2;
    }
    x->tls_state = XPRT_TLS_HANDSHAKING;
    if (n != 1 || c < 'A' || c > 'Z')
        return 0; /* TLS, garbage or a close: OpenSSL says which */
    if (send(x->fd, resp, sizeof resp - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
        log_debug("plaintext request on a TLS port: the 400 was not sent: %s", strerror(errno));
    handshake_failed(x, "a plaintext request on a TLS port");
    shutdown(x->fd, SHUT_WR);
    /* Closing with the request unread would reset the connection and could
     * take the 400 with it before the client reads it. */
    char sink[4096];
    for (int i = 0; i < 16 && recv(x->fd, sink, sizeof sink, MSG_DONTWAIT) > 0; i++)
        ;
    return -1;
}

static ssize_t tls_recv(struct xprt *x, char *buf, size_t len)
{
    size_t n = 0;

    if (x->tls_state == XPRT_TLS_FAILED) {
        errno = EPROTO;
        return -1;
    }
    if (x->tls_state == XPRT_TLS_FIRST_BYTE) {
        int r = sniff_first_byte(x);
        if (r == 2)
            return 0;
        if (r != 0) {
            errno = r > 0 ? EAGAIN : EPROTO;
            return -1;
        }
    }
    int ret = SSL_read_ex(x->ssl, buf, len, &n);
    if (ret > 0) {
        note_progress(x);
        note_buffered(x);
        return (ssize_t)n;
    }
    int e = ssl_error(x, ret);
    switch (e) {
    case SSL_ERROR_WANT_READ:
        note_progress(x);
        read_wants_socket(x);
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_WANT_WRITE:
        x->tls_flags |= XPRT_TLS_READ_WANTS_WRITE;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        note_progress(x); /* a Finished and a close_notify in one read: a handshake all the same */
        return 0;         /* close_notify: the end of the stream */
    case SSL_ERROR_SYSCALL:
        if (x->tls_state == XPRT_TLS_ESTABLISHED && errno == 0)
            return 0; /* closed without close_notify: an end all the same for HTTP framing */
        /* fall through */
    default:
        handshake_failed(x, fatal_reason(x, e));
        x->tls_state = XPRT_TLS_FAILED;
        errno = errno ? errno : EPROTO;
        return -1;
    }
}

static int tls_send(struct xprt *x, const char *buf, size_t *sent, size_t end)
{
    if (x->tls_state == XPRT_TLS_FAILED) {
        errno = EPIPE;
        return -1;
    }
    while (*sent < end) {
        size_t n = 0;
        int ret = SSL_write_ex(x->ssl, buf + *sent, end - *sent, &n);
        if (ret > 0) {
            note_progress(x);
            *sent += n;
            if (x->q.ops)
                x->q.ops->progress(x->q.owner, n);
            continue;
        }
        int e = ssl_error(x, ret);
        if (e == SSL_ERROR_WANT_WRITE)
            return 0; /* the owner waits for EV_WRITE */
        if (e == SSL_ERROR_WANT_READ) {
            x->tls_flags |= XPRT_TLS_WRITE_WANTS_READ;
            return 0;
        }
        handshake_failed(x, fatal_reason(x, e));
        x->tls_state = XPRT_TLS_FAILED;
        errno = e == SSL_ERROR_SYSCALL && errno ? errno : EPIPE;
        return -1;
    }
    return 0;
}

/* A half-close is TLS's close_notify, then TCP's FIN. */
static void tls_shutdown_write(struct xprt *x)
{
    if (x->tls_state == XPRT_TLS_ESTABLISHED) {
        SSL_shutdown(x->ssl);
        ERR_clear_error();
    }
    shutdown(x->fd, SHUT_WR);
}

/* Application bytes waiting, or the peer's close_notify, without consuming
 * them; records that carry neither (a TLS 1.3 session ticket) are taken
 * on the way. */
static int tls_peek(struct xprt *x)
{
    char c;
    size_t n = 0;
    if (x->tls_state != XPRT_TLS_ESTABLISHED)
        return x->tls_state == XPRT_TLS_FAILED ? 0 : (errno = EAGAIN, -1);
    if (SSL_peek_ex(x->ssl, &c, 1, &n) > 0) {
        note_buffered(x);
        return 1;
    }
    int e = ssl_error(x, 0);
    if (e == SSL_ERROR_WANT_READ)
        read_wants_socket(x);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        errno = EAGAIN;
        return -1;
    }
    return 0;
}

static ssize_t tls_no_splice(struct xprt *x, struct splice_pipe *p, size_t max)
{
    (void)x;
    (void)p;
    (void)max;
    errno = EINVAL;
    return -1;
}

static ssize_t tls_no_splice_out(struct xprt *x, struct splice_pipe *p)
{
    return tls_no_splice(x, p, 0);
}

static void tls_close(struct xprt *x)
{
    if (x->fd < 0)
        return;
    if (x->tls_state == XPRT_TLS_ESTABLISHED) {
        /* close_notify if the socket takes it now; never waited for.  None
         * for an abort: it would make a body cut short look whole. */
        if (!(x->tls_flags & XPRT_ABORT_ON_CLOSE)) {
            SSL_set_quiet_shutdown(x->ssl, 0);
            SSL_shutdown(x->ssl);
        }
    } else {
        handshake_failed(x, "closed before the handshake finished");
    }
    ERR_clear_error();
    SSL_free(x->ssl);
    x->ssl = NULL;
    close(x->fd);
    x->fd = -1;
}

const struct xprt_ops xprt_tls_ops = {
    .name = "tls",
    .caps = 0,
    .recv = tls_recv,
    .send = tls_send,
    .shutdown_write = tls_shutdown_write,
    .peek = tls_peek,
    .unsent = xprt_fd_unsent, /* the ciphertext in the kernel's queue */
    .connect_error = xprt_fd_connect_error,
    .splice_in = tls_no_splice,
    .splice_out = tls_no_splice_out,
    .close = tls_close,
};

/* Decrypted bytes the owner has not read yet (a record read in part), or
 * records read ahead since the last read that wanted the socket.  Not
 * SSL_has_pending alone: it is also true for the start of a record still
 * in flight (half a ClientHello), which no read can finish before the
 * socket brings the rest, and feeding a read for it would spin the
 * worker's loop; after such a read the flag is clear and the socket's
 * readiness brings the rest. */
int xprt_tls_has_pending(const struct xprt *x)
{
    return x->ssl && ((x->tls_flags & XPRT_TLS_BUFFERED) || SSL_pending(x->ssl) > 0);
}

static int tls_init(struct xprt *x, int fd, SSL_CTX *ctx, const struct sendq_ops *sops, void *owner)
{
    xprt_plain_init(x, fd, sops, owner);
    if (!(x->ssl = SSL_new(ctx)) || !SSL_set_fd(x->ssl, fd)) {
        SSL_free(x->ssl);
        x->ssl = NULL;
        ERR_clear_error();
        return -1;
    }
    x->ops = &xprt_tls_ops;
    x->tls_state = XPRT_TLS_HANDSHAKING;
    return 0;
}

int xprt_tls_init_server(struct xprt *x, int fd, SSL_CTX *ctx, struct listener_counters *counters,
                         const struct sendq_ops *sops, void *owner)
{
    if (tls_init(x, fd, ctx, sops, owner) < 0)
        return -1;
    x->tls_state = XPRT_TLS_FIRST_BYTE;
    SSL_set_app_data(x->ssl, counters);
    SSL_set_accept_state(x->ssl);
    return 0;
}

int xprt_tls_init_client(struct xprt *x, int fd, SSL_CTX *ctx, const char *sni, const char *ip, int verify)
{
    if (tls_init(x, fd, ctx, NULL, NULL) < 0)
        return -1;
    if (sni && sni[0]) {
        SSL_set_tlsext_host_name(x->ssl, sni);
        if (verify)
            SSL_set1_host(x->ssl, sni);
    } else if (verify && ip && ip[0]) {
        /* No name to ask for: the certificate must be for the address. */
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(x->ssl), ip);
    }
    SSL_set_connect_state(x->ssl);
    return 0;
}

/* A connection to a server keeps its session slot (upstream.c: its
 * server's, for this worker) in an ex_data index of its own: the app data
 * is a listener's counters (client connections; none here), which
 * handshake_done counts into. */
static int session_slot_index = -1;

/* A session (TLS 1.3: a ticket after the handshake) came from a server:
 * the connection's slot keeps the newest (returning 1 keeps our
 * reference on it). */
static int ctx_fingerprint_index = -1;

uintptr_t xprt_tls_ctx_fingerprint(const SSL_CTX *ctx)
{
    return ctx_fingerprint_index < 0 ? 0 : (uintptr_t)SSL_CTX_get_ex_data(ctx, ctx_fingerprint_index);
}

uintptr_t xprt_tls_fingerprint(const struct xprt *x)
{
    return x->ssl ? xprt_tls_ctx_fingerprint(SSL_get_SSL_CTX(x->ssl)) : 0;
}

static int new_client_session(SSL *ssl, SSL_SESSION *sess)
{
    struct tls_session_slot *slot = SSL_get_ex_data(ssl, session_slot_index);
    /* A connection of the generation before a reload that changed the
     * settings: its session is not for the new connections. */
    if (!slot || slot->fingerprint != xprt_tls_ctx_fingerprint(SSL_get_SSL_CTX(ssl)))
        return 0;
    /* A copy: OpenSSL marks the connection's own session not resumable
     * when the connection ends in an error - a server's close without
     * close_notify - and then every new connection did a full handshake. */
    SSL_SESSION *copy = SSL_SESSION_dup(sess);
    if (!copy)
        return 0;
    SSL_SESSION_free(slot->session);
    slot->session = copy;
    return 0;
}

void xprt_tls_client_ctx_init(SSL_CTX *ctx, uintptr_t fingerprint)
{
    /* Created by the main thread, before any connection to a server. */
    if (session_slot_index < 0)
        session_slot_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    if (ctx_fingerprint_index < 0)
        ctx_fingerprint_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    SSL_CTX_set_ex_data(ctx, ctx_fingerprint_index, (void *)fingerprint);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, new_client_session);
}

void xprt_tls_resume_from(struct xprt *x, struct tls_session_slot *slot)
{
    uintptr_t fingerprint = xprt_tls_fingerprint(x);
    SSL_set_ex_data(x->ssl, session_slot_index, slot);
    if (slot->fingerprint != fingerprint) {
        /* Made before a reload changed whom the pool trusts (its CA, its
         * SNI, verify on or off, its client certificate): resuming would
         * skip the checks the new settings make. */
        SSL_SESSION_free(slot->session);
        slot->session = NULL;
        slot->fingerprint = fingerprint;
    }
    if (slot->session && SSL_SESSION_is_resumable(slot->session))
        SSL_set_session(x->ssl, slot->session);
}

const char *xprt_tls_version(const struct xprt *x)
{
    return x->ssl ? SSL_get_version(x->ssl) : "-";
}

int xprt_tls_alpn_h2(const struct xprt *x)
{
    const unsigned char *proto = NULL;
    unsigned len = 0;
    if (!x->ssl)
        return 0;
    SSL_get0_alpn_selected(x->ssl, &proto, &len);
    return len == 2 && memcmp(proto, "h2", 2) == 0;
}

const char *xprt_tls_cipher(const struct xprt *x)
{
    return x->ssl ? SSL_get_cipher_name(x->ssl) : "-";
}

int xprt_tls_handshake(struct xprt *x, int *want)
{
    int ret = SSL_do_handshake(x->ssl);
    if (ret == 1) {
        note_progress(x);
        return 1;
    }
    int e = ssl_error(x, ret);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        *want = e == SSL_ERROR_WANT_READ ? EV_READ : EV_WRITE;
        return 0;
    }
    handshake_failed(x, fatal_reason(x, e));
    x->tls_state = XPRT_TLS_FAILED;
    return -1;
}

const char *xprt_tls_failure(const struct xprt *x)
{
    static _Thread_local char why[160];
    if (!x->ssl || x->tls_state != XPRT_TLS_FAILED)
        return NULL;
    const char *verify = xprt_tls_verify_error(x);
    if (verify)
        snprintf(why, sizeof why, "TLS: certificate verify failed: %s", verify);
    else
        snprintf(why, sizeof why, "TLS: handshake failed");
    return why;
}

const char *xprt_tls_verify_error(const struct xprt *x)
{
    long r = x->ssl ? SSL_get_verify_result(x->ssl) : X509_V_OK;
    return r == X509_V_OK ? NULL : X509_verify_cert_error_string(r);
}
