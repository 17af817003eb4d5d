/*
 * tls_ctx: a generation's OpenSSL contexts (see tls_ctx.h).
 *
 * Listener contexts follow Mozilla's "intermediate" profile by default
 * (TLS 1.2 and 1.3, forward-secret AEAD suites), never renegotiate (a
 * client-started renegotiation is the classic CPU exhaustion), and let go
 * of their read and write buffers while a connection is idle
 * (SSL_MODE_RELEASE_BUFFERS: some 34 KiB per idle keep-alive client).
 */
#include "tls_ctx.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "listen.h"
#include "log.h"
#include "tls_certs.h"
#include "tls_tickets.h"
#include "xprt.h"

#define SESSION_CACHE_SIZE 20000 /* about 20 MB at most, shared by the workers */

static struct listener_counters *counters[LISTEN_ADDRS_MAX * 4];
static size_t ncounters;

struct listener_counters *listener_counters_for(const char *address)
{
    for (size_t i = 0; i < ncounters; i++)
        if (strcmp(counters[i]->address, address) == 0)
            return counters[i];
    if (ncounters == sizeof counters / sizeof counters[0])
        return NULL; /* addresses beyond the table are not counted */
    struct listener_counters *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    snprintf(k->address, sizeof k->address, "%s", address);
    counters[ncounters++] = k;
    return k;
}

size_t listener_counters_all(struct listener_counters *const **out)
{
    *out = counters;
    return ncounters;
}

/* "FILE:LINE: listen ADDR" or "FILE:LINE: pool NAME": what a context
 * builder's message begins with. */
#define TLS_WHERE_MAX (CONFIG_PATH_MAX + CONFIG_NAME_MAX + 64)

/* The first OpenSSL error as text, after "what". */
static void ssl_err(char *err, size_t errlen, const char *what)
{
    unsigned long code = ERR_get_error();
    char why[200] = "unknown error";
    if (code)
        ERR_error_string_n(code, why, sizeof why);
    ERR_clear_error();
    snprintf(err, errlen, "%s: %s", what, why);
}

/* "WHERE: " before what failed: the builders' failures say only what
 * (a setting, a file), and their one way out names the configuration line
 * that asked for it. */
static void err_where(char *err, size_t errlen, const char *where)
{
    char what[TLS_WHERE_MAX + CONFIG_PATH_MAX + 256];
    snprintf(what, sizeof what, "%s", err);
    snprintf(err, errlen, "%s: %s", where, what);
}

/* ALPN, in the listener's order of preference (its alpn list): "h2"
 * when the list holds it, HTTP/1.1 otherwise.  `arg` is that list in the
 * wire format. */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                       unsigned inlen, void *arg)
{
    const unsigned char *ours = arg;
    (void)ssl;
    if (SSL_select_next_proto((unsigned char **)out, outlen, ours + 1, ours[0], in, inlen) ==
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_OK;
    return SSL_TLSEXT_ERR_NOACK; /* no ALPN agreed: HTTP/1.1 all the same */
}

/* SSL_OP_NO_RENEGOTIATION answers a client's renegotiation with a warning
 * alert and then goes on reading from it; a client that asks is closed and
 * counted instead (issue 13, "Bad input"): the alert is the one sign of
 * the request OpenSSL gives, and a shut socket ends the connection through
 * the usual read of end of file. */
static void refuse_renegotiation(const SSL *ssl, int where, int ret)
{
    if (!(where & SSL_CB_WRITE_ALERT) || (ret & 0xff) != SSL_AD_NO_RENEGOTIATION)
        return;
    struct listener_counters *k = SSL_get_app_data(ssl);
    if (k)
        atomic_fetch_add_explicit(&k->failed, 1, memory_order_relaxed);
    shutdown(SSL_get_fd(ssl), SHUT_RDWR);
}

/* The wire-format protocol list a listen line offers, its length first:
 * static, so no context owns a copy. */
static const unsigned char *alpn_offer(const char *list)
{
    static const unsigned char h1[] = "\x09\x08http/1.1";
    static const unsigned char h2_first[] = "\x0c\x02h2\x08http/1.1";
    static const unsigned char h1_first[] = "\x0c\x08http/1.1\x02h2";
    static const unsigned char h2_only[] = "\x03\x02h2";
    const char *h2 = strstr(list, "h2"), *h1x = strstr(list, "http/1.1");
    if (!h2)
        return h1;
    if (!h1x)
        return h2_only;
    return h2 < h1x ? h2_first : h1_first;
}

static int set_common(SSL_CTX *ctx, const struct config_tls *t, char *err, size_t errlen)
{
    char what[CONFIG_PATH_MAX + 64];
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (!SSL_CTX_set_min_proto_version(ctx, (int)t->min_version) ||
        !SSL_CTX_set_max_proto_version(ctx, (int)t->max_version)) {
        snprintf(what, sizeof what, "tls protocols");
        ssl_err(err, errlen, what);
        return -1;
    }
    if (t->ciphers[0] && !SSL_CTX_set_cipher_list(ctx, t->ciphers)) {
        snprintf(what, sizeof what, "tls ciphers \"%s\"", t->ciphers);
        ssl_err(err, errlen, what);
        return -1;
    }
    if (t->ciphersuites[0] && !SSL_CTX_set_ciphersuites(ctx, t->ciphersuites)) {
        snprintf(what, sizeof what, "tls ciphersuites \"%s\"", t->ciphersuites);
        ssl_err(err, errlen, what);
        return -1;
    }
    return 0;
}

/* Adds a certificate to a digest by its whole DER. */
static int digest_cert(EVP_MD_CTX *md, const X509 *cert)
{
    unsigned char der_md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    return !cert || (X509_digest(cert, EVP_sha256(), der_md, &len) && EVP_DigestUpdate(md, der_md, len));
}

/* Adds the CAs ctx's store holds (loaded from a file) to a digest. */
static int digest_cas(EVP_MD_CTX *md, SSL_CTX *ctx)
{
    STACK_OF(X509_OBJECT) *cas = X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx));
    int ok = 1;
    for (int i = 0; ok && i < sk_X509_OBJECT_num(cas); i++)
        ok = digest_cert(md, X509_OBJECT_get0_X509(sk_X509_OBJECT_value(cas, i)));
    return ok;
}

/* What names a listener's sessions: its address and the client CAs it
 * trusts, as one digest (the context takes 32 bytes at most, and
 * "[IPv6]:port" can be longer).  OpenSSL resumes only a session made under
 * the same context, and a resumed handshake asks for no certificate: a
 * reload that adds client-ca or changes its CAs must not let a session
 * from before in (the ticket keys outlive reloads).  Each CA counts by
 * its whole DER, so a new CA with the old one's subject differs too. */
static int set_session_id_context(SSL_CTX *ctx, const struct config_listen *l)
{
    unsigned char sid_ctx[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(md, l->addr.text, strlen(l->addr.text) + 1) && (!l->client_ca[0] || digest_cas(md, ctx));
    ok = ok && EVP_DigestFinal_ex(md, sid_ctx, &n) && n <= SSL_MAX_SID_CTX_LENGTH &&
         SSL_CTX_set_session_id_context(ctx, sid_ctx, n) == 1;
    EVP_MD_CTX_free(md);
    return ok ? 0 : -1;
}

/* A pool context's fingerprint (xprt.h): what decides which servers it
 * trusts and how it shows itself to them: verify, the SNI, the CAs of a
 * `tls ca` file (the system's bundle counts by name only), the client
 * certificate.  0 when out of memory. */
static uintptr_t pool_fingerprint(SSL_CTX *ctx, const struct config_pool *p)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    char verify = p->tls.verify ? (p->tls.ca[0] ? 'f' : 's') : 'n';
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) && EVP_DigestUpdate(md, &verify, 1) &&
             EVP_DigestUpdate(md, p->tls.sni, strlen(p->tls.sni) + 1) && (verify != 'f' || digest_cas(md, ctx)) &&
             digest_cert(md, SSL_CTX_get0_certificate(ctx)) && EVP_DigestFinal_ex(md, d, &n);
    EVP_MD_CTX_free(md);
    uintptr_t fp = 0;
    if (!ok || n < sizeof fp)
        return 0;
    memcpy(&fp, d, sizeof fp);
    return fp | 1; /* never 0, plaintext's */
}

static SSL_CTX *listener_ctx(const struct config *cfg, const struct config_listen *l, const struct tls_store **out,
                             char *err, size_t errlen)
{
    char where[TLS_WHERE_MAX];
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    struct tls_store *store = NULL;

    snprintf(where, sizeof where, "%s:%d: listen %s", cfg->file ? cfg->file : "config", l->line, l->addr.text);
    if (!ctx) {
        ssl_err(err, errlen, where);
        return NULL;
    }
    if (set_common(ctx, &cfg->tls, err, errlen) < 0)
        goto fail;
    /* A client's close without close_notify is just a close (requests
     * frame themselves); OpenSSL 3 would make it an error, and an error
     * takes the session out of the cache: no resumption after it. */
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    if (!(store = tls_store_load(l->tls_path, err, errlen)))
        goto fail;
    /* A certificate the settings refuse (a key too weak for the security
     * level) is named by its file, not by the directory. */
    if (tls_store_check(store, ctx, err, errlen) < 0)
        goto fail;
    if (tls_store_attach(store, ctx) < 0) {
        ssl_err(err, errlen, l->tls_path);
        goto fail;
    }
    *out = store;
    store = NULL; /* the context owns it now */
    /* One read takes every record the socket holds (xprt_tls.c): the
     * client's Finished with its request is one read, not four. */
    SSL_CTX_set_read_ahead(ctx, 1);
    /* One TLS 1.3 ticket after a full handshake, not OpenSSL's two: each
     * costs some 170,000 instructions (6% of the handshake) and a write,
     * and the second one only spares a full handshake to a client that
     * opens two connections at once after its first.  Every resumption
     * brings a new ticket (tls_tickets.c), and a TLS 1.3 resumption saves
     * CPU, not a round trip.  With tickets off, one cache entry, not two. */
    SSL_CTX_set_num_tickets(ctx, 1);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, (void *)alpn_offer(l->alpn));
    SSL_CTX_set_info_callback(ctx, refuse_renegotiation);
    /* One cache for every worker (the context is shared), bounded. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(ctx, SESSION_CACHE_SIZE);
    if (cfg->tls.tickets)
        tls_tickets_attach(ctx);
    else
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    if (l->client_ca[0]) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(l->client_ca);
        if (!names || !SSL_CTX_load_verify_locations(ctx, l->client_ca, NULL)) {
            sk_X509_NAME_pop_free(names, X509_NAME_free);
            ssl_err(err, errlen, l->client_ca);
            goto fail;
        }
        SSL_CTX_set_client_CA_list(ctx, names);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    if (set_session_id_context(ctx, l) < 0) {
        ssl_err(err, errlen, "session id context");
        goto fail;
    }
    return ctx;
fail:
    err_where(err, errlen, where);
    tls_store_free(store);
    SSL_CTX_free(ctx);
    return NULL;
}

static SSL_CTX *pool_ctx(const struct config *cfg, const struct config_pool *p, char *err, size_t errlen)
{
    char where[TLS_WHERE_MAX];
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    snprintf(where, sizeof where, "%s:%d: pool %s", cfg->file ? cfg->file : "config", p->tls.line, p->name);
    if (!ctx) {
        ssl_err(err, errlen, where);
        return NULL;
    }
    /* Servers are ours to configure: the listener's suites, not stricter. */
    struct config_tls t = cfg->tls;
    if (set_common(ctx, &t, err, errlen) < 0)
        goto fail;
    if (p->tls.verify) {
        int ok = p->tls.ca[0] ? SSL_CTX_load_verify_locations(ctx, p->tls.ca, NULL)
                              : SSL_CTX_set_default_verify_paths(ctx);
        if (!ok) {
            ssl_err(err, errlen, p->tls.ca[0] ? p->tls.ca : "the system's CA bundle");
            goto fail;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    if (p->tls.cert[0]) {
        if (!SSL_CTX_use_certificate_chain_file(ctx, p->tls.cert) ||
            !SSL_CTX_use_PrivateKey_file(ctx, p->tls.cert, SSL_FILETYPE_PEM) || !SSL_CTX_check_private_key(ctx)) {
            ssl_err(err, errlen, p->tls.cert);
            goto fail;
        }
    }
    uintptr_t fingerprint = pool_fingerprint(ctx, p);
    if (!fingerprint) {
        ssl_err(err, errlen, "fingerprint");
        goto fail;
    }
    xprt_tls_client_ctx_init(ctx, fingerprint); /* resumption with each server */
    return ctx;
fail:
    err_where(err, errlen, where);
    SSL_CTX_free(ctx);
    return NULL;
}

void tls_set_free(struct tls_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->nlistens; i++)
        SSL_CTX_free(set->listen[i]);
    for (size_t i = 0; i < set->npools; i++)
        SSL_CTX_free(set->pool[i]);
    free(set->listen);
    free(set->counters);
    free(set->stores);
    free(set->pool);
    free(set);
}

struct tls_set *tls_set_build(const struct config *cfg, char *err, size_t errlen)
{
    struct tls_set *set = calloc(1, sizeof *set);
    if (!set || tls_tickets_init() < 0)
        goto oom;
    set->nlistens = cfg->nlistens;
    set->npools = cfg->npools;
    set->listen = calloc(cfg->nlistens + 1, sizeof *set->listen);
    set->counters = calloc(cfg->nlistens + 1, sizeof *set->counters);
    set->stores = calloc(cfg->nlistens + 1, sizeof *set->stores);
    set->pool = calloc(cfg->npools + 1, sizeof *set->pool);
    if (!set->listen || !set->counters || !set->stores || !set->pool)
        goto oom;
    for (size_t i = 0; i < cfg->nlistens; i++) {
        const struct config_listen *l = &cfg->listens[i];
        set->counters[i] = listener_counters_for(l->addr.text);
        if (!l->tls_path[0])
            continue;
        if (!(set->listen[i] = listener_ctx(cfg, l, &set->stores[i], err, errlen))) {
            tls_set_free(set);
            return NULL;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(cfg->listens[j].tls_path, l->tls_path) == 0)
                set->stores[i] = NULL;
    }
    for (size_t i = 0; i < cfg->npools; i++) {
        const struct config_pool *p = &cfg->pools[i];
        if (!p->tls.on)
            continue;
        if (!(set->pool[i] = pool_ctx(cfg, p, err, errlen))) {
            tls_set_free(set);
            return NULL;
        }
        if (!p->tls.verify)
            log_warnx("pool %s: tls ca none: connections to its servers are encrypted but not verified", p->name);
    }
    return set;
oom:
    tls_set_free(set);
    snprintf(err, errlen, "TLS: out of memory");
    return NULL;
}
