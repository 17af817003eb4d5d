/*
 * sticky_txn: a request's sticky cookie, in and out (see sticky_txn.h).
 */
#include "sticky_txn.h"

#include <openssl/crypto.h>
#include <string.h>

#include "sticky.h"
#include "sticky_cookie.h"
#include "txn.h"

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

void sticky_request(struct txn *t, char *buf, size_t *buf_len, struct http_head *h)
{
    const char *name = t->pool->cfg->sticky_cookie;
    char found[STICKY_ID_LEN + 1];
    int present;

    if (!name[0])
        return;
    *buf_len = sticky_head_strip(buf, *buf_len, h, name, found, sizeof found, &present);
    t->sticky_seen = (uint8_t)present;
    t->sticky_srv = present ? sticky_pool_lookup(t->pool, found, strlen(found)) : NULL;
    if (t->sticky_srv)
        memcpy(t->sticky_id, found, sizeof t->sticky_id);
}

size_t sticky_response(struct txn *t, char *out, size_t len, size_t cap)
{
    const struct config_pool *pc = t->pool->cfg;
    char line[64 + CONFIG_NAME_MAX + STICKY_ID_LEN + 40];

    if (len < 2 || !pc->sticky_cookie[0] || !t->srv)
        return len;
    const char *id = sticky_pool_id(t->pool, t->srv);
    if (!id)
        return len;
    /* Its cookie already names the server that answered: nothing to set,
     * whichever way the request got there. */
    if (t->sticky_id[0] && memcmp(t->sticky_id, id, STICKY_ID_LEN) == 0) {
        atomic_fetch_add_explicit(&t->pool->shared->sticky_hits, 1, memory_order_relaxed);
        return len;
    }
    size_t n = sticky_set_cookie(line, sizeof line, pc->sticky_cookie, id, pc->sticky_max_age_ms / 1000,
                                 txn_client_is_tls(t));
    if (n == 0 || len + n > cap)
        return 0;
    /* Before the blank line that ends the head. */
    memcpy(out + len - 2, line, n);
    memcpy(out + len - 2 + n, "\r\n", 2);
    if (t->sticky_seen)
        atomic_fetch_add_explicit(&t->pool->shared->sticky_resticks, 1, memory_order_relaxed);
    return len + n;
}
