/*
 * The traffic's anatomy (traffic_sketch.c, traffic.c): the distinct-count
 * error of the HyperLogLog from 1e2 to 1e6 clients, heavy hitters against
 * exact counts, the seen table, prefixes, and the shape of a campaign-like
 * and a flood-like mix fed through traffic_note/traffic_tick with a fake
 * clock.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "traffic.h"

static void client_name(unsigned i, char *out, size_t cap)
{
    snprintf(out, cap, "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
}

Test(traffic_sketch, hll_within_two_percent_from_1e2_to_1e6)
{
    static struct hll h;
    static const unsigned sizes[] = { 100, 1000, 5000, 20000, 50000, 100000, 300000, 1000000 };
    hll_clear(&h);
    cr_assert_float_eq(hll_estimate(&h), 0.0, 1e-9);
    unsigned added = 0;
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        char name[32];
        for (; added < sizes[k]; added++) {
            client_name(added, name, sizeof name);
            uint64_t hash = sketch_hash(name, strlen(name));
            hll_add(&h, hash);
            hll_add(&h, hash); /* a client's second request changes nothing */
        }
        double est = hll_estimate(&h);
        double err = fabs(est - sizes[k]) / sizes[k];
        cr_log_info("%u clients: %.0f (%.2f%%)", sizes[k], est, err * 100);
        cr_assert_lt(err, 0.02, "%u clients estimated %.0f", sizes[k], est);
    }
}

/* Anonymous memory resident in this process, KiB. */
static long rss_anon_kib(void)
{
    char line[256];
    long kib = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "RssAnon: %ld", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

/* The per-second ring is cleared ahead of time: clearing HLLs nobody
 * wrote must not make their pages resident (it made 512 KiB so). */
Test(traffic_sketch, clearing_an_unwritten_hll_touches_no_page)
{
    enum { N = 256 }; /* 4 MiB of registers */
    struct hll *ring = mmap(NULL, N * sizeof *ring, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(ring, MAP_FAILED);
    hll_add(&ring[0], sketch_hash("10.0.0.1", 8));
    long before = rss_anon_kib();
    for (unsigned i = 0; i < N; i++)
        hll_clear(&ring[i]);
    long grew = rss_anon_kib() - before;
    cr_assert_lt(grew, 512, "clearing %d unwritten HLLs made %ld KiB resident", N, grew);
    cr_assert_float_eq(hll_estimate(&ring[0]), 0.0, 1e-9, "the written one is cleared");
    munmap(ring, N * sizeof *ring);
}

Test(traffic_sketch, hll_merge_is_the_union)
{
    static struct hll a, b;
    hll_clear(&a);
    hll_clear(&b);
    for (uint64_t i = 0; i < 30000; i++) {
        uint64_t hash = sketch_hash(&i, sizeof i);
        hll_add(i < 20000 ? &a : &b, hash);
        if (i >= 10000 && i < 20000)
            hll_add(&b, hash); /* 10000 in both */
    }
    hll_merge(&a, &b);
    cr_assert_lt(fabs(hll_estimate(&a) - 30000) / 30000, 0.02);
}

Test(traffic_sketch, seen_table)
{
    static struct seen_table t;
    uint64_t h = sketch_hash("192.0.2.1", 9);
    cr_assert_eq(seen_check_and_mark(&t, h, 100000, 1800), 0, "never seen");
    cr_assert_eq(seen_check_and_mark(&t, h, 100003, 1800), 1);
    cr_assert_eq(seen_check_and_mark(&t, h, 100000 + 1790, 1800), 1, "seen 30 minutes ago");
    cr_assert_eq(seen_check_and_mark(&t, h, 100000 + 1790 + 1900, 1800), 0, "not in the 30 minutes before");
    /* Other clients: a few collisions at most. */
    unsigned seen = 0;
    for (uint64_t i = 0; i < 20000; i++) {
        uint64_t x = sketch_hash(&i, sizeof i);
        seen += (unsigned)seen_check_and_mark(&t, x, 200000, 1800);
    }
    cr_assert_lt(seen, 20000 / 100, "%u of 20000 new clients taken for seen", seen);
}

/* A skewed stream: key i (of 5000) appears about 5000/(i+1) times. */
Test(traffic_sketch, heavy_hitters_against_exact_counts)
{
    static struct topk t;
    static uint32_t exact[5000];
    topk_init(&t, 32);
    uint64_t total = 0;
    for (unsigned round = 0; round < 5000; round++) {
        for (unsigned i = 0; i < 5000; i++) {
            /* key i comes in rounds where round % (i+1) == 0 */
            if (round % (i + 1))
                continue;
            char key[16];
            int n = snprintf(key, sizeof key, "/p%u", i);
            topk_add(&t, key, (size_t)n, sketch_hash(key, (size_t)n), 1);
            exact[i]++;
            total++;
        }
    }
    cr_assert_eq(t.total, total);
    /* Every key with more than total/capacity is in, its count bracketing
     * the exact one. */
    unsigned checked = 0;
    for (unsigned i = 0; i < 5000 && exact[i] > total / 32; i++, checked++) {
        char want[16];
        snprintf(want, sizeof want, "/p%u", i);
        unsigned j = 0;
        while (j < t.n && strcmp(t.key[j], want) != 0)
            j++;
        cr_assert_lt(j, t.n, "%s (%u of %llu) is missing", want, exact[i], (unsigned long long)total);
        cr_assert_leq(t.count[j] - t.err[j], exact[i]);
        cr_assert_geq(t.count[j], exact[i]);
        cr_assert_leq(t.err[j], total / 32);
    }
    cr_assert_geq(checked, 3);
    struct topk_item top[1];
    cr_assert_eq(topk_top(&t, top, 1), 1);
    cr_assert_str_eq(top[0].key, "/p0");
    cr_assert_float_eq(top[0].share, (double)top[0].count / (double)total, 1e-12);
}

Test(traffic_sketch, merged_summaries_keep_the_heavy_keys)
{
    static struct topk a, b, m;
    topk_init(&a, 8);
    topk_init(&b, 8);
    topk_init(&m, 16);
    for (int i = 0; i < 100; i++) {
        topk_add(&a, "/hot", 4, sketch_hash("/hot", 4), 1);
        topk_add(&b, "/hot", 4, sketch_hash("/hot", 4), 1);
        char key[16];
        int n = snprintf(key, sizeof key, "/cold%d", i);
        topk_add(i % 2 ? &a : &b, key, (size_t)n, sketch_hash(key, (size_t)n), 1);
    }
    topk_merge(&m, &a);
    topk_merge(&m, &b);
    struct topk_item top[2];
    cr_assert_geq(topk_top(&m, top, 2), 1);
    cr_assert_str_eq(top[0].key, "/hot");
    cr_assert_eq(m.total, 300);
    cr_assert_geq(top[0].count, 150);
    cr_assert_leq(top[0].count, 200);
}

Test(traffic, prefixes)
{
    char p[64];
    cr_assert_eq(traffic_prefix("192.0.2.77", p, sizeof p), strlen("192.0.2.0/24"));
    cr_assert_str_eq(p, "192.0.2.0/24");
    cr_assert_gt(traffic_prefix("2001:db8:1:2:3::9", p, sizeof p), 0);
    cr_assert_str_eq(p, "2001:db8:1::/48");
    cr_assert_eq(traffic_prefix("not-an-address", p, sizeof p), 0);
    cr_assert_eq(traffic_prefix("1.2.3", p, sizeof p), 0);
}

Test(traffic, shape_rule)
{
    cr_assert_eq(traffic_shape_of(0.05, 0.20), TRAFFIC_BROAD);
    cr_assert_eq(traffic_shape_of(0.11, 0.20), TRAFFIC_CONCENTRATED, "a prefix over 10%");
    cr_assert_eq(traffic_shape_of(0.05, 0.50), TRAFFIC_CONCENTRATED, "the top 10 clients hold half");
    cr_assert_str_eq(traffic_shape_name(TRAFFIC_BROAD), "broad");
    cr_assert_str_eq(traffic_shape_name(TRAFFIC_CONCENTRATED), "concentrated");
}

/* Seconds [from, to) of traffic: `per_second` requests, client k of the
 * second's n drawn by `pick`, each second ending with a tick. */
typedef void (*pick_fn)(unsigned sec, unsigned k, char *ip, size_t cap, const char **path);

static void feed(unsigned from, unsigned to, unsigned per_second, pick_fn pick, struct traffic_view *v)
{
    for (unsigned sec = from; sec < to; sec++) {
        for (unsigned k = 0; k < per_second; k++) {
            char ip[64];
            const char *path;
            pick(sec, k, ip, sizeof ip, &path);
            traffic_note(ip, path, strlen(path), (uint64_t)sec * 1000 + k * 1000 / per_second);
        }
        traffic_tick((uint64_t)(sec + 1) * 1000, v);
        traffic_handover();
    }
}

/* A campaign: 2000 clients spread over 250 /24s, most on one hot path. */
static void campaign(unsigned sec, unsigned k, char *ip, size_t cap, const char **path)
{
    unsigned c = (sec * 300 + k) % 2000;
    snprintf(ip, cap, "198.%u.%u.%u", 18 + c % 50, c / 50 % 5, 1 + c / 250);
    *path = k % 10 ? "/checkout?item=42" : "/";
}

/* A flood: two clients send 97%, a little ordinary traffic beside. */
static void flood(unsigned sec, unsigned k, char *ip, size_t cap, const char **path)
{
    if (k % 100 < 97)
        snprintf(ip, cap, "203.0.113.%u", 7 + k % 2);
    else
        snprintf(ip, cap, "198.51.%u.%u", (sec + k) % 200, 1 + k % 250);
    *path = "/login";
}

Test(traffic, a_campaign_is_broad)
{
    struct traffic_view v;
    traffic_reset();
    feed(1000, 1015, 300, campaign, &v);
    cr_assert_eq(v.shape, TRAFFIC_BROAD, "top prefix %.3f, top clients %.3f", v.top_prefix_share,
                 v.top_clients_share);
    cr_assert_lt(fabs(v.distinct - 2000) / 2000, 0.02, "distinct %.0f", v.distinct);
    cr_assert_geq(v.npaths, 1);
    cr_assert_str_eq(v.paths[0].key, "/checkout", "the path without its query");
    cr_assert_gt(v.paths[0].share, 0.85);
    cr_assert_leq(v.paths[0].share, 0.9);
    cr_assert_gt(v.requests, 2500);
}

Test(traffic, a_flood_is_concentrated)
{
    struct traffic_view v;
    traffic_reset();
    feed(1000, 1015, 300, flood, &v);
    cr_assert_eq(v.shape, TRAFFIC_CONCENTRATED);
    cr_assert_geq(v.nclients, 2);
    cr_assert_geq(v.nprefixes, 1);
    cr_assert_str_eq(v.prefixes[0].key, "203.0.113.0/24");
    cr_assert_gt(v.prefixes[0].share, 0.95);
    cr_assert_gt(v.top_clients_share, 0.95);
    cr_assert(strcmp(v.clients[0].key, "203.0.113.7") == 0 || strcmp(v.clients[0].key, "203.0.113.8") == 0);
}

/* A crowd arriving (each client new) against the same clients coming
 * back: the share not seen in the 30 minutes before. */
static void arrivals(unsigned sec, unsigned k, char *ip, size_t cap, const char **path)
{
    unsigned c = sec * 300 + k;
    snprintf(ip, cap, "100.%u.%u.%u", (c >> 16) & 255, (c >> 8) & 255, c & 255);
    *path = "/";
}

Test(traffic, new_share_counts_clients_not_seen_before)
{
    struct traffic_view v;
    traffic_reset();
    feed(1000, 1015, 300, arrivals, &v);
    cr_assert_gt(v.new_share, 0.97, "a crowd arriving: %.3f", v.new_share);
    cr_assert_lt(fabs(v.distinct - 3000) / 3000, 0.02, "distinct %.0f", v.distinct);
    feed(1015, 1070, 300, campaign, &v);
    cr_assert_lt(v.new_share, 0.03, "the same 2000 clients coming back: %.3f", v.new_share);
    /* Half the window's clients back, half arriving. */
    traffic_reset();
    feed(2000, 2030, 150, campaign, &v);
    for (unsigned sec = 2030; sec < 2045; sec++) {
        for (unsigned k = 0; k < 300; k++) {
            char ip[64];
            const char *path;
            (k % 2 ? campaign : arrivals)(sec, k, ip, sizeof ip, &path);
            traffic_note(ip, path, strlen(path), (uint64_t)sec * 1000 + k * 3);
        }
        traffic_tick((uint64_t)(sec + 1) * 1000, &v);
        traffic_handover();
    }
    /* 1500 arriving in the window beside 1000 of the campaign's clients
     * (odd k gives odd client numbers only) */
    cr_assert_lt(fabs(v.distinct - 2500) / 2500, 0.02);
    cr_assert_float_eq(v.new_share, 1500.0 / 2500.0, 0.03, "%.3f of %.0f", v.new_share, v.distinct);
}

Test(traffic, the_window_forgets)
{
    struct traffic_view v;
    traffic_reset();
    feed(1000, 1012, 300, flood, &v);
    cr_assert_gt(v.requests, 0);
    /* 20 quiet seconds, ticking. */
    for (unsigned sec = 1012; sec < 1032; sec++)
        traffic_tick((uint64_t)(sec + 1) * 1000, &v);
    cr_assert_eq(v.requests, 0);
    cr_assert_float_eq(v.distinct, 0.0, 1e-9);
    cr_assert_eq(v.nclients, 0);
}

/* What a worker counted before the handover is in the next tick; what it
 * counts after (in its other buffer) waits for the one after. */
Test(traffic, handover_then_tick)
{
    struct traffic_view v;
    traffic_reset();
    for (int i = 0; i < 100; i++)
        traffic_note("192.0.2.1", "/a", 2, 1000000 + (uint64_t)i);
    traffic_tick(1001000, &v);
    cr_assert_eq(v.requests, 0, "nothing handed over yet");
    traffic_handover();
    traffic_note("198.51.100.1", "/b", 2, 1000500);
    traffic_tick(1001000, &v);
    cr_assert_eq(v.requests, 100);
    cr_assert_str_eq(v.paths[0].key, "/a");
    cr_assert_eq(v.npaths, 1);
    traffic_handover();
    traffic_note("198.51.100.1", "/b", 2, 1001500);
    traffic_tick(1002000, &v);
    cr_assert_eq(v.requests, 101);
}

/* One host rotating through its IPv6 /64 is one client, as admission
 * counts it: not 60 new clients of one request each. */
static void one_v6_host(unsigned sec, unsigned k, char *ip, size_t cap, const char **path)
{
    (void)sec;
    snprintf(ip, cap, "2001:db8:1:2::%x", 1 + k);
    *path = "/";
}

Test(traffic, an_ipv6_client_is_its_64)
{
    struct traffic_view v;
    traffic_reset();
    feed(2000, 2003, 60, one_v6_host, &v);
    cr_assert_lt(v.distinct, 1.5, "distinct %.1f", v.distinct);
    cr_assert_geq(v.nclients, 1);
    cr_assert_str_eq(v.clients[0].key, "2001:db8:1:2::/64");
    cr_assert_float_eq(v.clients[0].share, 1.0, 1e-9);
    cr_assert_eq(v.shape, TRAFFIC_CONCENTRATED);
}
