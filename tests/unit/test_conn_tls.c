/*
 * The conn layer over TLS (xprt_tls): a protocol that reads a few bytes at
 * a time still gets a whole record.  OpenSSL takes the record off the
 * socket at once, so the fd shows nothing more while decrypted bytes wait
 * inside OpenSSL; conn_io_want must deliver them as a readiness of their
 * own, or the protocol would wait for a client that has said everything.
 * With read-ahead (the listeners' setting) whole records wait there too,
 * not even decrypted yet.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <ev.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "conn.h"
#include "fixtures.h"
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

/* The proxy's side of a TLS connection over a socketpair, its handshake
 * done with a client driven in turns with the proxy's loop. */
struct tls_pair {
    EVP_PKEY *key;
    X509 *cert;
    SSL_CTX *sctx, *cctx;
    SSL *cl;
    int sv[2];
    struct listener_counters counters;
    struct conn *c;
};

static void pair_open(struct tls_pair *p, int read_ahead)
{
    setenv("PROXY_IO_URING", "0", 1);
    memset(&w, 0, sizeof w);
    memset(p, 0, sizeof *p);
    w.conn_closed = on_closed;
    w.loop = ev_loop_new(EVFLAG_AUTO);
    sendq_thread_init(w.loop);

    p->key = tlsfx_key_ec("P-256");
    const char *sans[] = {"localhost", NULL};
    p->cert = tlsfx_cert(p->key, "localhost", sans, time(NULL) + 86400);
    p->sctx = tlsfx_server_ctx();
    cr_assert(SSL_CTX_use_certificate(p->sctx, p->cert) == 1 && SSL_CTX_use_PrivateKey(p->sctx, p->key) == 1);
    SSL_CTX_set_mode(p->sctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_read_ahead(p->sctx, read_ahead);

    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p->sv), 0);
    snprintf(p->counters.address, sizeof p->counters.address, "test");
    struct listen_bind bind = {.fd = -1, .address = "test", .proto = &sipper_proto, .tls = p->sctx,
                               .counters = &p->counters};
    struct sockaddr_in6 addr = {.sin6_family = AF_INET6};
    p->c = conn_new(&w, &bind, p->sv[0], (struct sockaddr *)&addr, sizeof addr);
    cr_assert_not_null(p->c);
    cr_assert(xprt_is_tls(&p->c->x));
    conn_start(p->c);

    p->cctx = SSL_CTX_new(TLS_client_method());
    p->cl = SSL_new(p->cctx);
    SSL_set_fd(p->cl, p->sv[1]);
    SSL_set_connect_state(p->cl);
    int done = 0;
    for (int i = 0; i < 200 && !done; i++) {
        done = SSL_do_handshake(p->cl) == 1;
        ev_run(w.loop, EVRUN_NOWAIT);
        usleep(1000);
    }
    cr_assert(done, "the client's handshake did not finish");
}

/* Runs the proxy's loop until the protocol has want_total bytes (2 s at most). */
static void pair_run(void)
{
    ev_timer guard;
    ev_timer_init(&guard, give_up, 2.0, 0.);
    ev_timer_start(w.loop, &guard);
    ev_run(w.loop, 0);
    ev_timer_stop(w.loop, &guard);
}

static void pair_close(struct tls_pair *p)
{
    conn_free(p->c);
    SSL_free(p->cl);
    SSL_CTX_free(p->cctx);
    close(p->sv[1]);
    SSL_CTX_free(p->sctx);
    X509_free(p->cert);
    EVP_PKEY_free(p->key);
    sendq_thread_free();
    ev_loop_destroy(w.loop);
}

/* With read-ahead (the listeners' setting), three records that reach the
 * socket together are taken off it by the first read: the fd then shows
 * nothing while two whole records wait in OpenSSL undecrypted (not even
 * SSL_pending counts them), and the protocol, reading 16 bytes a time,
 * must still get all of them. */
Test(conn_tls, records_read_ahead_reach_a_protocol_that_reads_little)
{
    struct tls_pair p;
    pair_open(&p, 1);
    char msg[3][500];
    for (size_t r = 0; r < 3; r++)
        for (size_t i = 0; i < sizeof msg[r]; i++)
            msg[r][i] = (char)('a' + (i + r) % 26);
    want_total = sizeof msg;
    for (size_t r = 0; r < 3; r++) {
        size_t written = 0;
        cr_assert(SSL_write_ex(p.cl, msg[r], sizeof msg[r], &written) == 1 && written == sizeof msg[r]);
    }
    /* One read of the proxy's: the socket is empty after it. */
    ev_run(w.loop, EVRUN_NOWAIT);
    int queued = -1;
    cr_assert_eq(ioctl(p.sv[0], FIONREAD, &queued), 0);
    cr_assert_eq(queued, 0, "the first read left %d bytes on the socket: no read-ahead", queued);
    pair_run();

    struct sipper *s = (struct sipper *)p.c;
    cr_assert_eq(s->len, sizeof msg, "the protocol got %zu of %zu bytes", s->len, sizeof msg);
    cr_assert(memcmp(s->got, msg, sizeof msg) == 0);
    pair_close(&p);
}

/* The listeners' contexts read ahead (what the test above relies on). */
Test(conn_tls, listener_contexts_read_ahead)
{
    char *dir = tlsfx_mkdtemp();
    cr_assert_not_null(dir);
    EVP_PKEY *key = tlsfx_key_ec("P-256");
    const char *sans[] = {"localhost", NULL};
    cr_assert_eq(tlsfx_make_pem(dir, "site.pem", key, "localhost", sans, time(NULL) + 86400), 0);
    char text[1024];
    snprintf(text, sizeof text, "listen 127.0.0.1:8443 tls %s/site.pem\npool p {\n server a 127.0.0.1:9000\n}\n", dir);
    struct config *cfg = fixture_config("/etc/proxy/t.conf", text);
    char err[512] = "";
    struct tls_set *set = tls_set_build(cfg, err, sizeof err);
    cr_assert_not_null(set, "%s", err);
    cr_assert_eq(SSL_CTX_get_read_ahead(set->listen[0]), 1);
    tls_set_free(set);
    config_free(cfg);
    EVP_PKEY_free(key);
    tlsfx_rmtree(dir);
}

/* A certificate that cannot be loaded is named with the configuration
 * line that asked for it (a listener's, a pool's). */
Test(conn_tls, unusable_certificates_name_their_configuration_line)
{
    char err[1024] = "";
    struct config *cfg = fixture_config("/etc/proxy/t.conf", "listen 127.0.0.1:8443 tls /nonexistent/site.pem\n"
                                                              "pool p {\n server a 127.0.0.1:9000\n}\n");
    cr_assert_null(tls_set_build(cfg, err, sizeof err));
    cr_assert_str_eq(err, "/etc/proxy/t.conf:1: listen 127.0.0.1:8443: /nonexistent/site.pem: cannot read: "
                          "No such file or directory");
    config_free(cfg);
    cfg = fixture_config("/etc/proxy/t.conf", "listen 127.0.0.1:8080\npool p {\n tls ca /nonexistent/ca.pem\n"
                                              " server a 127.0.0.1:9000\n}\n");
    cr_assert_null(tls_set_build(cfg, err, sizeof err));
    cr_assert(strstr(err, "/etc/proxy/t.conf:3: pool p: /nonexistent/ca.pem: ") == err, "%s", err);
    config_free(cfg);
}

Test(conn_tls, bytes_held_inside_openssl_reach_a_protocol_that_reads_little)
{
    struct tls_pair p;
    pair_open(&p, 0);

    /* One record of 600 bytes: OpenSSL reads all of it from the socket at
     * the first small read. */
    char msg[600];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (char)('a' + i % 26);
    want_total = sizeof msg;
    size_t written = 0;
    for (int i = 0; i < 200 && written == 0; i++) {
        if (SSL_write_ex(p.cl, msg, sizeof msg, &written) != 1)
            usleep(1000);
        ev_run(w.loop, EVRUN_NOWAIT);
    }
    cr_assert_eq(written, sizeof msg);
    pair_run();

    struct sipper *s = (struct sipper *)p.c;
    cr_assert_eq(s->len, sizeof msg, "the protocol got %zu of %zu bytes", s->len, sizeof msg);
    cr_assert(memcmp(s->got, msg, sizeof msg) == 0);
    cr_assert_eq(atomic_load(&p.counters.handshakes), 1);
    cr_assert_eq(atomic_load(&p.counters.failed), 0);
    pair_close(&p);
}

/* One in-memory handshake of a client (its certificate and key, a
 * session to resume or NULL) with a listener's context: whether it
 * finished, and the client's session after it in *out (the caller frees). */
static int memory_handshake(SSL_CTX *sctx, X509 *cert, EVP_PKEY *key, SSL_SESSION *resume, SSL_SESSION **out,
                            int *reused)
{
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_use_certificate(cctx, cert);
    SSL_CTX_use_PrivateKey(cctx, key);
    SSL *cl = SSL_new(cctx), *sv = SSL_new(sctx);
    BIO *b1, *b2;
    BIO_new_bio_pair(&b1, 0, &b2, 0);
    SSL_set_bio(cl, b1, b1);
    SSL_set_bio(sv, b2, b2);
    SSL_set_connect_state(cl);
    SSL_set_accept_state(sv);
    if (resume)
        SSL_set_session(cl, resume);
    int cdone = 0, sdone = 0, failed = 0;
    for (int i = 0; i < 50 && !(cdone && sdone) && !failed; i++) {
        int rc = SSL_do_handshake(cl);
        cdone = cdone || rc == 1;
        failed = rc <= 0 && SSL_get_error(cl, rc) != SSL_ERROR_WANT_READ;
        rc = SSL_do_handshake(sv);
        sdone = sdone || rc == 1;
        failed = failed || (rc <= 0 && SSL_get_error(sv, rc) != SSL_ERROR_WANT_READ);
    }
    /* TLS 1.3 tickets come after the handshake: a read takes them in. */
    char byte;
    SSL_write(sv, "x", 1);
    SSL_read(cl, &byte, 1);
    *reused = SSL_session_reused(cl);
    *out = SSL_get1_session(cl);
    /* Ended cleanly: OpenSSL makes the session of an SSL freed otherwise
     * not resumable. */
    SSL_set_shutdown(cl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_set_shutdown(sv, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(cl);
    SSL_free(sv);
    SSL_CTX_free(cctx);
    ERR_clear_error();
    return cdone && sdone && !failed;
}

/* A listener with client-ca resumes its clients' sessions whatever the
 * length of its address: the session id context is at most 32 bytes, and
 * a long IPv6 address with its port is 40 (refused, it left the context
 * empty, and no session with a client certificate was resumed: a full
 * handshake every time). */
Test(conn_tls, client_ca_listener_on_a_long_address_resumes)
{
    char *dir = tlsfx_mkdtemp();
    cr_assert_not_null(dir);
    EVP_PKEY *key = tlsfx_key_ec("P-256"), *ckey = tlsfx_key_ec("P-256");
    const char *sans[] = {"localhost", NULL};
    cr_assert_eq(tlsfx_make_pem(dir, "site.pem", key, "localhost", sans, time(NULL) + 86400), 0);
    const char *csans[] = {"client", NULL};
    X509 *ccert = tlsfx_cert(ckey, "client", csans, time(NULL) + 86400);
    char *ca = tlsfx_path(dir, "clients.pem");
    cr_assert_eq(tlsfx_write_cert(ca, ccert), 0);
    char text[1024];
    snprintf(text, sizeof text,
             "listen [2001:db8:1234:5678:9abc:def0:1:2]:8443 tls %s/site.pem client-ca %s\n"
             "pool p {\n server a 127.0.0.1:9000\n}\n", dir, ca);
    struct config *cfg = fixture_config("/etc/proxy/t.conf", text);
    char err[512] = "";
    struct tls_set *set = tls_set_build(cfg, err, sizeof err);
    cr_assert_not_null(set, "%s", err);
    SSL_SESSION *s1 = NULL, *s2 = NULL;
    int reused = 0;
    cr_assert(memory_handshake(set->listen[0], ccert, ckey, NULL, &s1, &reused), "the full handshake failed");
    cr_assert_not_null(s1);
    cr_assert(memory_handshake(set->listen[0], ccert, ckey, s1, &s2, &reused), "the resumption failed");
    cr_assert_eq(reused, 1, "the session was not resumed");
    SSL_SESSION_free(s1);
    SSL_SESSION_free(s2);
    tls_set_free(set);
    config_free(cfg);
    X509_free(ccert);
    EVP_PKEY_free(key);
    EVP_PKEY_free(ckey);
    free(ca);
    tlsfx_rmtree(dir);
}

static struct tls_set *listener_set(const char *dir, const char *client_ca, struct config **cfg)
{
    char text[1024], ca_part[300] = "";
    if (client_ca)
        snprintf(ca_part, sizeof ca_part, " client-ca %s", client_ca);
    snprintf(text, sizeof text, "listen 127.0.0.1:8443 tls %s/site.pem%s\npool p {\n server a 127.0.0.1:9000\n}\n",
             dir, ca_part);
    *cfg = fixture_config("/etc/proxy/t.conf", text);
    char err[512] = "";
    struct tls_set *set = tls_set_build(*cfg, err, sizeof err);
    cr_assert_not_null(set, "%s", err);
    return set;
}

/* A reload that adds client-ca to a listener, or changes its CA, must not
 * let a session from before it in: a resumed handshake asks for no
 * certificate, and the ticket keys outlive reloads.  The session id
 * context names the client CAs too, so such a session is refused and the
 * client goes through a full handshake; a reload that changes nothing
 * keeps resumption. */
Test(conn_tls, sessions_from_before_a_client_ca_change_are_not_resumed)
{
    char *dir = tlsfx_mkdtemp();
    cr_assert_not_null(dir);
    EVP_PKEY *key = tlsfx_key_ec("P-256"), *k1 = tlsfx_key_ec("P-256"), *k2 = tlsfx_key_ec("P-256");
    const char *sans[] = {"localhost", NULL}, *csans[] = {"client", NULL};
    cr_assert_eq(tlsfx_make_pem(dir, "site.pem", key, "localhost", sans, time(NULL) + 86400), 0);
    /* Two client CAs with the same subject: only their keys differ. */
    X509 *c1 = tlsfx_cert(k1, "client", csans, time(NULL) + 86400);
    X509 *c2 = tlsfx_cert(k2, "client", csans, time(NULL) + 86400);
    char *ca1 = tlsfx_path(dir, "ca1.pem"), *ca2 = tlsfx_path(dir, "ca2.pem");
    cr_assert_eq(tlsfx_write_cert(ca1, c1), 0);
    cr_assert_eq(tlsfx_write_cert(ca2, c2), 0);
    struct config *cfg0, *cfg1, *cfg2, *cfg2b;
    SSL_SESSION *s0 = NULL, *s1 = NULL, *s2 = NULL, *out = NULL;
    int reused = 0;

    struct tls_set *open = listener_set(dir, NULL, &cfg0);
    cr_assert(memory_handshake(open->listen[0], NULL, NULL, NULL, &s0, &reused), "handshake without client-ca");
    struct tls_set *with_ca1 = listener_set(dir, ca1, &cfg1);
    int ok = memory_handshake(with_ca1->listen[0], NULL, NULL, s0, &out, &reused);
    cr_assert(!ok, "after client-ca was added, a session from before let a client in without a certificate (%s)",
              reused ? "resumed" : "full handshake");
    SSL_SESSION_free(out);

    cr_assert(memory_handshake(with_ca1->listen[0], c1, k1, NULL, &s1, &reused), "handshake with ca1's client");
    struct tls_set *with_ca2 = listener_set(dir, ca2, &cfg2);
    ok = memory_handshake(with_ca2->listen[0], c1, k1, s1, &out, &reused);
    cr_assert(!ok, "after the client CA changed, a client of the old CA got in (%s)",
              reused ? "resumed" : "full handshake");
    SSL_SESSION_free(out);

    cr_assert(memory_handshake(with_ca2->listen[0], c2, k2, NULL, &s2, &reused), "handshake with ca2's client");
    struct tls_set *same = listener_set(dir, ca2, &cfg2b);
    cr_assert(memory_handshake(same->listen[0], c2, k2, s2, &out, &reused), "resumption after an unchanged reload");
    cr_assert_eq(reused, 1, "a reload that changed nothing lost resumption");
    SSL_SESSION_free(out);

    SSL_SESSION_free(s0);
    SSL_SESSION_free(s1);
    SSL_SESSION_free(s2);
    tls_set_free(open);
    tls_set_free(with_ca1);
    tls_set_free(with_ca2);
    tls_set_free(same);
    config_free(cfg0);
    config_free(cfg1);
    config_free(cfg2);
    config_free(cfg2b);
    X509_free(c1);
    X509_free(c2);
    EVP_PKEY_free(key);
    EVP_PKEY_free(k1);
    EVP_PKEY_free(k2);
    free(ca1);
    free(ca2);
    tlsfx_rmtree(dir);
}
