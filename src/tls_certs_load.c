/*
 * tls_certs_load: certificate files -> parsed certificates (see
 * tls_certs_load.h).  Every failure names the file it comes from, since
 * the operator's fix is always "look at that file".
 *
 * A file is read whole (at most TLS_CERT_FILE_MAX bytes) and its PEM block
 * names counted first: that tells "no certificate", "no key" and "two keys"
 * apart before OpenSSL parses anything, whatever order the blocks are in.
 */
#include "tls_certs_load.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

/* A PEM file bigger than this is not a certificate chain. */
#define TLS_CERT_FILE_MAX (1u << 20)
/* RFC 1035: a DNS name fits in 253 characters. */
#define TLS_NAME_MAX 253

static void fail(char *err, size_t errlen, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(err, errlen, "%s: ", path);
    if (n < 0 || (size_t)n >= errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

/* OpenSSL's reason for the last failure, for the end of a message. */
static const char *ssl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    return r ? r : "unknown error";
}

/* The whole file, NUL-terminated; NULL with err set. */
static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fail(err, errlen, path, "cannot read: %s", strerror(errno));
        return NULL;
    }
    char *buf = malloc(TLS_CERT_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, TLS_CERT_FILE_MAX + 1, f) : 0;
    int bad = !buf || ferror(f);
    int saved = errno;
    fclose(f);
    if (bad) {
        fail(err, errlen, path, "cannot read: %s", buf ? strerror(saved) : "out of memory");
        free(buf);
        return NULL;
    }
    if (n > TLS_CERT_FILE_MAX) {
        fail(err, errlen, path, "over %u bytes: not a certificate file", TLS_CERT_FILE_MAX);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* How many blocks of each kind the PEM text holds, and where the key is. */
struct pem_census {
    int certs, keys, encrypted_keys;
    const char *key_at;  /* the key's "-----BEGIN", or NULL */
};

static struct pem_census pem_count(const char *text)
{
    struct pem_census c = {0, 0, 0, NULL};
    static const char begin[] = "-----BEGIN ";
    for (const char *p = strstr(text, begin); p; p = strstr(p, begin)) {
        const char *block = p;
        p += sizeof begin - 1;
        const char *end = strstr(p, "-----");
        const char *nl = strchr(p, '\n');
        if (!end || (nl && nl < end))
            continue;
        size_t n = (size_t)(end - p);
        if ((n == 11 && !memcmp(p, "CERTIFICATE", 11)) ||
            (n == 19 && !memcmp(p, "TRUSTED CERTIFICATE", 19)) ||
            (n == 16 && !memcmp(p, "X509 CERTIFICATE", 16)))
            c.certs++;
        else if (n >= 11 && !memcmp(end - 11, "PRIVATE KEY", 11)) {
            c.keys++;
            c.key_at = block;
            if (n >= 9 && !memcmp(p, "ENCRYPTED", 9))
                c.encrypted_keys++;
        }
        p = end;
    }
    if (strstr(text, "Proc-Type: 4,ENCRYPTED"))  /* the traditional form */
        c.encrypted_keys++;
    return c;
}

/* Never ask for a passphrase: a proxy starts unattended. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

/* The n certificates of `text`: the first is the leaf, the rest its chain. */
static int parse_certs(struct tls_cert *c, const char *text, size_t len, int n, const char *path,
                       char *err, size_t errlen)
{
    BIO *bio = BIO_new_mem_buf(text, (int)len);
    c->chain = sk_X509_new_null();
    if (!bio || !c->chain) {
        BIO_free(bio);
        fail(err, errlen, path, "out of memory");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        ERR_clear_error();
        X509 *x = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
        if (!x) {
            fail(err, errlen, path, "certificate %d of %d does not parse (%s)", i + 1, n,
                 ssl_reason());
            BIO_free(bio);
            return -1;
        }
        if (!c->leaf)
            c->leaf = x;
        else if (!sk_X509_push(c->chain, x)) {
            X509_free(x);
            BIO_free(bio);
            fail(err, errlen, path, "out of memory");
            return -1;
        }
    }
    BIO_free(bio);
    return 0;
}

/* OpenSSL 3.0 builds its decoder chains anew for every PEM_read_bio_PrivateKey,
 * which is most of a file's loading time: one load keeps one decoder for
 * all its keys (five to ten times faster, so thousands of files load in
 * seconds), and falls back to PEM_read_bio_PrivateKey when it fails. */
struct key_decoder {
    OSSL_DECODER_CTX *dctx;  /* NULL: none could be made, the fallback does it all */
    EVP_PKEY *out;           /* where dctx puts each key */
};

static void key_decoder_init(struct key_decoder *kd)
{
    kd->out = NULL;
    kd->dctx = OSSL_DECODER_CTX_new_for_pkey(&kd->out, "PEM", NULL, NULL, EVP_PKEY_KEYPAIR, NULL,
                                             NULL);
    if (kd->dctx)
        OSSL_DECODER_CTX_set_pem_password_cb(kd->dctx, no_passphrase, NULL);
}

static void key_decoder_free(struct key_decoder *kd)
{
    OSSL_DECODER_CTX_free(kd->dctx);
    EVP_PKEY_free(kd->out);
}

/* The key block alone through the shared decoder, or NULL. */
static EVP_PKEY *decode_key(struct key_decoder *kd, const char *text, size_t len, const char *at)
{
    if (!kd->dctx || !at)
        return NULL;
    static const char end_mark[] = "-----END ";
    const char *end = strstr(at, end_mark);
    const char *nl = end ? strchr(end + sizeof end_mark - 1, '\n') : NULL;
    size_t n = nl ? (size_t)(nl + 1 - at) : len - (size_t)(at - text);
    const unsigned char *p = (const unsigned char *)at;
    EVP_PKEY_free(kd->out);
    kd->out = NULL;
    if (!OSSL_DECODER_from_data(kd->dctx, &p, &n) || !kd->out)
        return NULL;
    EVP_PKEY *k = kd->out;
    kd->out = NULL;
    return k;
}

/* The one private key of `text` (pem_count said there is exactly one). */
static int parse_key(struct tls_cert *c, struct key_decoder *kd, const char *text, size_t len,
                     const struct pem_census *pc, const char *path, char *err, size_t errlen)
{
    ERR_set_mark();
    c->key = decode_key(kd, text, len, pc->key_at);
    ERR_pop_to_mark();
    if (c->key)
        return 0;
    BIO *bio = BIO_new_mem_buf(text, (int)len);
    if (!bio) {
        fail(err, errlen, path, "out of memory");
        return -1;
    }
    ERR_clear_error();
    c->key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    if (c->key)
        return 0;
    if (pc->encrypted_keys)
        fail(err, errlen, path, "the private key is encrypted (no passphrase is asked for): "
                                "store it decrypted, readable by the proxy only");
    else
        fail(err, errlen, path, "the private key does not parse (%s)", ssl_reason());
    return -1;
}

/* The key, cert and census checks shared by .pem files and .crt/.key pairs. */
static int census_ok(const struct pem_census *pc, int want_certs, int want_key, const char *path,
                     char *err, size_t errlen)
{
    if (want_certs && pc->certs == 0) {
        fail(err, errlen, path, "no certificate (no \"-----BEGIN CERTIFICATE-----\" block)");
        return -1;
    }
    if (want_key && pc->keys == 0) {
        fail(err, errlen, path, "no private key (no \"-----BEGIN ... PRIVATE KEY-----\" block)");
        return -1;
    }
    if (want_key && pc->keys > 1) {
        fail(err, errlen, path, "%d private keys: one file holds one certificate's chain and key",
             pc->keys);
        return -1;
    }
    return 0;
}

/* A lowercased copy of a DNS name, or NULL when it cannot be one. */
static char *dns_name(const unsigned char *s, size_t len)
{
    if (len == 0 || len > TLS_NAME_MAX)
        return NULL;
    for (size_t i = 0; i < len; i++)
        if (s[i] <= ' ' || s[i] >= 0x7f)  /* also refuses an embedded NUL */
            return NULL;
    char *n = malloc(len + 1);
    if (!n)
        return NULL;
    for (size_t i = 0; i < len; i++)
        n[i] = (char)tolower(s[i]);
    n[len] = '\0';
    return n;
}

static int add_name(struct tls_cert *c, size_t *cap, char *name)
{
    if (!name)
        return 0;  /* not a usable name: skipped, not an error */
    if (c->info.nnames == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        const char **v = realloc((void *)c->info.names, ncap * sizeof *v);
        if (!v) {
            free(name);
            return -1;
        }
        c->info.names = v;
        *cap = ncap;
    }
    ((const char **)c->info.names)[c->info.nnames++] = name;
    return 0;
}

/* The DNS names of the subjectAltName, else the subject's CN. */
static int collect_names(struct tls_cert *c)
{
    size_t cap = 0;
    GENERAL_NAMES *sans = X509_get_ext_d2i(c->leaf, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
        if (g->type != GEN_DNS)
            continue;
        const ASN1_IA5STRING *s = g->d.dNSName;
        if (add_name(c, &cap, dns_name(ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s))) < 0) {
            GENERAL_NAMES_free(sans);
            return -1;
        }
    }
    GENERAL_NAMES_free(sans);
    if (c->info.nnames)
        return 0;
    const X509_NAME *subj = X509_get_subject_name(c->leaf);
    int at = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
    if (at < 0)
        return 0;  /* no name at all: it can still be the default */
    unsigned char *utf8 = NULL;
    int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, at)));
    int rc = len < 0 ? 0 : add_name(c, &cap, dns_name(utf8, (size_t)len));
    OPENSSL_free(utf8);
    return rc;
}

/* key_type, slot and the ECDSA curve's TLS code points. */
static int describe_key(struct tls_cert *c)
{
    char buf[64], group[32];
    int id = EVP_PKEY_get_base_id(c->key);
    c->slot = TLS_SLOT_RSA;
    switch (id) {
    case EVP_PKEY_RSA:
        snprintf(buf, sizeof buf, "RSA %d", EVP_PKEY_get_bits(c->key));
        break;
    case EVP_PKEY_RSA_PSS:
        snprintf(buf, sizeof buf, "RSA-PSS %d", EVP_PKEY_get_bits(c->key));
        break;
    case EVP_PKEY_EC: {
        c->slot = TLS_SLOT_ECDSA;
        size_t glen = 0;
        const char *nist = NULL;
        if (EVP_PKEY_get_group_name(c->key, group, sizeof group, &glen)) {
            int nid = OBJ_txt2nid(group);
            nist = nid != NID_undef ? EC_curve_nid2nist(nid) : NULL;
            if (nid == NID_X9_62_prime256v1)
                c->ec_group = 23, c->ec_sigalg = 0x0403;
            else if (nid == NID_secp384r1)
                c->ec_group = 24, c->ec_sigalg = 0x0503;
            else if (nid == NID_secp521r1)
                c->ec_group = 25, c->ec_sigalg = 0x0603;
        }
        snprintf(buf, sizeof buf, "ECDSA %s", nist ? nist : glen ? group : "?");
        break;
    }
    case EVP_PKEY_ED25519:
        snprintf(buf, sizeof buf, "Ed25519");
        break;
    case EVP_PKEY_ED448:
        snprintf(buf, sizeof buf, "Ed448");
        break;
    default:
        snprintf(buf, sizeof buf, "%s %d", OBJ_nid2sn(id), EVP_PKEY_get_bits(c->key));
        break;
    }
    c->info.key_type = strdup(buf);
    return c->info.key_type ? 0 : -1;
}

/* Checks and describes a certificate whose leaf, chain and key are parsed. */
static int finish_cert(struct tls_cert *c, const char *path, char *err, size_t errlen)
{
    struct tm tm;
    ERR_clear_error();
    if (!X509_check_private_key(c->leaf, c->key)) {
        fail(err, errlen, path, "the private key does not match the certificate");
        return -1;
    }
    if (!ASN1_TIME_to_tm(X509_get0_notAfter(c->leaf), &tm)) {
        fail(err, errlen, path, "the certificate's notAfter date does not parse");
        return -1;
    }
    c->info.not_after = timegm(&tm);
    c->info.path = strdup(path);
    if (!c->info.path || describe_key(c) < 0 || collect_names(c) < 0) {
        fail(err, errlen, path, "out of memory");
        return -1;
    }
    return 0;
}

static void cert_clear(struct tls_cert *c)
{
    X509_free(c->leaf);
    EVP_PKEY_free(c->key);
    sk_X509_pop_free(c->chain, X509_free);
    for (size_t i = 0; i < c->info.nnames; i++)
        free((void *)c->info.names[i]);
    free((void *)c->info.names);
    free((void *)c->info.path);
    free((void *)c->info.key_type);
    memset(c, 0, sizeof *c);
}

/* A PEM file holding the chain and the key, in any order. */
static int load_pem(struct tls_cert *c, struct key_decoder *kd, const char *path, char *err,
                    size_t errlen)
{
    size_t len;
    char *text = read_file(path, &len, err, errlen);
    if (!text)
        return -1;
    struct pem_census pc = pem_count(text);
    int rc = census_ok(&pc, 1, 1, path, err, errlen);
    if (rc == 0)
        rc = parse_certs(c, text, len, pc.certs, path, err, errlen);
    if (rc == 0)
        rc = parse_key(c, kd, text, len, &pc, path, err, errlen);
    OPENSSL_cleanse(text, len);  /* it held a private key */
    free(text);
    if (rc == 0)
        rc = finish_cert(c, path, err, errlen);
    return rc;
}

/* NAME.crt (the chain) with NAME.key beside it. */
static int load_pair(struct tls_cert *c, struct key_decoder *kd, const char *crt, const char *key,
                     const char *key_base, char *err, size_t errlen)
{
    struct stat sb;
    if (stat(key, &sb) < 0 && errno == ENOENT) {
        fail(err, errlen, crt, "no private key: %s is missing", key_base);
        return -1;
    }
    size_t len;
    char *text = read_file(crt, &len, err, errlen);
    if (!text)
        return -1;
    struct pem_census pc = pem_count(text);
    int rc = census_ok(&pc, 1, 0, crt, err, errlen);
    if (rc == 0)
        rc = parse_certs(c, text, len, pc.certs, crt, err, errlen);
    free(text);
    if (rc < 0)
        return -1;
    text = read_file(key, &len, err, errlen);
    if (!text)
        return -1;
    pc = pem_count(text);
    rc = census_ok(&pc, 0, 1, key, err, errlen);
    if (rc == 0)
        rc = parse_key(c, kd, text, len, &pc, key, err, errlen);
    OPENSSL_cleanse(text, len);
    free(text);
    if (rc == 0)
        rc = finish_cert(c, crt, err, errlen);
    return rc;
}

static struct tls_cert *list_push(struct tls_cert_list *l)
{
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 16;
        struct tls_cert *v = realloc(l->v, ncap * sizeof *v);
        if (!v)
            return NULL;
        l->v = v;
        l->cap = ncap;
    }
    struct tls_cert *c = &l->v[l->n];
    memset(c, 0, sizeof *c);
    return c;
}

static int ends_with(const char *s, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);
    return len > n && memcmp(s + len - n, suffix, n) == 0;
}

/* strcmp, not alphasort's strcoll: "first in name order" must not depend on the locale. */
static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* One directory entry: a .pem, a .crt (with its .key) or something to skip (0). */
static int load_entry(struct tls_cert_list *l, struct key_decoder *kd, const char *dir,
                      const char *name, char *err, size_t errlen)
{
    size_t nlen = strlen(name);
    int pem = ends_with(name, nlen, ".pem"), crt = ends_with(name, nlen, ".crt");
    if (name[0] == '.' || (!pem && !crt))
        return 0;
    const char *sep = dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/";
    char *path = NULL, *key = NULL;
    int rc = -1;
    struct stat sb;
    if (asprintf(&path, "%s%s%s", dir, sep, name) < 0) {
        path = NULL;
        fail(err, errlen, dir, "out of memory");
        return -1;
    }
    if (stat(path, &sb) < 0) {
        fail(err, errlen, path, "cannot read: %s", strerror(errno));
        goto out;
    }
    if (!S_ISREG(sb.st_mode)) {
        rc = 0;  /* a directory named x.pem, say */
        goto out;
    }
    struct tls_cert *c = list_push(l);
    if (!c) {
        fail(err, errlen, path, "out of memory");
        goto out;
    }
    if (pem) {
        rc = load_pem(c, kd, path, err, errlen);
    } else {
        if (asprintf(&key, "%.*s.key", (int)(strlen(path) - 4), path) < 0) {
            key = NULL;
            fail(err, errlen, path, "out of memory");
            goto out;
        }
        rc = load_pair(c, kd, path, key, key + strlen(dir) + strlen(sep), err, errlen);
    }
    if (rc < 0) {
        cert_clear(c);
        goto out;
    }
    if (!strcmp(name, "default.pem") ||
        (!strcmp(name, "default.crt") && l->default_idx == (size_t)-1))
        l->default_idx = l->n;
    l->n++;
out:
    free(key);
    free(path);
    return rc;
}

static int load_dir(struct tls_cert_list *l, struct key_decoder *kd, const char *dir, char *err,
                    size_t errlen)
{
    struct dirent **ents;
    int n = scandir(dir, &ents, NULL, by_name);
    if (n < 0) {
        fail(err, errlen, dir, "cannot read: %s", strerror(errno));
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (rc == 0)
            rc = load_entry(l, kd, dir, ents[i]->d_name, err, errlen);
        free(ents[i]);
    }
    free(ents);
    if (rc == 0 && l->n == 0) {
        fail(err, errlen, dir, "no certificate in this directory (*.pem, or NAME.crt with NAME.key)");
        rc = -1;
    }
    return rc;
}

int tls_certs_read(const char *path, struct tls_cert_list *out, char *err, size_t errlen)
{
    struct stat sb;
    memset(out, 0, sizeof *out);
    out->default_idx = (size_t)-1;
    if (stat(path, &sb) < 0) {
        fail(err, errlen, path, "cannot read: %s", strerror(errno));
        return -1;
    }
    int rc;
    struct key_decoder kd;
    key_decoder_init(&kd);
    if (S_ISDIR(sb.st_mode)) {
        rc = load_dir(out, &kd, path, err, errlen);
    } else {
        struct tls_cert *c = list_push(out);
        rc = c ? load_pem(c, &kd, path, err, errlen) : -1;
        if (!c)
            fail(err, errlen, path, "out of memory");
        else if (rc < 0)
            cert_clear(c);
        else
            out->n = 1;
    }
    key_decoder_free(&kd);
    if (rc < 0)
        tls_cert_list_clear(out);
    ERR_clear_error();  /* nothing of a load stays on this thread's error queue */
    return rc;
}

void tls_cert_list_clear(struct tls_cert_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        cert_clear(&l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
    l->default_idx = (size_t)-1;
}
