/*
 * The conn layer over TLS (xprt_tls): a protocol that reads a few bytes at
 * a time still gets a whole record.  OpenSSL takes the record off the
 * socket at once, so the fd shows nothing more while decrypted bytes wait
 * inside OpenSSL; conn_io_want must deliver them as a readiness of their
 * own, or the protocol would wait for a client that has said everything.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <ev.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "sendq.h"
#include "tls_ctx.h"
#include "tls_fixtures.h"
#include "worker.h"

#define SMALL_READ 16

struct sipper {
    struct conn c;
    char got[4096];
    size_t len;
};

static struct worker w;
static size_t want_total;

static void s_start(struct conn *c)
{
    conn_io_want(c->w->loop, &c->io, &c->x, EV_READ);
}

/* One small read per readiness, then waits again (as a protocol whose
 * buffer is nearly full would). */
static void s_io(struct conn *c, int revents)
{
    struct sipper *s = (struct sipper *)c;
    (void)revents;
    ssize_t n = xprt_recv(&c->x, s->got + s->len, SMALL_READ);
    if (n > 0)
        s->len += (size_t)n;
    if (s->len >= want_total)
        ev_break(c->w->loop, EVBREAK_ONE);
    else
        conn_io_want(c->w->loop, &c->io, &c->x, EV_READ);
}

static void s_timeout(struct conn *c)
{
    (void)c;
}

static int s_idle(const struct conn *c)
{
    (void)c;
    return 0;
}

static void s_nothing(struct conn *c)
{
    (void)c;
}

static const struct conn_proto sipper_proto = {
    .name = "sipper",
    .size = sizeof(struct sipper),
    .start = s_start,
    .io = s_io,
    .timeout = s_timeout,
    .idle = s_idle,
    .server_down = s_nothing,
    .release = s_nothing,
};

static void on_closed(struct conn *c)
{
    (void)c;
}

static void give_up(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)t;
    (void)revents;
    ev_break(loop, EVBREAK_ALL);
}

Test(conn_tls, bytes_held_inside_openssl_reach_a_protocol_that_reads_little)
{
    setenv("PROXY_IO_URING", "0", 1);
    memset(&w, 0, sizeof w);
    w.loop = ev_loop_new(EVFLAG_AUTO);
    sendq_thread_init(w.loop);

    EVP_PKEY *key = tlsfx_key_ec("P-256");
    const char *sans[] = {"localhost", NULL};
    X509 *cert = tlsfx_cert(key, "localhost", sans, time(NULL) + 86400);
    SSL_CTX *sctx = tlsfx_server_ctx();
    cr_assert(SSL_CTX_use_certificate(sctx, cert) == 1 && SSL_CTX_use_PrivateKey(sctx, key) == 1);
    SSL_CTX_set_mode(sctx, SSL_MODE_RELEASE_BUFFERS);

    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    struct listener_counters counters = {.address = "test"};
    struct listen_bind bind = {.fd = -1, .address = "test", .proto = &sipper_proto, .tls = sctx,
                               .counters = &counters};
    struct sockaddr_in6 addr = {.sin6_family = AF_INET6};
    struct conn *c = conn_new(&w, &bind, sv[0], (struct sockaddr *)&addr, sizeof addr, on_closed);
    cr_assert_not_null(c);
    cr_assert(xprt_is_tls(&c->x));
    conn_start(c);

    /* The client: a handshake driven in turns with the proxy's loop. */
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    SSL *cl = SSL_new(cctx);
    SSL_set_fd(cl, sv[1]);
    SSL_set_connect_state(cl);
    int done = 0;
    for (int i = 0; i < 200 && !done; i++) {
        done = SSL_do_handshake(cl) == 1;
        ev_run(w.loop, EVRUN_NOWAIT);
        usleep(1000);
    }
    cr_assert(done, "the client's handshake did not finish");

    /* One record of 600 bytes: OpenSSL reads all of it from the socket at
     * the first small read. */
    char msg[600];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (char)('a' + i % 26);
    want_total = sizeof msg;
    size_t written = 0;
    for (int i = 0; i < 200 && written == 0; i++) {
        if (SSL_write_ex(cl, msg, sizeof msg, &written) != 1)
            usleep(1000);
        ev_run(w.loop, EVRUN_NOWAIT);
    }
    cr_assert_eq(written, sizeof msg);

    ev_timer guard;
    ev_timer_init(&guard, give_up, 2.0, 0.);
    ev_timer_start(w.loop, &guard);
    ev_run(w.loop, 0);
    ev_timer_stop(w.loop, &guard);

    struct sipper *s = (struct sipper *)c;
    cr_assert_eq(s->len, sizeof msg, "the protocol got %zu of %zu bytes", s->len, sizeof msg);
    cr_assert(memcmp(s->got, msg, sizeof msg) == 0);
    cr_assert_eq(atomic_load(&counters.handshakes), 1);
    cr_assert_eq(atomic_load(&counters.failed), 0);

    conn_free(c);
    SSL_free(cl);
    SSL_CTX_free(cctx);
    close(sv[1]);
    SSL_CTX_free(sctx);
    X509_free(cert);
    EVP_PKEY_free(key);
    sendq_thread_free();
    ev_loop_destroy(w.loop);
}
