/*
 * sticky: the sticky cookie's ids, each generation's table of them and
 * the per-request glue (see sticky.h; the Cookie codec is sticky_cookie.c).
 */
#include "sticky.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"

/* ---- ids --------------------------------------------------------------------------------- */

#define STICKY_ID_BYTES 12 /* 96 bits: no collision among a pool's servers, and unguessable */

static void base64url(const unsigned char *in, size_t n, char *out)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;

    /* n is a multiple of 3 here: no padding to think about. */
    for (size_t i = 0; i + 2 < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
        out[o++] = alphabet[v & 63];
    }
    out[o] = '\0';
}

void sticky_id_make(const void *key, size_t key_len, const char *pool, const char *server,
                    char out[STICKY_ID_LEN + 1])
{
    /* A label first, so the same secret used for something else gives
     * other values; names cannot hold a NUL, so the NULs separate them
     * without ambiguity. */
    static const char label[] = "proxy sticky v1";
    char msg[sizeof label + 2 * CONFIG_NAME_MAX];
    size_t lp = strnlen(pool, CONFIG_NAME_MAX - 1), ls = strnlen(server, CONFIG_NAME_MAX - 1);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;

    memcpy(msg, label, sizeof label);
    memcpy(msg + sizeof label, pool, lp);
    msg[sizeof label + lp] = '\0';
    memcpy(msg + sizeof label + lp + 1, server, ls);
    if (!HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, sizeof label + lp + 1 + ls, md,
              &md_len) || md_len < STICKY_ID_BYTES)
        memset(md, 0, sizeof md); /* not reached with OpenSSL's SHA-256; never an uninitialised id */
    base64url(md, STICKY_ID_BYTES, out);
}

/* ---- the key ------------------------------------------------------------------------------ */

/* The per-process key: made once, so reloads keep every cookie valid. */
static unsigned char process_secret[STICKY_SECRET_LEN];
static int process_secret_ok;
static pthread_once_t process_secret_once = PTHREAD_ONCE_INIT;

static void process_secret_make(void)
{
    process_secret_ok = RAND_bytes(process_secret, sizeof process_secret) == 1;
}

const void *sticky_key(const char *configured, size_t *key_len)
{
    if (configured[0]) {
        *key_len = strlen(configured);
        return configured;
    }
    pthread_once(&process_secret_once, process_secret_make);
    if (!process_secret_ok) {
        log_warnx("sticky: no random bytes for the cookie key");
        return NULL;
    }
    *key_len = sizeof process_secret;
    return process_secret;
}
