/*
 * traffic: the per-request sketches and their once-a-second merge (see
 * traffic.h).  Owns the shared HyperLogLog ring, the seen table, the
 * workers' shards and the main thread's per-second summaries.
 */
#include "traffic.h"

#include <arpa/inet.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "client_addr.h"
#include "config.h"

#define RELAXED memory_order_relaxed
#define SHARD_TOPK 32          /* keys per worker and second: heavy hitters only */
#define WINDOW_TOPK TOPK_MAX
#define HLL_SLOTS 16           /* the 10 s window, the second filling, 3 cleared ahead, spare */
#define HLL_CLEAR_AHEAD 3
#define AGG_SLOTS (TRAFFIC_WINDOW_S + 2)
/* Workers, plus a few other threads (tests). */
#define TRAFFIC_SHARDS (CONFIG_MAX_WORKERS + 8)

struct shard_buf {
    struct topk clients, prefixes, paths;
    uint64_t last_sec; /* +1; 0: nothing counted */
};

/* One worker thread's summaries.  The worker writes buf[have & 1]; the
 * main thread reads and empties the other one only after the worker has
 * said (have == want) that it moved off it. */
struct shard {
    _Alignas(64) atomic_uint want; /* main thread: the buffer the worker is to use */
    atomic_uint have;              /* the worker: the one it uses */
    atomic_int ready;              /* both buffers initialized */
    struct shard_buf buf[2];
};

static struct shard shards[TRAFFIC_SHARDS];
static atomic_uint shards_claimed;
static _Thread_local struct shard *my_shard;
static _Thread_local unsigned my_have;
static _Thread_local int my_shard_tried;

/* Distinct and new clients, one HLL each per second (slot sec % HLL_SLOTS). */
static struct hll hll_all[HLL_SLOTS], hll_new[HLL_SLOTS];
static struct seen_table seen;

/* Main thread only. */
static unsigned char asked[TRAFFIC_SHARDS]; /* a handover is asked for and not yet taken */
static uint64_t hll_tag[HLL_SLOTS]; /* second + 1 the slot was emptied for */
static int hll_started;
struct second_summary {
    uint64_t sec_plus1;
    struct topk clients, prefixes, paths;
};
static struct second_summary agg[AGG_SLOTS];
static struct topk win_clients, win_prefixes, win_paths;
static struct hll scratch;

/* ---- names ------------------------------------------------------------------------------------ */

const char *traffic_shape_name(enum traffic_shape shape)
{
    return shape == TRAFFIC_CONCENTRATED ? "concentrated" : "broad";
}

enum traffic_shape traffic_shape_of(double top_prefix_share, double top_clients_share)
{
    if (top_prefix_share > TRAFFIC_BROAD_PREFIX_MAX || top_clients_share >= TRAFFIC_BROAD_CLIENTS_MAX)
        return TRAFFIC_CONCENTRATED;
    return TRAFFIC_BROAD;
}

size_t traffic_prefix(const char *ip, char *out, size_t cap)
{
    int n;

    if (strchr(ip, ':')) {
        unsigned char a[16];
        char text[INET6_ADDRSTRLEN];
        if (inet_pton(AF_INET6, ip, a) != 1)
            return 0;
        memset(a + 6, 0, 10);
        inet_ntop(AF_INET6, a, text, sizeof text);
        n = snprintf(out, cap, "%s/48", text);
    } else {
        /* "a.b.c.d": the text up to the last dot names the /24. */
        const char *dot = strrchr(ip, '.');
        unsigned dots = 0;
        for (const char *c = ip; *c; c++) {
            if (*c == '.')
                dots++;
            else if (*c < '0' || *c > '9')
                return 0;
        }
        size_t head = dot ? (size_t)(dot - ip) : 0;
        if (dots != 3 || head + sizeof ".0/24" > cap)
            return 0;
        /* Per request: a copy, not a printf. */
        memcpy(out, ip, head);
        memcpy(out + head, ".0/24", sizeof ".0/24");
        return head + sizeof ".0/24" - 1;
    }
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* The path without the query; an absolute-form target without its
 * scheme and authority. */
static size_t path_key(const char **path, size_t len)
{
    const char *p = *path;
    if (len && p[0] != '/') {
        const char *scheme = memmem(p, len, "://", 3);
        if (scheme) {
            const char *slash = memchr(scheme + 3, '/', len - (size_t)(scheme + 3 - p));
            size_t skip = slash ? (size_t)(slash - p) : len;
            p += skip;
            len -= skip;
        }
    }
    const char *q = memchr(p, '?', len);
    *path = p;
    if (q)
        len = (size_t)(q - p);
    if (len == 0) {
        *path = "/";
        len = 1;
    }
    return len;
}

/* ---- the worker side ---------------------------------------------------------------------------- */

static void shard_buf_init(struct shard_buf *b)
{
    topk_init(&b->clients, SHARD_TOPK);
    topk_init(&b->prefixes, SHARD_TOPK);
    topk_init(&b->paths, SHARD_TOPK);
    b->last_sec = 0;
}

/* This thread's buffer, after answering the main thread's switch; NULL
 * when there are more threads than shards (they count in the HLLs only). */
static struct shard_buf *my_buffer(void)
{
    if (!my_shard) {
        if (my_shard_tried)
            return NULL;
        my_shard_tried = 1;
        unsigned i = atomic_fetch_add_explicit(&shards_claimed, 1, RELAXED);
        if (i >= TRAFFIC_SHARDS)
            return NULL;
        my_shard = &shards[i];
        shard_buf_init(&my_shard->buf[0]);
        shard_buf_init(&my_shard->buf[1]);
        my_have = 0;
        atomic_store_explicit(&my_shard->ready, 1, memory_order_release);
    }
    unsigned want = atomic_load_explicit(&my_shard->want, memory_order_acquire);
    if (want != my_have) {
        my_have = want;
        atomic_store_explicit(&my_shard->have, want, memory_order_release);
    }
    return &my_shard->buf[my_have & 1];
}

/* A client as admission counts one (client_addr.h): an IPv4 address, or
 * an IPv6 /64 ("2001:db8:1:2::/64"), since one host may rotate through
 * its /64 (privacy addresses): counted by address, it would look like a
 * crowd of new clients, each with a trickle of requests. */
static const char *client_name(const char *client_ip, size_t *len, char *buf, size_t cap)
{
    struct in6_addr a;
    if (!memchr(client_ip, ':', *len) || inet_pton(AF_INET6, client_ip, &a) != 1)
        return client_ip;
    client_key_format(client_key(&a), buf, cap);
    *len = strlen(buf);
    return buf;
}

void traffic_worker_tick(void)
{
    if (my_shard)
        (void)my_buffer();
}

void traffic_note(const char *client_ip, const char *path, size_t path_len, uint64_t now_ms)
{
    uint64_t sec = now_ms / 1000;
    size_t ip_len = strlen(client_ip);
    char name_buf[INET6_ADDRSTRLEN + 4];

    if (ip_len == 0)
        return;
    const char *name = client_name(client_ip, &ip_len, name_buf, sizeof name_buf);
    uint64_t client = sketch_hash(name, ip_len);
    unsigned slot = (unsigned)(sec % HLL_SLOTS);
    hll_add(&hll_all[slot], client);
    if (!seen_check_and_mark(&seen, client, sec, TRAFFIC_NEW_WINDOW_S))
        hll_add(&hll_new[slot], client);
    rates_note(client, now_ms);

    struct shard_buf *b = my_buffer();
    if (!b)
        return;
    char prefix[64];
    size_t prefix_len = traffic_prefix(client_ip, prefix, sizeof prefix);
    topk_add(&b->clients, name, ip_len, client, 1);
    if (prefix_len)
        topk_add(&b->prefixes, prefix, prefix_len, sketch_hash(prefix, prefix_len), 1);
    if (path) {
        path_len = path_key(&path, path_len);
        topk_add(&b->paths, path, path_len, sketch_hash(path, path_len), 1);
    }
    b->last_sec = sec + 1;
}

/* ---- the main thread ------------------------------------------------------------------------------ */

/* A handed-over buffer joins the summary of the second it was last
 * written in (a buffer spans a second or two: close enough for a 10 s
 * window); one older than the window is dropped. */
static void absorb(const struct shard_buf *b, uint64_t sec)
{
    uint64_t d = b->last_sec - 1;
    if (d + AGG_SLOTS <= sec)
        return;
    struct second_summary *s = &agg[d % AGG_SLOTS];
    if (s->sec_plus1 != d + 1) {
        topk_init(&s->clients, WINDOW_TOPK);
        topk_init(&s->prefixes, WINDOW_TOPK);
        topk_init(&s->paths, WINDOW_TOPK);
        s->sec_plus1 = d + 1;
    }
    topk_merge(&s->clients, &b->clients);
    topk_merge(&s->prefixes, &b->prefixes);
    topk_merge(&s->paths, &b->paths);
}

/* Takes the buffers of the workers that answered the last handover. */
static void take_shards(uint64_t sec)
{
    for (unsigned i = 0; i < TRAFFIC_SHARDS; i++) {
        struct shard *s = &shards[i];
        if (!asked[i] || !atomic_load_explicit(&s->ready, memory_order_acquire))
            continue;
        unsigned want = atomic_load_explicit(&s->want, RELAXED);
        /* A worker that has not answered (idle) keeps its buffer. */
        if (atomic_load_explicit(&s->have, memory_order_acquire) != want)
            continue;
        struct shard_buf *b = &s->buf[(want + 1) & 1];
        if (b->last_sec)
            absorb(b, sec);
        shard_buf_init(b);
        asked[i] = 0;
    }
}

void traffic_handover(void)
{
    for (unsigned i = 0; i < TRAFFIC_SHARDS; i++) {
        struct shard *s = &shards[i];
        if (asked[i] || !atomic_load_explicit(&s->ready, memory_order_acquire))
            continue;
        unsigned want = atomic_load_explicit(&s->want, RELAXED);
        atomic_store_explicit(&s->want, want + 1, memory_order_release);
        asked[i] = 1;
    }
}

/* Empties the HLL slots of the next seconds before workers reach them. */
static void clear_ahead(uint64_t sec)
{
    if (!hll_started) {
        /* Zeroed at start: the slots of the window are valid as they are. */
        for (uint64_t s = sec > TRAFFIC_WINDOW_S ? sec - TRAFFIC_WINDOW_S : 0; s <= sec; s++)
            hll_tag[s % HLL_SLOTS] = s + 1;
        hll_started = 1;
    }
    for (uint64_t s = sec + 1; s <= sec + HLL_CLEAR_AHEAD; s++) {
        unsigned slot = (unsigned)(s % HLL_SLOTS);
        if (hll_tag[slot] == s + 1)
            continue;
        hll_clear(&hll_all[slot]);
        hll_clear(&hll_new[slot]);
        hll_tag[slot] = s + 1;
    }
}

/* Distinct clients of ring over the whole seconds of the window. */
static double window_distinct(struct hll *ring, uint64_t sec)
{
    hll_clear(&scratch);
    for (uint64_t s = sec > TRAFFIC_WINDOW_S ? sec - TRAFFIC_WINDOW_S : 0; s < sec; s++)
        if (hll_tag[s % HLL_SLOTS] == s + 1)
            hll_merge(&scratch, &ring[s % HLL_SLOTS]);
    return hll_estimate(&scratch);
}

static unsigned copy_top(const struct topk *t, struct traffic_top *out, unsigned max)
{
    struct topk_item items[TRAFFIC_TOP_CLIENTS];
    unsigned n = topk_top(t, items, max < TRAFFIC_TOP_CLIENTS ? max : TRAFFIC_TOP_CLIENTS);
    for (unsigned i = 0; i < n; i++) {
        snprintf(out[i].key, sizeof out[i].key, "%s", items[i].key);
        out[i].count = items[i].count;
        out[i].share = items[i].share;
    }
    return n;
}

void traffic_tick(uint64_t now_ms, struct traffic_view *out)
{
    uint64_t sec = now_ms / 1000;

    clear_ahead(sec);
    take_shards(sec);

    topk_init(&win_clients, WINDOW_TOPK);
    topk_init(&win_prefixes, WINDOW_TOPK);
    topk_init(&win_paths, WINDOW_TOPK);
    for (unsigned i = 0; i < AGG_SLOTS; i++) {
        const struct second_summary *s = &agg[i];
        if (!s->sec_plus1 || s->sec_plus1 - 1 + AGG_SLOTS <= sec)
            continue;
        topk_merge(&win_clients, &s->clients);
        topk_merge(&win_prefixes, &s->prefixes);
        topk_merge(&win_paths, &s->paths);
    }
    memset(out, 0, sizeof *out);
    out->requests = win_clients.total;
    out->nclients = copy_top(&win_clients, out->clients, TRAFFIC_TOP_CLIENTS);
    out->nprefixes = copy_top(&win_prefixes, out->prefixes, TRAFFIC_TOP);
    out->npaths = copy_top(&win_paths, out->paths, TRAFFIC_TOP);
    out->top_prefix_share = out->nprefixes ? out->prefixes[0].share : 0.0;
    for (unsigned i = 0; i < out->nclients; i++)
        out->top_clients_share += out->clients[i].share;
    out->shape = traffic_shape_of(out->top_prefix_share, out->top_clients_share);

    out->distinct = window_distinct(hll_all, sec);
    double fresh = window_distinct(hll_new, sec);
    out->new_share = out->distinct > 0 ? (fresh < out->distinct ? fresh / out->distinct : 1.0) : 0.0;
    rates_tick(now_ms, &out->rates);
}

void traffic_reset(void)
{
    memset(shards, 0, sizeof shards);
    memset(asked, 0, sizeof asked);
    atomic_store(&shards_claimed, 0);
    my_shard = NULL;
    my_shard_tried = 0;
    for (unsigned i = 0; i < HLL_SLOTS; i++) {
        hll_clear(&hll_all[i]);
        hll_clear(&hll_new[i]);
        hll_tag[i] = 0;
    }
    memset(&seen, 0, sizeof seen);
    memset(agg, 0, sizeof agg);
    hll_started = 0;
    rates_reset();
}
