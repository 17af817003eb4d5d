/*
 * make_tls_seeds: writes the hand-made seeds of the fuzz_tls_handshake
 * corpus (files named seed-*; inputs the fuzzer added are named by their
 * SHA-1 and are not touched):
 *
 *   make fuzz-tls-seeds
 *
 * Real ClientHellos, captured from OpenSSL clients through a memory BIO
 * (tls_fixtures.c), with the server names and offers the harness's store
 * tells apart, then cut and broken variants.  Each file starts with the
 * harness's control byte (see fuzz_tls_handshake.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/tls_fixtures.h"

#define ONE_BY_ONE 1    /* control byte: pieces of 1 byte */
#define BY_FIVE 3       /* pieces of 5 bytes */
#define SERVER_TLS12 8  /* the server offers TLS 1.2 at most */

static const char *dir;

static void put(const char *name, unsigned char ctl, const unsigned char *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/seed-%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fputc(ctl, f) == EOF || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static size_t hello(const struct tlsfx_client *o, unsigned char *buf, size_t cap)
{
    size_t n = tlsfx_client_hello(o, buf, cap);
    if (n == 0) {
        fprintf(stderr, "make_tls_seeds: no ClientHello for sni=%s\n", o->sni ? o->sni : "-");
        exit(1);
    }
    return n;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        unsigned char ctl;
        struct tlsfx_client client;
    } hellos[] = {
        {"ch13-exact", 0, {.sni = "example.test"}},
        {"ch13-wildcard", 0, {.sni = "www.example.test"}},
        {"ch13-two-labels", 0, {.sni = "a.b.example.test"}},
        {"ch13-upper-dot", 0, {.sni = "WWW.Example.TEST."}},
        {"ch13-no-sni", 0, {.sni = NULL}},
        {"ch13-unknown", 0, {.sni = "nomatch.test"}},
        {"ch13-rsa-only", 0, {.sni = "example.test", .sigalgs = "RSA-PSS+SHA256:RSA+SHA256"}},
        {"ch13-rsa-first", 0, {.sni = "example.test", .sigalgs = "RSA-PSS+SHA256:ECDSA+SHA256"}},
        {"ch13-p384", 0, {.sni = "p384.test", .sigalgs = "ECDSA+SHA384:RSA-PSS+SHA256"}},
        {"ch13-p384-no-curve", 0, {.sni = "p384.test", .sigalgs = "ECDSA+SHA256"}},
        {"ch13-bytewise", ONE_BY_ONE, {.sni = "www.example.test"}},
        {"ch13-server-tls12", SERVER_TLS12, {.sni = "example.test"}},
        {"ch12-ecdsa", 0,
         {.sni = "a.example.test", .max_version = TLS1_2_VERSION,
          .ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"}},
        {"ch12-rsa-suites", BY_FIVE,
         {.sni = "example.test", .max_version = TLS1_2_VERSION,
          .ciphers = "ECDHE-RSA-AES128-GCM-SHA256"}},
    };
    unsigned char buf[16384];
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    dir = argv[1];
    for (size_t i = 0; i < sizeof hellos / sizeof hellos[0]; i++)
        put(hellos[i].name, hellos[i].ctl, buf, hello(&hellos[i].client, buf, sizeof buf));

    /* cut short: the record header only, half of it, all but the last byte */
    size_t n = hello(&(struct tlsfx_client){.sni = "www.example.test"}, buf, sizeof buf);
    put("cut-header", 0, buf, 5);
    put("cut-half", 0, buf, n / 2);
    put("cut-last-byte", ONE_BY_ONE, buf, n - 1);
    /* a ClientHello with a server_name extension whose lengths lie */
    unsigned char *sni = memmem(buf, n, "www.example.test", 16);
    if (sni && sni - buf >= 5) {
        sni[-1] = 0xff;  /* the name's length */
        put("sni-bad-length", 0, buf, n);
    }
    /* what a plaintext client sends to a TLS port, and noise */
    static const char http[] = "GET / HTTP/1.1\r\nHost: example.test\r\n\r\n";
    put("plaintext-http", 0, (const unsigned char *)http, sizeof http - 1);
    static const unsigned char alert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28};
    put("alert-first", 0, alert, sizeof alert);
    srand(1);
    for (size_t i = 0; i < 300; i++)
        buf[i] = (unsigned char)rand();
    buf[0] = 0x16, buf[1] = 0x03, buf[2] = 0x01;  /* a handshake record of noise */
    put("noise-record", 0, buf, 300);
    return 0;
}
