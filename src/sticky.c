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

#include "log.h"
#include "sticky_cookie.h"

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

/* ---- a pool's ids ------------------------------------------------------------------------- */

/* The per-process key: made once, so reloads keep every cookie valid. */
static unsigned char process_secret[STICKY_SECRET_LEN];
static int process_secret_ok;
static pthread_once_t process_secret_once = PTHREAD_ONCE_INIT;

static void process_secret_make(void)
{
    process_secret_ok = RAND_bytes(process_secret, sizeof process_secret) == 1;
}

int sticky_pool_init(struct pool *pool, const struct config *cfg)
{
    const void *key = cfg->sticky_secret;
    size_t key_len = strlen(cfg->sticky_secret);

    pool->sticky_ids = NULL;
    if (!pool->cfg->sticky_cookie[0])
        return 0;
    if (key_len == 0) {
        pthread_once(&process_secret_once, process_secret_make);
        if (!process_secret_ok) {
            log_warnx("sticky: no random bytes for the cookie key");
            return -1;
        }
        key = process_secret;
        key_len = sizeof process_secret;
    }
    pool->sticky_ids = malloc((pool->nservers ? pool->nservers : 1) * (STICKY_ID_LEN + 1));
    if (!pool->sticky_ids)
        return -1;
    for (size_t i = 0; i < pool->nservers; i++)
        sticky_id_make(key, key_len, pool->cfg->name, pool->servers[i]->name,
                       pool->sticky_ids + i * (STICKY_ID_LEN + 1));
    return 0;
}

void sticky_pool_free(struct pool *pool)
{
    free(pool->sticky_ids);
    pool->sticky_ids = NULL;
}

struct server *sticky_pool_lookup(const struct pool *pool, const char *value, size_t len)
{
    if (!pool->sticky_ids || len != STICKY_ID_LEN)
        return NULL;
    /* A linear scan of 16-byte compares: pools are tens of servers. */
    for (size_t i = 0; i < pool->nservers; i++)
        if (CRYPTO_memcmp(pool->sticky_ids + i * (STICKY_ID_LEN + 1), value, STICKY_ID_LEN) == 0)
            return pool->servers[i];
    return NULL;
}

const char *sticky_pool_id(const struct pool *pool, const struct server *srv)
{
    for (size_t i = 0; pool->sticky_ids && i < pool->nservers; i++)
        if (pool->servers[i] == srv)
            return pool->sticky_ids + i * (STICKY_ID_LEN + 1);
    return NULL;
}
