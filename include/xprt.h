/*
 * xprt: the transport under a connection, client or server side.  Every
 * byte the proxy reads from or writes to a socket goes through one of
 * these ops tables, so the layers above never call recv/send/shutdown/
 * splice themselves and a TLS transport slots in as a second table
 * (HAProxy's xprt_ops, Redis's ConnectionType).
 *
 * xprt_plain (xprt_plain.c) is a TCP socket: recv(2), the batched io_uring
 * sends of sendq, splice(2) through a pipe.  A transport's final bytes
 * always leave through its sendq_conn (a TLS one would queue its
 * ciphertext there), so "a send is queued" is read straight from it.
 *
 * Capabilities say what a transport can do beyond reading and writing
 * buffers: splice needs both ends' transports to allow it (kernel bytes on
 * both sides), which xprt_can_splice() checks.
 */
#ifndef PROXY_XPRT_H
#define PROXY_XPRT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ev.h>

#include "sendq.h"

struct splice_pipe;
struct ssl_st;
struct ssl_ctx_st;
struct ssl_session_st;
struct listener_counters;
struct xprt;

/* Capabilities (xprt_ops.caps). */
#define XPRT_CAN_SPLICE 0x1u  /* bytes may move by splice(2) to or from the fd */
#define XPRT_CAN_BATCH  0x2u  /* sends are batched per loop round (sendq) */

struct xprt_ops {
    const char *name;
    unsigned caps;
    /* Reads up to len bytes: >0 read, 0 end of stream, -1 with errno
     * (EAGAIN: nothing now). */
    ssize_t (*recv)(struct xprt *x, char *buf, size_t len);
    /* Sends buf[*sent..end) (sendq_write's contract: 0, or -1 with errno
     * when the connection failed). */
    int (*send)(struct xprt *x, const char *buf, size_t *sent, size_t end);
    /* Ends the write side once everything sent has gone (a half-close). */
    void (*shutdown_write)(struct xprt *x);
    /* Without consuming: 1 bytes are waiting, 0 the peer closed, -1 with
     * errno (EAGAIN: nothing now). */
    int (*peek)(struct xprt *x);
    /* Bytes written but not yet taken by the peer (the kernel's send
     * queue), or -1 if unknown: a slow reader's progress. */
    int (*unsent)(struct xprt *x);
    /* After a non-blocking connect reported writable: 0 or the errno. */
    int (*connect_error)(struct xprt *x);
    /* splice(2) between the transport and a pipe (XPRT_CAN_SPLICE);
     * splice_pipe_fill / splice_pipe_drain's contract. */
    ssize_t (*splice_in)(struct xprt *x, struct splice_pipe *p, size_t max);
    ssize_t (*splice_out)(struct xprt *x, struct splice_pipe *p);
    /* Closes the fd, after the owner settled or cancelled the queued send
     * (a TLS one would send its close_notify first). */
    void (*close)(struct xprt *x);
};

/* Embedded in what owns the connection.  The fd is public for the event
 * loop's watcher; nothing else touches it. */
struct xprt {
    const struct xprt_ops *ops;
    struct sendq_conn q;  /* its sends; q.ops/q.owner: who is told of progress */
    /* TLS (xprt_tls.c): the OpenSSL connection, and which way a read or a
     * write must wait when OpenSSL needs the other direction (a handshake
     * message, a key update): the watcher follows these, not the caller. */
    struct ssl_st *ssl;
    /* Last, with the TLS bytes: one 8-byte word, no holes (it is in every
     * client and server connection). */
    int fd;
    uint8_t tls_flags;
    uint8_t tls_state;    /* XPRT_TLS_FIRST_BYTE, _HANDSHAKING, _ESTABLISHED or _FAILED */
};

#define XPRT_TLS_FIRST_BYTE 0  /* accepted, nothing read yet: TLS or a plaintext request? */
#define XPRT_TLS_HANDSHAKING 1
#define XPRT_TLS_ESTABLISHED 2
#define XPRT_TLS_FAILED 3

#define XPRT_TLS_READ_WANTS_WRITE 0x1u
#define XPRT_TLS_WRITE_WANTS_READ 0x2u
#define XPRT_TLS_BUFFERED 0x4u  /* read-ahead records may wait in OpenSSL (xprt_tls.c) */
#define XPRT_ABORT_ON_CLOSE 0x8u /* xprt_abort_on_close: no close_notify, a reset */

extern const struct xprt_ops xprt_plain_ops;
/* What every transport over a TCP socket answers alike (xprt_plain.c):
 * the kernel's unsent bytes (SIOCOUTQ), and a non-blocking connect's
 * error (SO_ERROR). */
int xprt_fd_unsent(struct xprt *x);
int xprt_fd_connect_error(struct xprt *x);
/* The close to come is a reset, not an end (TLS: no close_notify): for a
 * response cut short whose end the peer would otherwise take as whole. */
void xprt_abort_on_close(struct xprt *x);
extern const struct xprt_ops xprt_tls_ops;

/* Sets x up over an open, non-blocking TCP socket; progress and wake-ups
 * of its sends go to (sops, owner).  Takes ownership of fd. */
void xprt_plain_init(struct xprt *x, int fd, const struct sendq_ops *sops, void *owner);

static inline ssize_t xprt_recv(struct xprt *x, char *buf, size_t len)
{
    return x->ops->recv(x, buf, len);
}

static inline int xprt_send(struct xprt *x, const char *buf, size_t *sent, size_t end)
{
    return x->ops->send(x, buf, sent, end);
}

static inline void xprt_shutdown_write(struct xprt *x)
{
    x->ops->shutdown_write(x);
}

static inline int xprt_peek(struct xprt *x)
{
    return x->ops->peek(x);
}

static inline int xprt_unsent(struct xprt *x)
{
    return x->ops->unsent(x);
}

static inline int xprt_connect_error(struct xprt *x)
{
    return x->ops->connect_error(x);
}

static inline ssize_t xprt_splice_in(struct xprt *x, struct splice_pipe *p, size_t max)
{
    return x->ops->splice_in(x, p, max);
}

static inline ssize_t xprt_splice_out(struct xprt *x, struct splice_pipe *p)
{
    return x->ops->splice_out(x, p);
}

static inline void xprt_close(struct xprt *x)
{
    x->ops->close(x);
}

/* A send is queued for the end of the round: its bytes must stay put, and
 * the owner need not wait for the socket to be writable. */
static inline int xprt_send_pending(const struct xprt *x)
{
    return sendq_pending(&x->q);
}

/* Sends what is queued now, as far as the socket takes it. */
static inline void xprt_settle(struct xprt *x)
{
    sendq_settle(&x->q);
}

/* Drops the queued send (nothing of it went out). */
static inline void xprt_cancel(struct xprt *x)
{
    sendq_cancel(&x->q);
}

/* A batched send failed: the next send reports the error. */
static inline int xprt_send_failed(const struct xprt *x)
{
    return x->q.err != 0;
}

/* Who is told of send progress and wake-ups from now on (NULL: nobody). */
static inline void xprt_set_owner(struct xprt *x, const struct sendq_ops *sops, void *owner)
{
    x->q.ops = sops;
    x->q.owner = owner;
}

/* Sets x up as TLS over an accepted socket (handshakes counted in
 * `counters`), or over a connected one to a TLS server (`sni` sent; when
 * `verify`, the certificate checked against sni, or the address `ip`
 * without one).  Takes fd either way;
 * -1 when OpenSSL is out of memory (x is then plain, fd still open). */
int xprt_tls_init_server(struct xprt *x, int fd, struct ssl_ctx_st *ctx, struct listener_counters *counters,
                         const struct sendq_ops *sops, void *owner);
int xprt_tls_init_client(struct xprt *x, int fd, struct ssl_ctx_st *ctx, const char *sni, const char *ip,
                         int verify);
/* A server's last session, kept for the next connection, and the
 * fingerprint of the context it was made under. */
struct tls_session_slot {
    struct ssl_session_st *session;
    uintptr_t fingerprint;
};
/* Resumes with slot's session when it was made under settings with x's
 * context's fingerprint, and keeps the newest session the server sends in
 * slot (which must outlive the connection).  The context must have been
 * set up by xprt_tls_client_ctx_init. */
void xprt_tls_resume_from(struct xprt *x, struct tls_session_slot *slot);
/* fingerprint: nonzero, equal for contexts that trust the same servers the
 * same way (a reload rebuilds the context: its sessions and connections
 * carry over only when this stays). */
void xprt_tls_client_ctx_init(struct ssl_ctx_st *ctx, uintptr_t fingerprint);
uintptr_t xprt_tls_ctx_fingerprint(const struct ssl_ctx_st *ctx);
/* The fingerprint of x's context; 0 for a plaintext connection. */
uintptr_t xprt_tls_fingerprint(const struct xprt *x);
/* Drives a client handshake on its own (a health check's): 1 done, 0 to
 * be called again when the fd is ready for *want (EV_READ or EV_WRITE),
 * -1 failed (xprt_tls_failure says why). */
int xprt_tls_handshake(struct xprt *x, int *want);
/* Why a TLS connection failed ("certificate verify failed: ...",
 * "handshake failed"), or NULL when it did not. */
const char *xprt_tls_failure(const struct xprt *x);
/* For the access log and error messages ("-" / NULL when not TLS or fine). */
const char *xprt_tls_version(const struct xprt *x);
const char *xprt_tls_cipher(const struct xprt *x);
const char *xprt_tls_verify_error(const struct xprt *x);

/* Whether the TLS handshake's ALPN chose "h2". */
int xprt_tls_alpn_h2(const struct xprt *x);

/* TLS keeps bytes the socket no longer shows (a record read in part,
 * records read ahead): the owner must read again without waiting for the
 * fd. */
int xprt_tls_has_pending(const struct xprt *x);

/* The events to poll the fd for when the owner wants `events`: a TLS read
 * that must first write waits for EV_WRITE, and the other way round.  A
 * write that waits to read does not poll for EV_WRITE as well: the socket
 * is writable, and SSL_write would be tried in a busy loop until the peer's
 * bytes come (a handshake to a server: a round trip and its answer's time). */
static inline int xprt_poll_events(const struct xprt *x, int events)
{
    if (!x->tls_flags)
        return events;
    int poll = events;
    if ((events & EV_WRITE) && (x->tls_flags & XPRT_TLS_WRITE_WANTS_READ))
        poll = (poll & ~EV_WRITE) | EV_READ;
    if ((events & EV_READ) && (x->tls_flags & XPRT_TLS_READ_WANTS_WRITE))
        poll |= EV_WRITE;
    return poll;
}

/* What the owner is told of the fd's readiness `revents`: the direction a
 * blocked TLS read or write was waiting on counts as its own. */
static inline int xprt_ready_events(struct xprt *x, int revents)
{
    if (!x->tls_flags)
        return revents;
    int ready = revents;
    if ((revents & EV_WRITE) && (x->tls_flags & XPRT_TLS_READ_WANTS_WRITE)) {
        ready |= EV_READ;
        x->tls_flags &= (uint8_t)~XPRT_TLS_READ_WANTS_WRITE;
    }
    if ((revents & EV_READ) && (x->tls_flags & XPRT_TLS_WRITE_WANTS_READ)) {
        ready |= EV_WRITE;
        x->tls_flags &= (uint8_t)~XPRT_TLS_WRITE_WANTS_READ;
    }
    return ready;
}

static inline int xprt_is_tls(const struct xprt *x)
{
    return x->ssl != NULL;
}

/* Whether bytes may be spliced from `from` to `to`. */
static inline int xprt_can_splice(const struct xprt *from, const struct xprt *to)
{
    return (from->ops->caps & to->ops->caps & XPRT_CAN_SPLICE) != 0;
}

#endif
