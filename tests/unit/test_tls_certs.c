/*
 * Unit tests of the certificate store (tls_certs.c, tls_certs_load.c):
 * what loads and what is refused (with the file's path), the names of a
 * certificate, and which certificate a handshake gets: by SNI (exact before
 * wildcard, one label per wildcard), the default, and RSA or ECDSA by what
 * the client offers.  The choice is checked on real handshakes through a
 * memory BIO pair, by the CN of the certificate the client received.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "tls_certs.h"
#include "tls_fixtures.h"

#define DAY 86400

static char *dir;
static time_t now;

static void setup(void)
{
    dir = tlsfx_mkdtemp();
    cr_assert_not_null(dir);
    now = time(NULL);
}

static void teardown(void)
{
    tlsfx_rmtree(dir);
    dir = NULL;
}

TestSuite(tls_certs, .init = setup, .fini = teardown, .timeout = 60);

/* ---- helpers ------------------------------------------------------------------------ */

static EVP_PKEY *ec_key(void)
{
    EVP_PKEY *k = tlsfx_key_ec("P-256");
    cr_assert_not_null(k);
    return k;
}

static EVP_PKEY *rsa_key(void)
{
    EVP_PKEY *k = tlsfx_key_rsa(2048);
    cr_assert_not_null(k);
    return k;
}

/* dir/file holding a fresh certificate for key (CN and SANs as given). */
static void make(const char *file, EVP_PKEY *key, const char *cn, const char *const *sans)
{
    cr_assert_eq(tlsfx_make_pem(dir, file, key, cn, sans, now + 90 * DAY), 0, "%s", file);
}

static char *in_dir(const char *name)
{
    char *p = tlsfx_path(dir, name);
    cr_assert_not_null(p);
    return p;
}

static struct tls_store *load_ok(const char *path)
{
    char err[512] = "";
    struct tls_store *s = tls_store_load(path, err, sizeof err);
    cr_assert_not_null(s, "load failed: %s", err);
    return s;
}

/* Loading fails with err = "FILE: ..." naming `file` and saying `what`. */
static void load_fails(const char *path, const char *file, const char *what)
{
    char err[512] = "";
    struct tls_store *s = tls_store_load(path, err, sizeof err);
    cr_assert_null(s, "%s loaded", path);
    size_t n = strlen(file);
    cr_assert(strncmp(err, file, n) == 0 && err[n] == ':', "error does not start with '%s:': %s",
              file, err);
    cr_assert_not_null(strstr(err, what), "error does not say '%s': %s", what, err);
}

/* A server ctx with the store attached; the test keeps its own reference. */
static SSL_CTX *server_for(struct tls_store *s)
{
    SSL_CTX *ctx = tlsfx_server_ctx();
    cr_assert_not_null(ctx);
    tls_store_ref(s);  /* the one the ctx takes over */
    cr_assert_eq(tls_store_attach(s, ctx), 0, "attach: %s",
                 ERR_reason_error_string(ERR_peek_error()));
    return ctx;
}

/* The CN of the certificate a client with these options receives ("" when
 * the handshake fails). */
static const char *served(SSL_CTX *ctx, const struct tlsfx_client *o, char *buf, size_t len)
{
    X509 *peer = tlsfx_handshake(ctx, o);
    tlsfx_cn(peer, buf, len);
    X509_free(peer);
    return buf;
}

#define SERVED(ctx, ...) served((ctx), &(struct tlsfx_client){__VA_ARGS__}, (char[128]){0}, 128)

/* A PEM file: the key, then the text of a certificate changed at `at`. */
static void write_broken_chain(const char *path, EVP_PKEY *key, int certs, int broken, size_t at)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < certs; i++) {
        X509 *x = tlsfx_cert(key, "broken", NULL, now + DAY);
        BIO *b = BIO_new(BIO_s_mem());
        PEM_write_bio_X509(b, x);
        char *text;
        long n = BIO_get_mem_data(b, &text);
        char *copy = strndup(text, (size_t)n);
        if (i == broken)
            memcpy(copy + at, "AAAA", 4);  /* still base64, no longer DER */
        fputs(copy, f);
        free(copy);
        BIO_free(b);
        X509_free(x);
    }
    PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    fclose(f);
}

/* ---- what is refused, with the file's path ------------------------------------------------ */

Test(tls_certs, missing_path_names_it)
{
    char *p = in_dir("nothing.pem");
    load_fails(p, p, "cannot read: No such file or directory");
    free(p);
}

Test(tls_certs, unreadable_file_in_a_directory_names_it)
{
    char *p = in_dir("dangling.pem");
    cr_assert_eq(symlink("/nonexistent/cert.pem", p), 0);
    load_fails(dir, p, "cannot read");
    free(p);
}

Test(tls_certs, file_without_read_permissionnames_it)
{
    if (geteuid() == 0)
        cr_skip_test("root reads any file");
    EVP_PKEY *k = ec_key();
    make("a.pem", k, "a", NULL);
    char *p = in_dir("a.pem");
    chmod(p, 0);
    load_fails(p, p, "cannot read: Permission denied");
    free(p);
    EVP_PKEY_free(k);
}

Test(tls_certs, key_that_does_not_match_names_the_file)
{
    EVP_PKEY *k1 = ec_key(), *k2 = ec_key();
    X509 *x = tlsfx_cert(k1, "a", NULL, now + DAY);
    char *p = in_dir("a.pem");
    cr_assert_eq(tlsfx_write_pem(p, x, k2, 0), 0);
    load_fails(p, p, "the private key does not match the certificate");
    load_fails(dir, p, "does not match");  /* the same file, found in a directory */
    free(p);
    X509_free(x);
    EVP_PKEY_free(k1);
    EVP_PKEY_free(k2);
}

Test(tls_certs, chain_that_does_not_parse_names_the_file)
{
    EVP_PKEY *k = ec_key();
    char *p = in_dir("a.pem");
    write_broken_chain(p, k, 1, 0, 40);
    load_fails(p, p, "certificate 1 of 1 does not parse");
    write_broken_chain(p, k, 2, 1, 40);
    load_fails(p, p, "certificate 2 of 2 does not parse");
    free(p);
    EVP_PKEY_free(k);
}

Test(tls_certs, file_without_key_or_certificate_or_with_two_keys)
{
    EVP_PKEY *k = ec_key();
    X509 *x = tlsfx_cert(k, "a", NULL, now + DAY);
    char *p = in_dir("a.pem");

    cr_assert_eq(tlsfx_write_cert(p, x), 0);
    load_fails(p, p, "no private key");
    cr_assert_eq(tlsfx_write_key(p, k), 0);
    load_fails(p, p, "no certificate");
    FILE *f = fopen(p, "a");
    PEM_write_X509(f, x);
    PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    load_fails(p, p, "2 private keys");
    free(p);
    X509_free(x);
    EVP_PKEY_free(k);
}

Test(tls_certs, encrypted_key_is_refused_without_asking)
{
    EVP_PKEY *k = ec_key();
    X509 *x = tlsfx_cert(k, "a", NULL, now + DAY);
    char *p = in_dir("a.pem");
    FILE *f = fopen(p, "w");
    PEM_write_X509(f, x);
    PEM_write_PKCS8PrivateKey(f, k, EVP_aes_128_cbc(), NULL, 0, NULL, (void *)"secret");
    fclose(f);
    load_fails(p, p, "encrypted");
    free(p);
    X509_free(x);
    EVP_PKEY_free(k);
}

Test(tls_certs, crt_without_its_key_names_the_crt)
{
    EVP_PKEY *k = ec_key();
    X509 *x = tlsfx_cert(k, "site", NULL, now + DAY);
    char *p = in_dir("site.crt");
    cr_assert_eq(tlsfx_write_cert(p, x), 0);
    load_fails(dir, p, "no private key: site.key is missing");
    free(p);
    X509_free(x);
    EVP_PKEY_free(k);
}

Test(tls_certs, empty_directory_or_one_without_certificates)
{
    load_fails(dir, dir, "no certificate in this directory");
    const char *skipped[] = {"README", ".hidden.pem", "site.key"};  /* a .key alone is no pair */
    for (size_t i = 0; i < 3; i++) {
        char *p = in_dir(skipped[i]);
        FILE *f = fopen(p, "w");
        fputs("not a certificate\n", f);
        fclose(f);
        free(p);
    }
    char *sub = in_dir("sub.pem");
    cr_assert_eq(mkdir(sub, 0700), 0);  /* a directory, whatever its name */
    free(sub);
    load_fails(dir, dir, "no certificate in this directory");
}

/* ---- what loads ----------------------------------------------------------------------------- */

Test(tls_certs, chain_and_key_in_either_order_and_the_chain_is_sent)
{
    EVP_PKEY *k = ec_key(), *ca = ec_key();
    X509 *leaf = tlsfx_cert(k, "leaf", (const char *[]){"a.test", NULL}, now + DAY);
    X509 *inter = tlsfx_cert(ca, "intermediate", NULL, now + DAY);
    char *p1 = in_dir("1.pem"), *p2 = in_dir("2.pem");
    FILE *f = fopen(p1, "w");  /* chain then key */
    PEM_write_X509(f, leaf);
    PEM_write_X509(f, inter);
    PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    f = fopen(p2, "w");        /* key then chain */
    PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
    PEM_write_X509(f, leaf);
    PEM_write_X509(f, inter);
    fclose(f);

    char *paths[] = {p1, p2};
    for (int i = 0; i < 2; i++) {
        struct tls_store *s = load_ok(paths[i]);
        cr_assert_eq(tls_store_count(s), 1);
        SSL_CTX *ctx = server_for(s);
        tls_store_free(s);
        int chain = 0;
        X509 *peer = tlsfx_handshake_chain(ctx, &(struct tlsfx_client){.sni = "a.test"}, &chain);
        cr_assert_not_null(peer, "handshake with %s", paths[i]);
        cr_assert_eq(chain, 2, "leaf and intermediate sent");
        X509_free(peer);
        SSL_CTX_free(ctx);
    }
    free(p1);
    free(p2);
    X509_free(leaf);
    X509_free(inter);
    EVP_PKEY_free(k);
    EVP_PKEY_free(ca);
}

Test(tls_certs, crt_and_key_pair_loads_under_the_crt_path)
{
    EVP_PKEY *k = ec_key();
    X509 *x = tlsfx_cert(k, "site", (const char *[]){"site.test", NULL}, now + DAY);
    char *crt = in_dir("site.crt"), *key = in_dir("site.key");
    cr_assert_eq(tlsfx_write_cert(crt, x), 0);
    cr_assert_eq(tlsfx_write_key(key, k), 0);
    struct tls_store *s = load_ok(dir);
    cr_assert_eq(tls_store_count(s), 1);
    cr_assert_str_eq(tls_store_info(s, 0)->path, crt);
    SSL_CTX *ctx = server_for(s);
    cr_assert_str_eq(SERVED(ctx, .sni = "site.test"), "site");
    SSL_CTX_free(ctx);
    tls_store_free(s);
    free(crt);
    free(key);
    X509_free(x);
    EVP_PKEY_free(k);
}

Test(tls_certs, info_has_path_names_key_type_and_not_after)
{
    EVP_PKEY *ec = ec_key(), *rsa = rsa_key();
    X509 *x = tlsfx_cert(ec, "ignored-cn", (const char *[]){"WWW.Example.COM", "example.com", NULL},
                         now + 30 * DAY);
    char *p = in_dir("a.pem");
    cr_assert_eq(tlsfx_write_pem(p, x, ec, 1), 0);
    make("b.pem", rsa, "Only.CN.test", NULL);

    struct tls_store *s = load_ok(dir);
    cr_assert_eq(tls_store_count(s), 2);
    const struct tls_cert_info *a = tls_store_info(s, 0), *b = tls_store_info(s, 1);
    cr_assert_str_eq(a->path, p);
    cr_assert_eq(a->nnames, 2, "the SANs, not the CN");
    cr_assert_str_eq(a->names[0], "www.example.com");
    cr_assert_str_eq(a->names[1], "example.com");
    cr_assert_str_eq(a->key_type, "ECDSA P-256");
    cr_assert_eq(a->not_after, now + 30 * DAY);
    cr_assert(a->is_default, "the first file in name order");
    cr_assert_eq(b->nnames, 1, "no SAN: the CN");
    cr_assert_str_eq(b->names[0], "only.cn.test");
    cr_assert_str_eq(b->key_type, "RSA 2048");
    cr_assert_not(b->is_default);
    cr_assert_null(tls_store_info(s, 2));
    tls_store_free(s);
    free(p);
    X509_free(x);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(rsa);
}

/* ---- choosing by SNI ------------------------------------------------------------------------ */

Test(tls_certs, sannames_are_served_and_the_cn_is_not_when_there_is_a_san)
{
    EVP_PKEY *k = ec_key();
    make("0-default.pem", k, "default", (const char *[]){"default.test", NULL});
    make("a.pem", k, "cn-only.test", (const char *[]){"san.test", NULL});
    make("b.pem", k, "b.test", NULL);
    struct tls_store *s = load_ok(dir);
    SSL_CTX *ctx = server_for(s);
    tls_store_free(s);

    cr_assert_str_eq(SERVED(ctx, .sni = "san.test"), "cn-only.test");
    cr_assert_str_eq(SERVED(ctx, .sni = "cn-only.test"), "default", "a CN beside a SAN is no name");
    cr_assert_str_eq(SERVED(ctx, .sni = "b.test"), "b.test", "no SAN: the CN is the name");
    cr_assert_str_eq(SERVED(ctx, .sni = "SAN.Test"), "cn-only.test", "names are case-insensitive");
    SSL_CTX_free(ctx);
    EVP_PKEY_free(k);
}

Test(tls_certs, exact_name_before_wildcard_and_a_wildcard_covers_one_label)
{
    EVP_PKEY *k = ec_key();
    make("a-default.pem", k, "default", (const char *[]){"other.test", NULL});
    make("b-wild.pem", k, "wild", (const char *[]){"*.example.com", NULL});
    make("c-exact.pem", k, "exact", (const char *[]){"www.example.com", NULL});
    struct tls_store *s = load_ok(dir);
    SSL_CTX *ctx = server_for(s);

    cr_assert_str_eq(SERVED(ctx, .sni = "www.example.com"), "exact");
    cr_assert_str_eq(SERVED(ctx, .sni = "api.example.com"), "wild");
    cr_assert_str_eq(SERVED(ctx, .sni = "a.b.example.com"), "default", "two labels");
    cr_assert_str_eq(SERVED(ctx, .sni = "example.com"), "default", "no label");
    cr_assert_str_eq(SERVED(ctx, .sni = "unknown.test"), "default");
    cr_assert_str_eq(SERVED(ctx, .sni = NULL), "default");
    /* tls_store_select says the same without a handshake */
    cr_assert_str_eq(tls_store_select(s, "API.example.com", 0)->names[0], "*.example.com");
    cr_assert_str_eq(tls_store_select(s, "www.example.com.", 0)->names[0], "www.example.com");
    cr_assert_str_eq(tls_store_select(s, "x.y.example.com", 0)->names[0], "other.test");
    cr_assert_str_eq(tls_store_select(s, NULL, 0)->names[0], "other.test");
    cr_assert_str_eq(tls_store_select(s, "\x01x.example.com", 0)->names[0], "other.test",
                     "a name with a control byte is no DNS name: the default");
    cr_assert_str_eq(SERVED(ctx, .sni = "\x01x.example.com"), "default");
    tls_store_free(s);
    SSL_CTX_free(ctx);
    EVP_PKEY_free(k);
}

Test(tls_certs, default_pem_before_the_first_file_in_name_order)
{
    EVP_PKEY *k = ec_key();
    make("b.pem", k, "b", (const char *[]){"b.test", NULL});
    make("default.pem", k, "default", (const char *[]){"d.test", NULL});
    make("a.pem", k, "a", (const char *[]){"a.test", NULL});
    struct tls_store *s = load_ok(dir);
    SSL_CTX *ctx = server_for(s);
    cr_assert_str_eq(SERVED(ctx, .sni = NULL), "default");
    cr_assert_str_eq(SERVED(ctx, .sni = "nomatch.test"), "default");
    cr_assert_str_eq(SERVED(ctx, .sni = "b.test"), "b");
    SSL_CTX_free(ctx);
    tls_store_free(s);

    char *p = in_dir("default.pem");
    unlink(p);
    free(p);
    s = load_ok(dir);
    ctx = server_for(s);
    tls_store_free(s);
    cr_assert_str_eq(SERVED(ctx, .sni = NULL), "a", "the first file in name order");
    cr_assert_str_eq(SERVED(ctx, .sni = "nomatch.test"), "a");
    SSL_CTX_free(ctx);
    EVP_PKEY_free(k);
}

Test(tls_certs, default_crt_counts_as_the_default)
{
    EVP_PKEY *k = ec_key();
    make("a.pem", k, "a", (const char *[]){"a.test", NULL});
    X509 *x = tlsfx_cert(k, "default", NULL, now + DAY);
    char *crt = in_dir("default.crt"), *key = in_dir("default.key");
    tlsfx_write_cert(crt, x);
    tlsfx_write_key(key, k);
    struct tls_store *s = load_ok(dir);
    cr_assert_str_eq(tls_store_select(s, NULL, 1)->path, crt);
    tls_store_free(s);
    free(crt);
    free(key);
    X509_free(x);
    EVP_PKEY_free(k);
}

Test(tls_certs, the_first_file_keeps_a_name_claimed_twice_with_the_same_key_type)
{
    EVP_PKEY *k = ec_key();
    make("a.pem", k, "a", (const char *[]){"a.test", NULL});
    make("b.pem", k, "b", (const char *[]){"b.test", "shared.test", NULL});
    make("c.pem", k, "c", (const char *[]){"shared.test", "c.test", NULL});
    struct tls_store *s = load_ok(dir);
    SSL_CTX *ctx = server_for(s);
    tls_store_free(s);
    cr_assert_str_eq(SERVED(ctx, .sni = "shared.test"), "b");
    cr_assert_str_eq(SERVED(ctx, .sni = "c.test"), "c");
    SSL_CTX_free(ctx);
    EVP_PKEY_free(k);
}

Test(tls_certs, the_choice_holds_after_a_hello_retry_request)
{
    EVP_PKEY *k = ec_key();
    make("a.pem", k, "a", (const char *[]){"a.test", NULL});
    make("b.pem", k, "b", (const char *[]){"b.test", NULL});
    struct tls_store *s = load_ok(dir);
    SSL_CTX *ctx = server_for(s);
    tls_store_free(s);
    /* the client's key share (P-256, its first group) is not the server's
     * group: the server asks again and sees a second ClientHello */
    cr_assert(SSL_CTX_set1_groups_list(ctx, "X25519"));
    cr_assert_str_eq(SERVED(ctx, .sni = "b.test", .groups = "P-256:X25519"), "b");
    cr_assert_str_eq(SERVED(ctx, .sni = "b.test", .groups = "P-256"), "", "no common group");
    SSL_CTX_free(ctx);
    EVP_PKEY_free(k);
}

/* ---- RSA and ECDSA for the same names ------------------------------------------------------- */

struct dual {
    SSL_CTX *ctx;
    struct tls_store *s;
};

/* "ec.test"/"*.dual.test" served by an ECDSA P-256 and an RSA certificate. */
static struct dual dual_setup(const char *ec_curve)
{
    EVP_PKEY *ec = tlsfx_key_ec(ec_curve), *rsa = rsa_key();
    const char *names[] = {"dual.test", "*.dual.test", NULL};
    cr_assert_not_null(ec);
    make("dual-ecdsa.pem", ec, "ecdsa", names);
    make("dual-rsa.pem", rsa, "rsa", names);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(rsa);
    struct dual d;
    d.s = load_ok(dir);
    d.ctx = server_for(d.s);
    return d;
}

static void dual_free(struct dual d)
{
    SSL_CTX_free(d.ctx);
    tls_store_free(d.s);
}

Test(tls_certs, ecdsa_for_clients_that_offer_it_rsa_for_the_others)
{
    struct dual d = dual_setup("P-256");
    cr_assert_eq(tls_store_count(d.s), 2);
    /* TLS 1.3 */
    cr_assert_str_eq(SERVED(d.ctx, .sni = "dual.test"), "ecdsa", "OpenSSL's defaults offer ECDSA");
    cr_assert_str_eq(SERVED(d.ctx, .sni = "dual.test", .sigalgs = "ECDSA+SHA256:RSA-PSS+SHA256"),
                     "ecdsa");
    cr_assert_str_eq(SERVED(d.ctx, .sni = "dual.test", .sigalgs = "RSA-PSS+SHA256:ECDSA+SHA256"),
                     "ecdsa", "offered, even after RSA");
    cr_assert_str_eq(SERVED(d.ctx, .sni = "dual.test", .sigalgs = "RSA-PSS+SHA256:RSA+SHA256"),
                     "rsa");
    cr_assert_str_eq(SERVED(d.ctx, .sni = "www.dual.test", .sigalgs = "RSA-PSS+SHA256"), "rsa",
                     "the same through the wildcard");
    cr_assert_str_eq(SERVED(d.ctx, .sni = "www.dual.test", .sigalgs = "ECDSA+SHA256"), "ecdsa");
    /* no SNI: the default has both as well */
    cr_assert_str_eq(SERVED(d.ctx, .sigalgs = "RSA-PSS+SHA256"), "rsa");
    cr_assert_str_eq(SERVED(d.ctx, .sigalgs = "ECDSA+SHA256"), "ecdsa");
    dual_free(d);
}

Test(tls_certs, tls12_ecdsa_needs_an_ecdsa_suite_too)
{
    struct dual d = dual_setup("P-256");
    cr_assert_str_eq(SERVED(d.ctx, .sni = "dual.test", .max_version = TLS1_2_VERSION,
                            .ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"),
                     "ecdsa");
    cr_assert_str_eq(SERVED(d.ctx, .sni = "dual.test", .max_version = TLS1_2_VERSION,
                            .ciphers = "ECDHE-RSA-AES128-GCM-SHA256"),
                     "rsa", "ECDSA signatures offered, but no suite for them");
    cr_assert_str_eq(SERVED(d.ctx, .sni = "dual.test", .max_version = TLS1_2_VERSION,
                            .sigalgs = "RSA+SHA256"),
                     "rsa");
    dual_free(d);
}

Test(tls_certs, tls12_ecdsa_needs_a_suite_the_listener_allows)
{
    struct dual d = dual_setup("P-256");
    cr_assert(SSL_CTX_set_cipher_list(d.ctx, "ECDHE-RSA-AES128-GCM-SHA256"));
    cr_assert_str_eq(SERVED(d.ctx, .sni = "dual.test", .max_version = TLS1_2_VERSION,
                            .ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"),
                     "rsa", "the client's ECDSA suite is not one the listener speaks");
    cr_assert_str_eq(SERVED(d.ctx, .sni = "dual.test"), "ecdsa", "TLS 1.3 suites take any key");
    dual_free(d);
}

Test(tls_certs, ecdsa_curve_the_client_cannot_sign_with_falls_back_to_rsa)
{
    struct dual d = dual_setup("P-384");
    cr_assert_str_eq(tls_store_info(d.s, 0)->key_type, "ECDSA P-384");
    /* TLS 1.3: ECDSA+SHA256 is ecdsa_secp256r1_sha256, no use for a P-384 key */
    cr_assert_str_eq(SERVED(d.ctx, .sni = "dual.test", .sigalgs = "ECDSA+SHA256:RSA-PSS+SHA256"),
                     "rsa");
    cr_assert_str_eq(SERVED(d.ctx, .sni = "dual.test", .sigalgs = "ECDSA+SHA384:RSA-PSS+SHA256"),
                     "ecdsa");
    dual_free(d);
}

Test(tls_certs, select_without_handshake_follows_the_capability)
{
    struct dual d = dual_setup("P-256");
    cr_assert_str_eq(tls_store_select(d.s, "dual.test", 1)->key_type, "ECDSA P-256");
    cr_assert_str_eq(tls_store_select(d.s, "dual.test", 0)->key_type, "RSA 2048");
    cr_assert(tls_store_info(d.s, 0)->is_default && tls_store_info(d.s, 1)->is_default,
              "the default's name has both keys: both are the default");
    dual_free(d);
}

/* ---- the store on a ctx ------------------------------------------------------------------------- */

Test(tls_certs, the_ctx_owns_the_store_it_was_given)
{
    EVP_PKEY *k = ec_key();
    make("a.pem", k, "a", (const char *[]){"a.test", NULL});
    struct tls_store *s = load_ok(dir);
    SSL_CTX *ctx = tlsfx_server_ctx();
    cr_assert_eq(tls_store_attach(s, ctx), 0);  /* the only reference passes to ctx */
    cr_assert_eq(tls_store_of(ctx), s);
    cr_assert_str_eq(SERVED(ctx, .sni = "a.test"), "a");
    /* an SSL made before the ctx goes keeps its certificate (a reload) */
    SSL *ssl = SSL_new(ctx);
    cr_assert_eq(tls_store_attach(s, ctx), -1, "one store per ctx");
    cr_assert_neq(ERR_get_error(), 0, "the reason is on the error queue");
    SSL_CTX_free(ctx);
    cr_assert_not_null(SSL_get_certificate(ssl));
    SSL_free(ssl);  /* frees ctx and store: ASan / valgrind report a leak otherwise */
    EVP_PKEY_free(k);
}

Test(tls_certs, two_contexts_can_share_a_store)
{
    EVP_PKEY *k = ec_key();
    make("a.pem", k, "a", (const char *[]){"a.test", NULL});
    struct tls_store *s = load_ok(dir);
    SSL_CTX *c1 = tlsfx_server_ctx(), *c2 = tlsfx_server_ctx();
    tls_store_ref(s);
    cr_assert_eq(tls_store_attach(s, c1), 0);
    cr_assert_eq(tls_store_attach(s, c2), 0);
    SSL_CTX_free(c1);
    cr_assert_str_eq(SERVED(c2, .sni = "a.test"), "a", "c1 released its reference only");
    SSL_CTX_free(c2);
    EVP_PKEY_free(k);
}

Test(tls_certs, attach_refuses_a_key_too_weak_for_the_security_level)
{
    EVP_PKEY *ec = ec_key(), *rsa = rsa_key();
    make("a.pem", ec, "a", NULL);
    make("b.pem", rsa, "b", NULL);
    struct tls_store *s = load_ok(dir);
    SSL_CTX *ctx = tlsfx_server_ctx();
    SSL_CTX_set_security_level(ctx, 3);  /* 128 bits: RSA 2048 is not enough */
    char err[512] = "";
    cr_assert_eq(tls_store_check(s, ctx, err, sizeof err), -1);
    char *p = in_dir("b.pem");
    cr_assert(strncmp(err, p, strlen(p)) == 0, "names b.pem: %s", err);
    cr_assert_not_null(strstr(err, "key too small"), "%s", err);
    free(p);
    cr_assert_eq(tls_store_attach(s, ctx), -1);
    cr_assert_eq(ERR_GET_REASON(ERR_get_error()), SSL_R_EE_KEY_TOO_SMALL);
    SSL_CTX_free(ctx);
    tls_store_free(s);  /* a failed attach left it to the caller */

    ctx = tlsfx_server_ctx();  /* at the default level both pass */
    cr_assert_eq(tls_store_check(s = load_ok(dir), ctx, err, sizeof err), 0, "%s", err);
    tls_store_free(s);
    SSL_CTX_free(ctx);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(rsa);
}

/* ---- expiry ------------------------------------------------------------------------------------- */

struct seen {
    char path[8][256];
    int days[8], expired[8], n;
};

static void record(void *arg, const struct tls_cert_info *ci, int days_left, int expired)
{
    struct seen *w = arg;
    cr_assert_lt(w->n, 8);
    snprintf(w->path[w->n], sizeof w->path[0], "%s", strrchr(ci->path, '/') + 1);
    w->days[w->n] = days_left;
    w->expired[w->n++] = expired;
}

Test(tls_certs, expiry_emits_certificates_within_14_days_and_expired_ones)
{
    EVP_PKEY *k = ec_key();
    struct { const char *file; long after; } certs[] = {
        {"a-fine.pem", 30 * DAY}, {"b-edge.pem", 15 * DAY}, {"c-soon.pem", 10 * DAY + 3600},
        {"d-today.pem", 3600}, {"e-gone.pem", -2 * DAY - 60},
    };
    for (size_t i = 0; i < sizeof certs / sizeof certs[0]; i++)
        cr_assert_eq(tlsfx_make_pem(dir, certs[i].file, k, "x", NULL, now + certs[i].after), 0);
    struct tls_store *s = load_ok(dir);
    struct seen w = {.n = 0};
    tls_store_check_expiry(s, now, record, &w);
    cr_assert_eq(w.n, 3);
    cr_assert_str_eq(w.path[0], "c-soon.pem");
    cr_assert_eq(w.days[0], 10);
    cr_assert_eq(w.expired[0], 0);
    cr_assert_str_eq(w.path[1], "d-today.pem");
    cr_assert_eq(w.days[1], 0);
    cr_assert_eq(w.expired[1], 0);
    cr_assert_str_eq(w.path[2], "e-gone.pem");
    cr_assert_eq(w.days[2], -3, "two days and a minute ago: the third day after");
    cr_assert_eq(w.expired[2], 1);
    /* a day later the 15-day one is within 14 days */
    w.n = 0;
    tls_store_check_expiry(s, now + DAY + 1, record, &w);
    cr_assert_eq(w.n, 4);
    cr_assert_str_eq(w.path[0], "b-edge.pem");
    cr_assert_eq(w.days[0], 13);
    tls_store_free(s);
    EVP_PKEY_free(k);
}

Test(tls_certs, days_left_rounds_down)
{
    struct tls_cert_info ci = {.not_after = 1000000};
    cr_assert_eq(tls_cert_days_left(&ci, 1000000 - DAY), 1);
    cr_assert_eq(tls_cert_days_left(&ci, 1000000 - DAY + 1), 0);
    cr_assert_eq(tls_cert_days_left(&ci, 1000000), 0);
    cr_assert_eq(tls_cert_days_left(&ci, 1000001), -1);
    cr_assert_eq(tls_cert_days_left(&ci, 1000000 + DAY), -1);
    cr_assert_eq(tls_cert_days_left(&ci, 1000000 + DAY + 1), -2);
}

/* ---- many certificates ---------------------------------------------------------------------- */

Test(tls_certs, two_thousand_certificates_load_and_each_is_found)
{
    enum { N = 2000 };
    EVP_PKEY *k = ec_key();  /* one key for all: the test is about the store, not keygen */
    for (int i = 0; i < N; i++) {
        char file[32], name[32];
        snprintf(file, sizeof file, "site%04d.pem", i);
        snprintf(name, sizeof name, "site%d.test", i);
        cr_assert_eq(tlsfx_make_pem(dir, file, k, name, (const char *[]){name, NULL}, now + DAY), 0);
    }
    struct tls_store *s = load_ok(dir);
    cr_assert_eq(tls_store_count(s), N);
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof name, "site%d.test", i);
        cr_assert_str_eq(tls_store_select(s, name, 1)->names[0], name);
    }
    SSL_CTX *ctx = server_for(s);
    tls_store_free(s);
    cr_assert_str_eq(SERVED(ctx, .sni = "site1999.test"), "site1999.test");
    SSL_CTX_free(ctx);
    EVP_PKEY_free(k);
}
