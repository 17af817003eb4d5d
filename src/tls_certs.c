/*
 * tls_certs: the certificate store and the per-handshake choice of a
 * certificate (see tls_certs.h).  Files are read by tls_certs_load.c.
 *
 * Names live in one open-addressing hash table (lowercased name -> the
 * RSA and the ECDSA certificate for it), so choosing is two lookups at
 * most whatever the number of certificates, and loading is linear.
 *
 * The choice is made in OpenSSL's ClientHello callback, the earliest point
 * where the ClientHello is known and nothing is decided yet: the callback
 * reads the server_name, signature_algorithms, supported_groups and
 * supported_versions extensions itself (SSL_get_servername is not set that
 * early) and puts exactly one certificate on the SSL (SSL_certs_clear +
 * SSL_use_cert_and_key on the SSL's own copy of the certificate slots;
 * nothing when the choice is the one certificate the SSL started with from
 * its context, as with a single certificate file).  That leaves everything else the listener set on its SSL_CTX (protocols,
 * ciphers, ALPN, tickets, client verification) in force, which switching
 * the SSL to a per-certificate SSL_CTX (SSL_set_SSL_CTX) would not.
 */
#include "tls_certs.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/tls1.h>

#include "tls_certs_load.h"

/* One name: the certificate of each key slot that carries it (-1: none). */
struct name_slot {
    const char *name;  /* NULL: empty slot; borrowed from the certificate's info */
    uint32_t hash;
    int32_t cert[TLS_SLOTS];
};

struct tls_store {
    atomic_uint refs;
    struct tls_cert *certs;  /* in file name order */
    size_t n_certs;
    struct name_slot *table; /* power-of-two size, at most half full */
    size_t mask;
    int32_t default_pair[TLS_SLOTS];
    /* The one certificate tls_store_attach puts on a context when the
     * default has a single key slot (-1 when it has two): an SSL starts
     * with it, so choosing it needs no install per handshake. */
    int32_t ctx_only;
};

/* ---- the name table ------------------------------------------------------------- */

static uint32_t name_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;  /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* The slot holding name[0..len), or the empty slot where it would go. */
static struct name_slot *table_probe(const struct tls_store *s, const char *name, size_t len,
                                     uint32_t h)
{
    for (size_t i = h & s->mask;; i = (i + 1) & s->mask) {
        struct name_slot *e = &s->table[i];
        if (!e->name || (e->hash == h && !strncmp(e->name, name, len) && !e->name[len]))
            return e;
    }
}

static const int32_t *table_find(const struct tls_store *s, const char *name, size_t len)
{
    const struct name_slot *e = table_probe(s, name, len, name_hash(name, len));
    return e->name ? e->cert : NULL;
}

/* Files are added in name order and the first claim of a name for a key
 * slot stands, so the outcome never depends on the hash. */
static void table_add(struct tls_store *s, const char *name, int32_t cert, enum tls_key_slot slot)
{
    size_t len = strlen(name);
    uint32_t h = name_hash(name, len);
    struct name_slot *e = table_probe(s, name, len, h);
    if (!e->name) {
        e->name = name;
        e->hash = h;
        e->cert[TLS_SLOT_RSA] = e->cert[TLS_SLOT_ECDSA] = -1;
    }
    if (e->cert[slot] < 0)
        e->cert[slot] = cert;
}

static int table_build(struct tls_store *s)
{
    size_t names = 0, size = 16;
    for (size_t i = 0; i < s->n_certs; i++)
        names += s->certs[i].info.nnames;
    while (size < 2 * names)
        size *= 2;
    s->table = calloc(size, sizeof *s->table);
    if (!s->table)
        return -1;
    s->mask = size - 1;
    for (size_t i = 0; i < s->n_certs; i++)
        for (size_t j = 0; j < s->certs[i].info.nnames; j++)
            table_add(s, s->certs[i].info.names[j], (int32_t)i, s->certs[i].slot);
    return 0;
}

/* The certificates for a server name: the exact name, else the wildcard for
 * its parent (one label only), else NULL.  `sni` is lowercased already. */
static const int32_t *find_pair(const struct tls_store *s, const char *sni)
{
    size_t len = strlen(sni);
    const int32_t *pair = table_find(s, sni, len);
    if (pair)
        return pair;
    const char *dot = memchr(sni, '.', len);
    if (!dot || dot == sni || !dot[1])
        return NULL;
    char wild[2 + 256];
    size_t rest = len - (size_t)(dot - sni);  /* ".example.com" */
    if (rest + 1 >= sizeof wild)
        return NULL;
    wild[0] = '*';
    memcpy(wild + 1, dot, rest);
    return table_find(s, wild, rest + 1);
}

/* The default certificate, and for the other key slot the certificate of the
 * same (first) name, so that a client without SNI gets a key it can use. */
static void pick_default(struct tls_store *s, size_t named_default)
{
    size_t d = named_default < s->n_certs ? named_default : 0;
    const struct tls_cert *c = &s->certs[d];
    s->default_pair[TLS_SLOT_RSA] = s->default_pair[TLS_SLOT_ECDSA] = -1;
    if (c->info.nnames) {
        const int32_t *pair = table_find(s, c->info.names[0], strlen(c->info.names[0]));
        memcpy(s->default_pair, pair, sizeof s->default_pair);
    }
    s->default_pair[c->slot] = (int32_t)d;
    s->ctx_only = -1;
    for (int k = 0; k < TLS_SLOTS; k++)
        if (s->default_pair[k] >= 0) {
            s->certs[s->default_pair[k]].info.is_default = 1;
            s->ctx_only = s->ctx_only == -1 ? s->default_pair[k] : -2;
        }
    if (s->ctx_only == -2)
        s->ctx_only = -1;
}

/* ---- life cycle ------------------------------------------------------------------ */

struct tls_store *tls_store_load(const char *path, char *err, size_t errlen)
{
    struct tls_cert_list l;
    if (tls_certs_read(path, &l, err, errlen) < 0)
        return NULL;
    struct tls_store *s = calloc(1, sizeof *s);
    if (!s) {
        tls_cert_list_clear(&l);
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    atomic_init(&s->refs, 1);
    s->certs = l.v;  /* the store owns the certificates from here */
    s->n_certs = l.n;
    if (table_build(s) < 0) {
        snprintf(err, errlen, "%s: out of memory", path);
        tls_store_free(s);
        return NULL;
    }
    pick_default(s, l.default_idx);
    return s;
}

void tls_store_ref(struct tls_store *s)
{
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
}

void tls_store_free(struct tls_store *s)
{
    if (!s || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
        return;
    struct tls_cert_list l = {.v = s->certs, .n = s->n_certs, .cap = s->n_certs};
    tls_cert_list_clear(&l);
    free(s->table);
    free(s);
}

/* ---- what the ClientHello offers ------------------------------------------------- */

/* A server name as the table holds names: lowercased, without a final dot,
 * into out (256 bytes); its length, or 0 when it cannot be a DNS name
 * (then the default answers, whatever a lookup of its bytes would say). */
static size_t sni_normalize(const unsigned char *p, size_t n, char *out, size_t outlen)
{
    if (n && p[n - 1] == '.')  /* "example.com." is example.com */
        n--;
    if (n == 0 || n >= outlen)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] <= ' ' || p[i] >= 0x7f)
            return 0;
        out[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
    }
    out[n] = '\0';
    return n;
}

/* The host name of a server_name extension, normalized into out; 0 when
 * there is none usable.  RFC 6066: a list of {u8 type, u16 length, name},
 * type 0 being a host name. */
static size_t hello_sni(const unsigned char *p, size_t len, char *out, size_t outlen)
{
    if (len < 2 || (size_t)(p[0] << 8 | p[1]) != len - 2)
        return 0;
    const unsigned char *end = p + len;
    for (p += 2; end - p >= 3;) {
        unsigned type = p[0];
        size_t n = (size_t)(p[1] << 8 | p[2]);
        p += 3;
        if (n > (size_t)(end - p))
            return 0;
        if (type == TLSEXT_NAMETYPE_host_name)
            return sni_normalize(p, n, out, outlen);
        p += n;
    }
    return 0;
}

/* Whether an extension made of a length (hdr bytes) and 16-bit values holds v. */
static int u16_list_has(const unsigned char *p, size_t len, size_t hdr, unsigned v)
{
    if (len < hdr)
        return 0;
    size_t n = hdr == 1 ? p[0] : (size_t)(p[0] << 8 | p[1]);
    if (n > len - hdr)
        return 0;
    for (size_t i = hdr; i + 1 < hdr + n; i += 2)
        if ((unsigned)(p[i] << 8 | p[i + 1]) == v)
            return 1;
    return 0;
}

static int hello_ext_has(SSL *ssl, unsigned type, size_t hdr, unsigned v, int if_absent)
{
    const unsigned char *p;
    size_t len;
    if (!SSL_client_hello_get0_ext(ssl, type, &p, &len))
        return if_absent;
    return u16_list_has(p, len, hdr, v);
}

/* Whether the listener's settings allow this suite (a linear walk: sk_find
 * would sort the ctx's shared list, from several workers at once). */
static int server_allows(SSL *ssl, const SSL_CIPHER *c)
{
    STACK_OF(SSL_CIPHER) *ours = SSL_get_ciphers(ssl);
    uint32_t id = SSL_CIPHER_get_id(c);
    for (int i = 0; i < sk_SSL_CIPHER_num(ours); i++)
        if (SSL_CIPHER_get_id(sk_SSL_CIPHER_value(ours, i)) == id)
            return 1;
    return 0;
}

/* A suite that an ECDSA certificate can serve, offered by the client and
 * allowed by the listener: TLS 1.2's ECDHE-ECDSA ones, or a TLS 1.3 one (any
 * key) when this handshake can be TLS 1.3. */
static int hello_has_ecdsa_suite(SSL *ssl)
{
    const unsigned char *p;
    size_t len = SSL_client_hello_get0_ciphers(ssl, &p);
    int max = SSL_get_max_proto_version(ssl);
    int tls13 = (max == 0 || max >= TLS1_3_VERSION) &&
                hello_ext_has(ssl, TLSEXT_TYPE_supported_versions, 1, TLS1_3_VERSION, 0);
    for (size_t i = 0; i + 1 < len; i += 2) {
        const SSL_CIPHER *c = SSL_CIPHER_find(ssl, p + i);
        int auth = c ? SSL_CIPHER_get_auth_nid(c) : NID_undef;
        if ((auth == NID_auth_ecdsa || (auth == NID_auth_any && tls13)) && server_allows(ssl, c))
            return 1;
    }
    return 0;
}

/* Whether this client can take this ECDSA certificate: the signature
 * scheme of its curve (TLS 1.3 ties the two), the curve among its groups,
 * and a suite it can sign for.  Without signature_algorithms (before TLS
 * 1.2) or supported_groups the suite decides, as OpenSSL would. */
static int hello_takes_ecdsa(SSL *ssl, const struct tls_cert *c)
{
    if (c->ec_sigalg) {
        if (!hello_ext_has(ssl, TLSEXT_TYPE_signature_algorithms, 2, c->ec_sigalg, 1))
            return 0;
        if (!hello_ext_has(ssl, TLSEXT_TYPE_supported_groups, 2, c->ec_group, 1))
            return 0;
    }
    return hello_has_ecdsa_suite(ssl);
}

static const int32_t *pair_for(const struct tls_store *s, const char *sni)
{
    const int32_t *pair = sni && sni[0] ? find_pair(s, sni) : NULL;
    return pair ? pair : s->default_pair;
}

/* The ECDSA certificate when the client takes it or there is no other. */
static int32_t pick(const int32_t *pair, int takes_ecdsa)
{
    if (pair[TLS_SLOT_ECDSA] >= 0 && (takes_ecdsa || pair[TLS_SLOT_RSA] < 0))
        return pair[TLS_SLOT_ECDSA];
    return pair[TLS_SLOT_RSA];
}

/* c->chain is never NULL (an empty stack when the file has no intermediate):
 * then exactly the file's chain is sent, never one OpenSSL would build from
 * the ctx's trust store (which holds a listener's client CAs). */
static int install(SSL *ssl, const struct tls_cert *c)
{
    SSL_certs_clear(ssl);
    return SSL_use_cert_and_key(ssl, c->leaf, c->key, c->chain, 1) == 1 ? 0 : -1;
}

static int on_client_hello(SSL *ssl, int *alert, void *arg)
{
    const struct tls_store *s = arg;
    const unsigned char *ext;
    size_t len;
    char sni[256];
    if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &ext, &len) ||
        !hello_sni(ext, len, sni, sizeof sni))
        sni[0] = '\0';
    const int32_t *pair = pair_for(s, sni);
    int takes_ecdsa = pair[TLS_SLOT_ECDSA] >= 0 && pair[TLS_SLOT_RSA] >= 0 &&
                      hello_takes_ecdsa(ssl, &s->certs[pair[TLS_SLOT_ECDSA]]);
    int32_t chosen = pick(pair, takes_ecdsa);
    /* Already the SSL's only certificate (it came from the context): an
     * install would clear and set the same thing again, some 24,000
     * instructions a handshake (key checks), 1% of a resumption. */
    if (chosen == s->ctx_only)
        return SSL_CLIENT_HELLO_SUCCESS;
    if (install(ssl, &s->certs[chosen]) < 0) {
        *alert = SSL_AD_INTERNAL_ERROR;
        return SSL_CLIENT_HELLO_ERROR;
    }
    return SSL_CLIENT_HELLO_SUCCESS;
}

/* ---- on an SSL_CTX ---------------------------------------------------------------- */

static int store_index = -1;
static pthread_once_t store_index_once = PTHREAD_ONCE_INIT;

/* SSL_CTX_free's hook: the store goes with its ctx. */
static void store_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                          void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    tls_store_free(ptr);
}

static void store_index_init(void)
{
    store_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, store_ex_free);
}

struct tls_store *tls_store_of(const SSL_CTX *ctx)
{
    pthread_once(&store_index_once, store_index_init);
    return store_index < 0 ? NULL : SSL_CTX_get_ex_data(ctx, store_index);
}

/* Every certificate goes on a scratch SSL of the ctx once, so that what
 * the ctx's settings (its security level) refuse is found now.  The index
 * of the refused one, with OpenSSL's reason left on the error queue, or -1
 * when all pass (-2: no scratch SSL). */
static long first_refused(const struct tls_store *s, SSL_CTX *ctx)
{
    SSL *probe = SSL_new(ctx);
    if (!probe)
        return -2;
    long bad = -1;
    for (size_t i = 0; i < s->n_certs && bad < 0; i++) {
        ERR_clear_error();
        if (install(probe, &s->certs[i]) < 0)
            bad = (long)i;
    }
    SSL_free(probe);
    return bad;
}

int tls_store_check(const struct tls_store *s, SSL_CTX *ctx, char *err, size_t errlen)
{
    long bad = first_refused(s, ctx);
    if (bad == -2)
        snprintf(err, errlen, "TLS: out of memory");
    else if (bad >= 0) {
        unsigned long e = ERR_peek_error();
        const char *why = e ? ERR_reason_error_string(e) : NULL;
        snprintf(err, errlen, "%s: refused by the TLS settings (%s)", s->certs[bad].info.path,
                 why ? why : "unknown error");
    }
    ERR_clear_error();
    return bad == -1 ? 0 : -1;
}

int tls_store_attach(struct tls_store *s, SSL_CTX *ctx)
{
    ERR_clear_error();  /* what is left on failure is this call's reason */
    if (tls_store_of(ctx) != NULL || store_index < 0) {
        ERR_raise(ERR_LIB_SSL, ERR_R_PASSED_INVALID_ARGUMENT);  /* one store per ctx */
        return -1;
    }
    for (int k = 0; k < TLS_SLOTS; k++) {
        const struct tls_cert *c = s->default_pair[k] >= 0 ? &s->certs[s->default_pair[k]] : NULL;
        if (c && SSL_CTX_use_cert_and_key(ctx, c->leaf, c->key, c->chain, 1) != 1)
            return -1;
    }
    long bad = first_refused(s, ctx);
    if (bad == -2 || bad >= 0)
        return -1;
    if (!SSL_CTX_set_ex_data(ctx, store_index, s))
        return -1;
    /* from here SSL_CTX_free releases the caller's reference */
    SSL_CTX_set_client_hello_cb(ctx, on_client_hello, s);
    ERR_clear_error();
    return 0;
}

/* ---- what stats and events read ---------------------------------------------------- */

const struct tls_cert_info *tls_store_select(const struct tls_store *s, const char *sni,
                                             int client_takes_ecdsa)
{
    char lower[256];
    if (!sni || !sni_normalize((const unsigned char *)sni, strlen(sni), lower, sizeof lower))
        lower[0] = '\0';
    return &s->certs[pick(pair_for(s, lower), client_takes_ecdsa)].info;
}

size_t tls_store_count(const struct tls_store *s)
{
    return s->n_certs;
}

const struct tls_cert_info *tls_store_info(const struct tls_store *s, size_t i)
{
    return i < s->n_certs ? &s->certs[i].info : NULL;
}

int tls_cert_days_left(const struct tls_cert_info *ci, time_t now)
{
    long long d = (long long)ci->not_after - (long long)now;
    return (int)(d >= 0 ? d / 86400 : -((-d + 86399) / 86400));
}

void tls_store_check_expiry(const struct tls_store *s, time_t now,
                            void (*emit)(void *arg, const struct tls_cert_info *ci,
                                         int days_left, int expired),
                            void *arg)
{
    const long long warn = (long long)TLS_CERT_EXPIRY_WARN_DAYS * 86400;
    for (size_t i = 0; i < s->n_certs; i++) {
        const struct tls_cert_info *ci = &s->certs[i].info;
        long long left = (long long)ci->not_after - (long long)now;
        if (left <= warn)
            emit(arg, ci, tls_cert_days_left(ci, now), left <= 0);
    }
}
