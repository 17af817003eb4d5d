/*
 * admit: who the client is and the per-client limits (see admit.h).
 */
#include "admit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

struct admit_counters admit_counters;

static struct client_table *_Atomic table;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;
static unsigned table_size; /* `limit clients` of the generation that made it */

static void table_make(void)
{
    uint64_t seed;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed)
        seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
    struct client_table *ct = client_table_new(table_size, ADMIT_SHARDS, seed);
    atomic_store_explicit(&table, ct, memory_order_release);
    if (!ct)
        log_warnx("out of memory for the client table: per-client limits are off");
}

struct client_table *admit_table(const struct config *cfg)
{
    /* Read by table_make, under the once: the first caller's size wins. */
    static pthread_mutex_t size_lock = PTHREAD_MUTEX_INITIALIZER;
    if (!atomic_load_explicit(&table, memory_order_acquire)) {
        pthread_mutex_lock(&size_lock);
        if (!table_size)
            table_size = cfg->admit.clients ? cfg->admit.clients : 65536;
        pthread_mutex_unlock(&size_lock);
    }
    pthread_once(&table_once, table_make);
    return atomic_load_explicit(&table, memory_order_relaxed);
}

struct client_table *admit_table_peek(void)
{
    return atomic_load_explicit(&table, memory_order_acquire);
}

uint64_t admit_now_ns(void)
{
    return now_ns();
}

/* ---- connections ------------------------------------------------------------------ */

int admit_conn_open(const struct runtime *rt, const void *peer, uint64_t *key)
{
    const struct config_admission *a = rt ? &rt->cfg->admit : NULL;
    struct in6_addr addr;
    struct client_table *ct;

    *key = CLIENT_KEY_NONE;
    if (!a || !a->client_conns || !(ct = admit_table(rt->cfg)))
        return 0;
    client_addr_from_sockaddr(peer, &addr);
    if (cidr_list_contains(a->trust, a->ntrust, &addr) ||
        cidr_list_contains(a->client_ip_from, a->nclient_ip_from, &addr))
        return 0;
    uint64_t k = client_key(&addr);
    if (client_table_conn_open(ct, k, a->client_conns) < 0) {
        atomic_fetch_add_explicit(&admit_counters.limited_conns, 1, memory_order_relaxed);
        return -1;
    }
    *key = k;
    return 0;
}

void admit_conn_close(uint64_t key)
{
    struct client_table *ct = atomic_load_explicit(&table, memory_order_relaxed);
    if (key != CLIENT_KEY_NONE && ct)
        client_table_conn_close(ct, key);
}

int admit_conn_repeer(const struct runtime *rt, const void *peer, uint64_t *key)
{
    admit_conn_close(*key);
    return admit_conn_open(rt, peer, key);
}

/* ---- requests ------------------------------------------------------------------------ */

int admit_client_of(const struct config *cfg, const struct in6_addr *peer, const char *buf,
                    const struct http_head *h, struct in6_addr *client)
{
    const struct config_admission *a = &cfg->admit;
    const struct http_field *last = NULL;

    *client = *peer;
    if (!a->client_ip_header[0] || !cidr_list_contains(a->client_ip_from, a->nclient_ip_from, peer))
        return 0;
    size_t name_len = strlen(a->client_ip_header);
    for (uint32_t i = 0; i < h->nfields; i++) {
        const struct http_field *f = &h->fields[i];
        if (f->name_len == name_len && strncasecmp(buf + f->name_off, a->client_ip_header, name_len) == 0)
            last = f;
    }
    /* The last address the nearest proxy (the trusted one) added; anything
     * else leaves the peer as the client. */
    if (!last || client_addr_last_of_list(buf + last->value_off, last->value_len, client) < 0) {
        *client = *peer;
        return 0;
    }
    return 1;
}

uint64_t admit_rate(const struct config *cfg, const struct in6_addr *client, uint64_t now_ns)
{
    const struct config_admission *a = &cfg->admit;
    struct client_table *ct;

    if (!a->rate_interval_ns || cidr_list_contains(a->trust, a->ntrust, client) || !(ct = admit_table(cfg)))
        return 0;
    uint64_t wait = client_table_rate(ct, client_key(client), now_ns, a->rate_interval_ns, a->rate_burst);
    if (wait)
        atomic_fetch_add_explicit(&admit_counters.limited_rate, 1, memory_order_relaxed);
    return wait;
}
