/*
 * Unit tests of admission (CONTRACT section 9) with no sockets and a fake
 * clock: the token bucket (burst, refill, Retry-After), the shared client
 * table (least recently seen evicted first, IPv6 clients counted by /64,
 * connection counts), CIDR ranges, the client address a trusted proxy's
 * header gives, and the admission directives' errors.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "admit.h"
#include "client_addr.h"
#include "client_table.h"
#include "config.h"
#include "error_page.h"
#include "fixtures.h"
#include "http.h"
#include "stats_admit.h"
#include "token_bucket.h"

#define SEC 1000000000ull
#define POOL "listen 127.0.0.1:1\npool web {\n check off\n server a 127.0.0.1:9\n}\n"

static struct in6_addr addr(const char *text)
{
    struct in6_addr a;
    cr_assert_eq(client_addr_parse(text, strlen(text), &a), 0, "%s", text);
    return a;
}

/* ---- token bucket -------------------------------------------------------------------- */

Test(token_bucket, a_full_bucket_allows_the_burst_then_refuses)
{
    uint64_t tat = 0, now = 1000 * SEC, interval = SEC / 10; /* 10/s */
    for (int i = 0; i < 20; i++)
        cr_assert_eq(token_bucket_take(&tat, now, interval, 20), 0, "request %d of the burst", i);
    uint64_t wait = token_bucket_take(&tat, now, interval, 20);
    cr_assert_eq(wait, interval, "the next token comes one interval later, got %llu", (unsigned long long)wait);
}

Test(token_bucket, tokens_come_back_at_the_rate)
{
    uint64_t tat = 0, now = 50 * SEC, interval = SEC / 2; /* 2/s */
    cr_assert_eq(token_bucket_take(&tat, now, interval, 2), 0);
    cr_assert_eq(token_bucket_take(&tat, now, interval, 2), 0);
    cr_assert_neq(token_bucket_take(&tat, now, interval, 2), 0);
    /* Half a second: one token back, not two. */
    now += SEC / 2;
    cr_assert_eq(token_bucket_take(&tat, now, interval, 2), 0);
    cr_assert_neq(token_bucket_take(&tat, now, interval, 2), 0);
    /* A long pause refills to the burst, no more. */
    now += 100 * SEC;
    cr_assert_eq(token_bucket_take(&tat, now, interval, 2), 0);
    cr_assert_eq(token_bucket_take(&tat, now, interval, 2), 0);
    cr_assert_neq(token_bucket_take(&tat, now, interval, 2), 0);
}

Test(token_bucket, a_refused_request_takes_no_token)
{
    uint64_t tat = 0, now = 10 * SEC, interval = SEC;
    cr_assert_eq(token_bucket_take(&tat, now, interval, 1), 0);
    for (int i = 0; i < 100; i++)
        cr_assert_neq(token_bucket_take(&tat, now + SEC / 2, interval, 1), 0);
    cr_assert_eq(token_bucket_take(&tat, now + SEC, interval, 1), 0, "hammering did not push the token back");
}

Test(token_bucket, a_clock_set_back_starts_the_bucket_over_full)
{
    uint64_t tat = 0, now = 1000 * SEC, interval = SEC;
    for (int i = 0; i < 3; i++)
        cr_assert_eq(token_bucket_take(&tat, now, interval, 3), 0);
    cr_assert_neq(token_bucket_take(&tat, now, interval, 3), 0);
    /* An hour back: not an hour of 429s. */
    now -= 3600 * SEC;
    for (int i = 0; i < 3; i++)
        cr_assert_eq(token_bucket_take(&tat, now, interval, 3), 0);
    cr_assert_neq(token_bucket_take(&tat, now, interval, 3), 0);
}

Test(token_bucket, a_clock_a_little_behind_does_not_refill)
{
    /* Emptied on one worker, asked on another whose loop time is 5 ms
     * behind: still empty. */
    uint64_t tat = 0, now = 1000 * SEC, interval = SEC;
    for (int i = 0; i < 3; i++)
        cr_assert_eq(token_bucket_take(&tat, now, interval, 3), 0);
    cr_assert_neq(token_bucket_take(&tat, now - 5000000, interval, 3), 0);
    cr_assert_neq(token_bucket_take(&tat, now - 1500000000ull, interval, 3), 0);
}

Test(token_bucket, retry_after_is_whole_seconds_rounded_up_at_least_one)
{
    uint64_t tat = 0, now = 10 * SEC, interval = 60 * SEC / 6; /* 6/m: one per 10 s */
    cr_assert_eq(token_bucket_take(&tat, now, interval, 1), 0);
    uint64_t wait = token_bucket_take(&tat, now + 2500000000ull, interval, 1);
    cr_assert_eq(wait, 7500000000ull);
    cr_assert_eq(token_bucket_retry_after_s(wait), 8);
    cr_assert_eq(token_bucket_retry_after_s(1), 1);
    cr_assert_eq(token_bucket_retry_after_s(SEC), 1);
    cr_assert_eq(token_bucket_retry_after_s(SEC + 1), 2);
}

/* ---- client table ---------------------------------------------------------------------- */

Test(client_table, each_client_has_its_own_bucket)
{
    struct client_table *ct = client_table_new(64, 4, 7);
    uint64_t a, b;
    struct in6_addr x = addr("192.0.2.1"), y = addr("192.0.2.2");
    a = client_key(&x);
    b = client_key(&y);
    cr_assert_eq(client_table_rate(ct, a, SEC, SEC, 1), 0);
    cr_assert_neq(client_table_rate(ct, a, SEC, SEC, 1), 0);
    cr_assert_eq(client_table_rate(ct, b, SEC, SEC, 1), 0, "another client is not limited by the first");
    client_table_free(ct);
}

Test(client_table, the_least_recently_seen_is_evicted_first)
{
    struct client_table *ct = client_table_new(3, 1, 1);
    struct client_table_stats st;
    uint64_t k[4];
    for (int i = 0; i < 4; i++) {
        char text[32];
        snprintf(text, sizeof text, "198.51.100.%d", i + 1);
        struct in6_addr a = addr(text);
        k[i] = client_key(&a);
    }
    /* Each of the three spends its only token, a second apart (the LRU
     * order is kept to the second). */
    for (int i = 0; i < 3; i++)
        cr_assert_eq(client_table_rate(ct, k[i], (uint64_t)(1 + i) * SEC, 100 * SEC, 1), 0);
    /* k0 seen again (refused): k1 is now the least recently seen. */
    cr_assert_neq(client_table_rate(ct, k[0], 4 * SEC, 100 * SEC, 1), 0);
    /* A fourth client takes k1's place. */
    cr_assert_eq(client_table_rate(ct, k[3], 5 * SEC, 100 * SEC, 1), 0);
    client_table_stats(ct, &st);
    cr_assert_eq(st.tracked, 3);
    cr_assert_eq(st.capacity, 3);
    cr_assert_eq(st.evictions, 1);
    /* k0 and k2 are still empty; k1 comes back with a full bucket (it was
     * forgotten), evicting k2, now the least recently seen. */
    cr_assert_neq(client_table_rate(ct, k[0], 6 * SEC, 100 * SEC, 1), 0);
    cr_assert_eq(client_table_rate(ct, k[1], 7 * SEC, 100 * SEC, 1), 0, "k1 was the one evicted");
    cr_assert_eq(client_table_rate(ct, k[2], 8 * SEC, 100 * SEC, 1), 0, "then k2 (evicting k3)");
    cr_assert_neq(client_table_rate(ct, k[0], 9 * SEC, 100 * SEC, 1), 0, "k0, seen since, stayed");
    client_table_free(ct);
}

Test(client_table, a_busy_client_keeps_its_place_to_the_second)
{
    struct client_table *ct = client_table_new(2, 1, 1);
    struct in6_addr a = addr("192.0.2.1"), b = addr("192.0.2.2"), c = addr("192.0.2.3");
    cr_assert_eq(client_table_rate(ct, client_key(&a), 10 * SEC, SEC, 100), 0);
    cr_assert_eq(client_table_rate(ct, client_key(&b), 10 * SEC + 1, SEC, 100), 0);
    /* a again within the same second: not moved, still the least recent. */
    cr_assert_eq(client_table_rate(ct, client_key(&a), 10 * SEC + 2, SEC, 100), 0);
    cr_assert_eq(client_table_rate(ct, client_key(&c), 10 * SEC + 3, SEC, 100), 0);
    /* c evicted a: a new a has a full bucket of 100 again... */
    for (int i = 0; i < 100; i++)
        cr_assert_eq(client_table_rate(ct, client_key(&a), 12 * SEC, SEC, 100), 0, "request %d", i);
    /* The new a took the place of b, then the least recently seen. */
    struct client_table_stats st;
    client_table_stats(ct, &st);
    cr_assert_eq(st.evictions, 2, "a evicted by c, then b by a");
    client_table_free(ct);
}

Test(client_table, an_ipv6_client_is_its_slash_64)
{
    struct client_table *ct = client_table_new(16, 1, 3);
    struct in6_addr a = addr("2001:db8:1:2::1"), b = addr("2001:db8:1:2:ffff:1:2:3"), c = addr("2001:db8:1:3::1");
    cr_assert_eq(client_key(&a), client_key(&b));
    cr_assert_neq(client_key(&a), client_key(&c));
    cr_assert_eq(client_table_rate(ct, client_key(&a), SEC, SEC, 1), 0);
    cr_assert_neq(client_table_rate(ct, client_key(&b), SEC, SEC, 1), 0, "same /64, same bucket");
    cr_assert_eq(client_table_rate(ct, client_key(&c), SEC, SEC, 1), 0, "the next /64 is another client");
    char text[CLIENT_TEXT_MAX];
    client_key_format(client_key(&b), text, sizeof text);
    cr_assert_str_eq(text, "2001:db8:1:2::/64");
    struct in6_addr v4 = addr("203.0.113.9");
    client_key_format(client_key(&v4), text, sizeof text);
    cr_assert_str_eq(text, "203.0.113.9");
    client_table_free(ct);
}

Test(client_table, connections_are_counted_up_to_the_limit)
{
    struct client_table *ct = client_table_new(16, 2, 5);
    struct in6_addr a = addr("192.0.2.50");
    uint64_t k = client_key(&a);
    cr_assert_eq(client_table_conn_open(ct, k, 2), 0);
    cr_assert_eq(client_table_conn_open(ct, k, 2), 0);
    cr_assert_eq(client_table_conn_open(ct, k, 2), -1);
    cr_assert_eq(client_table_conns(ct, k), 2);
    client_table_conn_close(ct, k);
    cr_assert_eq(client_table_conn_open(ct, k, 2), 0, "a closed connection makes room");
    client_table_conn_close(ct, k);
    client_table_conn_close(ct, k);
    client_table_conn_close(ct, k); /* one too many: stays at 0 */
    cr_assert_eq(client_table_conns(ct, k), 0);
    client_table_free(ct);
}

Test(client_table, an_entry_holding_connections_is_not_evicted_before_an_idle_one)
{
    struct client_table *ct = client_table_new(2, 1, 9);
    struct in6_addr a = addr("192.0.2.1"), b = addr("192.0.2.2"), c = addr("192.0.2.3");
    cr_assert_eq(client_table_conn_open(ct, client_key(&a), 5), 0); /* oldest, holds one */
    cr_assert_eq(client_table_rate(ct, client_key(&b), SEC, SEC, 5), 0);
    cr_assert_eq(client_table_rate(ct, client_key(&c), SEC, SEC, 5), 0); /* evicts b, not a */
    cr_assert_eq(client_table_conns(ct, client_key(&a)), 1);
    client_table_free(ct);
}

Test(client_table, top_lists_the_most_limited_first)
{
    struct client_table *ct = client_table_new(64, 4, 11);
    struct in6_addr a = addr("192.0.2.1"), b = addr("192.0.2.2"), c = addr("192.0.2.3");
    for (int i = 0; i < 5; i++)
        client_table_rate(ct, client_key(&a), SEC, SEC, 1);
    for (int i = 0; i < 9; i++)
        client_table_rate(ct, client_key(&b), SEC, SEC, 1);
    client_table_rate(ct, client_key(&c), SEC, SEC, 1); /* never refused */
    struct client_top top[4];
    size_t n = client_table_top_limited(ct, top, 4);
    cr_assert_eq(n, 2);
    cr_assert_eq(top[0].key, client_key(&b));
    cr_assert_eq(top[0].limited, 8);
    cr_assert_eq(top[1].key, client_key(&a));
    cr_assert_eq(top[1].limited, 4);
    client_table_free(ct);
}

/* ---- addresses and ranges --------------------------------------------------------------- */

Test(cidr, ranges_of_both_families)
{
    struct cidr c;
    cr_assert_eq(cidr_parse("10.0.0.0/8", &c), 0);
    struct in6_addr in = addr("10.200.3.4"), out = addr("11.0.0.1");
    cr_assert(cidr_contains(&c, &in));
    cr_assert_not(cidr_contains(&c, &out));
    cr_assert_eq(cidr_parse("2001:db8::/32", &c), 0);
    struct in6_addr v6in = addr("2001:db8:ffff::1"), v6out = addr("2001:db9::1");
    cr_assert(cidr_contains(&c, &v6in));
    cr_assert_not(cidr_contains(&c, &v6out));
    cr_assert_not(cidr_contains(&c, &in), "an IPv4 address is not in an IPv6 range");
    cr_assert_eq(cidr_parse("192.0.2.77", &c), 0, "an address alone is a /32");
    struct in6_addr same = addr("192.0.2.77"), next = addr("192.0.2.78");
    cr_assert(cidr_contains(&c, &same));
    cr_assert_not(cidr_contains(&c, &next));
    cr_assert_eq(cidr_parse("172.16.0.0/12", &c), 0);
    struct in6_addr edge = addr("172.31.255.255"), beyond = addr("172.32.0.0");
    cr_assert(cidr_contains(&c, &edge));
    cr_assert_not(cidr_contains(&c, &beyond));
    cr_assert_eq(cidr_parse("0.0.0.0/0", &c), 0);
    cr_assert(cidr_contains(&c, &in));
    cr_assert_not(cidr_contains(&c, &v6in), "0.0.0.0/0 is every IPv4 address only");
}

Test(cidr, malformed_ranges_are_refused)
{
    static const char *const bad[] = { "", "10.0.0.0/", "10.0.0.0/33", "10.0.0.1/8", "10.0.0/8", "::1/129",
                                       "2001:db8::1/32", "10.0.0.0/8x", "/8", "example.com", "10.0.0.0/-1" };
    struct cidr c;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(cidr_parse(bad[i], &c), -1, "\"%s\" accepted", bad[i]);
}

Test(client_addr, header_elements)
{
    struct in6_addr a;
    char text[CLIENT_TEXT_MAX];
    static const struct { const char *in, *want; } ok[] = {
        { " 203.0.113.5 ", "203.0.113.5" },
        { "203.0.113.5:4711", "203.0.113.5" },
        { "2001:db8::5", "2001:db8::5" },
        { "[2001:db8::5]", "2001:db8::5" },
        { "[2001:db8::5]:443", "2001:db8::5" },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        cr_assert_eq(client_addr_parse(ok[i].in, strlen(ok[i].in), &a), 0, "\"%s\"", ok[i].in);
        client_addr_format(&a, text, sizeof text);
        cr_assert_str_eq(text, ok[i].want);
    }
    static const char *const bad[] = { "", "unknown", "_hidden", "203.0.113", "1.2.3.4.5", "[1.2.3.4]", "[::1",
                                       "[::1]x", "::1:", "1.2.3.4:5:6x" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(client_addr_parse(bad[i], strlen(bad[i]), &a), -1, "\"%s\" accepted", bad[i]);
}

Test(client_addr, the_last_element_of_a_list)
{
    struct in6_addr a;
    char text[CLIENT_TEXT_MAX];
    const char *v = "198.51.100.1, 10.1.1.1,203.0.113.8";
    cr_assert_eq(client_addr_last_of_list(v, strlen(v), &a), 0);
    client_addr_format(&a, text, sizeof text);
    cr_assert_str_eq(text, "203.0.113.8");
    v = "203.0.113.8, unknown";
    cr_assert_eq(client_addr_last_of_list(v, strlen(v), &a), -1, "the last element decides, not an earlier one");
    v = "203.0.113.8,";
    cr_assert_eq(client_addr_last_of_list(v, strlen(v), &a), -1);
}

/* ---- the client of a request ------------------------------------------------------------- */

/* Parses a request head into h (fields in `fields`). */
static void parse_head(const char *req, struct http_head *h, struct http_field *fields, struct http_msg *m)
{
    memset(h, 0, sizeof *h);
    memset(m, 0, sizeof *m);
    h->fields = fields;
    h->max_fields = 16;
    cr_assert_eq(http_parse_request(m, req, strlen(req), h), 0);
}

static const char *const client_ip_conf =
    "listen 127.0.0.1:1\nclient-ip header X-Forwarded-For from 10.0.0.0/8 192.168.1.1\n"
    "pool web {\n check off\n server a 127.0.0.1:9\n}\n";

static const char *client_of(struct runtime *rt, const char *peer, const char *req, int *from_header)
{
    static char text[CLIENT_TEXT_MAX];
    struct http_field fields[16];
    struct http_head h;
    struct http_msg m;
    struct in6_addr p = addr(peer), c;
    parse_head(req, &h, fields, &m);
    *from_header = admit_client_of(rt->cfg, &p, req, &h, &c);
    client_addr_format(&c, text, sizeof text);
    return text;
}

Test(client_ip, a_trusted_peer_gives_the_last_address_of_the_last_field)
{
    struct runtime *rt = fixture_runtime(client_ip_conf);
    int fh;
    cr_assert_str_eq(client_of(rt, "10.2.3.4",
                               "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.1.1.1, 2.2.2.2\r\n"
                               "x-forwarded-for: 6.6.6.6, 203.0.113.7\r\n\r\n",
                               &fh),
                     "203.0.113.7");
    cr_assert_eq(fh, 1);
    cr_assert_str_eq(client_of(rt, "192.168.1.1", "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 2001:db8::9\r\n\r\n",
                               &fh),
                     "2001:db8::9");
    runtime_release(rt);
}

Test(client_ip, a_forged_header_from_an_untrusted_peer_changes_nothing)
{
    struct runtime *rt = fixture_runtime(client_ip_conf);
    int fh;
    cr_assert_str_eq(client_of(rt, "192.168.1.2", "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n", &fh),
                     "192.168.1.2");
    cr_assert_eq(fh, 0);
    runtime_release(rt);
}

Test(client_ip, a_missing_or_malformed_header_leaves_the_peer)
{
    struct runtime *rt = fixture_runtime(client_ip_conf);
    int fh;
    cr_assert_str_eq(client_of(rt, "10.0.0.1", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", &fh), "10.0.0.1");
    cr_assert_eq(fh, 0);
    cr_assert_str_eq(client_of(rt, "10.0.0.1", "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.2.3.4, junk\r\n\r\n",
                               &fh),
                     "10.0.0.1");
    cr_assert_eq(fh, 0);
    runtime_release(rt);
}

Test(admit, trusted_clients_are_never_limited)
{
    struct runtime *rt = fixture_runtime("limit rate 1/s burst 1\ntrust 10.0.0.0/8\n"
                                         "listen 127.0.0.1:1\npool web {\n check off\n server a 127.0.0.1:9\n}\n");
    struct in6_addr t = addr("10.9.9.9"), u = addr("192.0.2.200");
    uint64_t now = admit_now_ns();
    for (int i = 0; i < 10; i++)
        cr_assert_eq(admit_rate(rt->cfg, &t, now), 0);
    cr_assert_eq(admit_rate(rt->cfg, &u, now), 0);
    cr_assert_neq(admit_rate(rt->cfg, &u, now), 0);
    runtime_release(rt);
}

/* ---- directives ---------------------------------------------------------------------------- */

static void expect_error(const char *text, const char *want)
{
    struct config_errors errs = {0};
    struct config *cfg = config_parse("t.conf", text, strlen(text), &errs);
    cr_assert_null(cfg, "accepted: %s", text);
    int found = 0;
    for (size_t i = 0; i < errs.n; i++)
        found |= strstr(errs.msgs[i], want) != NULL;
    cr_assert(found, "no \"%s\" among %zu errors (first: %s)", want, errs.n, errs.n ? errs.msgs[0] : "-");
    config_errors_clear(&errs);
}


Test(admit_config, values_are_parsed)
{
    struct runtime *rt = fixture_runtime("limit rate 50/s burst 100\nlimit client-conns 20\n"
                                         "trust 10.0.0.0/8\ntrust 192.0.2.1 2001:db8::/32\n" POOL
                                         "route path /checkout/ pool web priority high\n"
                                         "route path /feed/ pool web priority low\nroute default pool web\n");
    const struct config_admission *a = &rt->cfg->admit;
    cr_assert_eq(a->rate_interval_ns, SEC / 50);
    cr_assert_eq(a->rate_burst, 100);
    cr_assert_eq(a->client_conns, 20);
    cr_assert_eq(a->ntrust, 3);
    cr_assert_eq(rt->cfg->routes[0].priority, PRIO_HIGH);
    cr_assert_eq(rt->cfg->routes[1].priority, PRIO_LOW);
    cr_assert_eq(rt->cfg->routes[2].priority, PRIO_NORMAL);
    runtime_release(rt);
    rt = fixture_runtime("limit rate 120/m\n" POOL);
    cr_assert_eq(rt->cfg->admit.rate_interval_ns, SEC / 2);
    cr_assert_eq(rt->cfg->admit.rate_burst, 2, "the default burst is one second's worth");
    runtime_release(rt);
}

Test(admit_config, errors_name_the_line)
{
    expect_error("limit rate 50\n" POOL, "t.conf:1: limit rate: expected a rate such as 50/s");
    expect_error("limit rate 50/h\n" POOL, "t.conf:1: limit rate: expected a rate");
    expect_error("limit rate 50/s burst\n" POOL, "t.conf:1: limit rate: expected \"limit rate R/s [burst B]\"");
    expect_error("limit rate 50/s burst 0\n" POOL, "t.conf:1: limit rate burst: expected a number 1-1000000");
    expect_error("limit rate 5/s\nlimit rate 6/s\n" POOL, "t.conf:2: duplicate \"limit rate\"");
    expect_error("limit clients 10\n" POOL, "t.conf:1: limit clients: expected a number 1024-16777216");
    expect_error("limit client-conns 0\n" POOL, "t.conf:1: limit client-conns: expected a number");
    expect_error("limit headers 10 20\n" POOL, "t.conf:1: limit headers: expected one value");
    expect_error("trust 10.0.0.1/8\n" POOL, "t.conf:1: trust: expected an address or CIDR range");
    expect_error("client-ip header X-Forwarded-For to 10.0.0.0/8\n" POOL,
                 "t.conf:1: client-ip: expected \"client-ip header NAME from CIDR");
    expect_error("client-ip header X(F) from 10.0.0.0/8\n" POOL, "t.conf:1: client-ip header: \"X(F)\" is not");
    expect_error("client-ip header A from 10.0.0.0/8\nclient-ip header B from 10.0.0.0/8\n" POOL,
                 "t.conf:2: client-ip header: one header only");
    expect_error(POOL "route default pool web priority urgent\n",
                 "t.conf:6: route priority: expected high, normal or low, got \"urgent\"");
    expect_error("error-page 404 /etc/hostname\n" POOL, "t.conf:1: error-page: expected one of 400 408 413 429");
    expect_error("error-page 503 /dev/null\n" POOL, "t.conf:1: error-page 503: \"/dev/null\" is not a regular file");
    expect_error("error-page 503 /tmp\n" POOL, "t.conf:1: error-page 503: \"/tmp\" is not a regular file");
    expect_error("error-page 503 /nonexistent/busy.html\n" POOL,
                 "t.conf:1: error-page 503: cannot read \"/nonexistent/busy.html\": No such file");
}

Test(admit_config, an_error_page_over_64k_is_refused)
{
    char path[] = "/tmp/proxy-test-page-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    static char big[CONFIG_ERROR_PAGE_MAX + 1];
    memset(big, 'x', sizeof big);
    cr_assert_eq(write(fd, big, sizeof big), (ssize_t)sizeof big);
    close(fd);
    char text[512];
    snprintf(text, sizeof text, "error-page 503 %s\n" POOL, path);
    expect_error(text, "is over 64k");
    /* Exactly 64k is fine. */
    cr_assert_eq(truncate(path, CONFIG_ERROR_PAGE_MAX), 0);
    struct runtime *rt = fixture_runtime(text);
    int k = config_error_page_index(503);
    cr_assert_eq(rt->cfg->admit.error_pages[k].len, CONFIG_ERROR_PAGE_MAX);
    runtime_release(rt);
    unlink(path);
}

/* ---- the proxy's own responses ------------------------------------------------------------- */

Test(error_page, a_page_is_served_as_html_with_retry_after)
{
    char path[] = "/tmp/proxy-test-page-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, "<p>busy</p>", 11), 11);
    close(fd);
    char text[512];
    snprintf(text, sizeof text, "error-page 429 %s\nerror-page 503 %s\n" POOL, path, path);
    struct runtime *rt = fixture_runtime(text);
    char out[1024];
    size_t n = error_page_render(rt->cfg, 429, 7, out, sizeof out);
    out[n] = 0;
    cr_assert_str_eq(out, "HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/html\r\nContent-Length: 11\r\n"
                          "Retry-After: 7\r\nConnection: close\r\n\r\n<p>busy</p>");
    n = error_page_render(rt->cfg, 503, 0, out, sizeof out);
    out[n] = 0;
    cr_assert_str_eq(out, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html\r\nContent-Length: 11\r\n"
                          "Retry-After: 1\r\nConnection: close\r\n\r\n<p>busy</p>");
    n = error_page_render(rt->cfg, 502, 0, out, sizeof out);
    out[n] = 0;
    cr_assert_str_eq(out, "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: 39\r\n"
                          "Connection: close\r\n\r\nserver failed or answered invalid HTTP\n",
                     "no page for 502: the short text");
    cr_assert_eq(error_page_render(rt->cfg, 429, 7, out, 40), 0, "too small a buffer gives 0");
    n = error_page_render(NULL, 429, 3, out, sizeof out);
    out[n] = 0;
    cr_assert_str_eq(out, "HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain\r\nContent-Length: 31\r\n"
                          "Retry-After: 3\r\nConnection: close\r\n\r\ntoo many requests: retry later\n",
                     "no page for 429: the short text, Retry-After still");
    runtime_release(rt);
    unlink(path);
}

/* ---- stats ------------------------------------------------------------------------------- */

/* CONTRACT 9: a route's priority is normal unless it says otherwise, the
 * route a file with one pool and no `route` gets included: in its queue
 * class and in /api/stats. */
Test(stats_admit, the_implicit_route_of_a_single_pool_is_normal)
{
    struct runtime *rt = fixture_runtime(POOL);
    cr_assert_eq(rt->cfg->nroutes, 1);
    cr_assert_eq(rt->cfg->routes[0].priority, PRIO_NORMAL);
    struct stats_buf b;
    stats_buf_init(&b);
    stats_admit_json(&b, rt);
    cr_assert(strstr(b.data, ",\"routes\":[{\"match\":\"default\",\"pool\":\"web\",\"priority\":\"normal\","),
              "%s", b.data);
    stats_buf_free(&b);
    runtime_release(rt);
}

Test(stats_admit, routes_with_their_priority_requests_and_limited)
{
    struct runtime *rt = fixture_runtime(POOL "route host shop.example path /checkout/ pool web priority high\n"
                                              "route default pool web\n");
    atomic_store(&rt->routes[0].requests, 7);
    atomic_store(&rt->routes[0].limited, 2);
    struct stats_buf b;
    stats_buf_init(&b);
    stats_admit_json(&b, rt);
    cr_assert(strstr(b.data, ",\"routes\":[{\"match\":\"host shop.example path /checkout/\",\"pool\":\"web\","
                             "\"priority\":\"high\",\"requests\":7,\"limited\":2},{\"match\":\"default\","
                             "\"pool\":\"web\",\"priority\":\"normal\",\"requests\":0,\"limited\":0}]"),
              "%s", b.data);
    cr_assert(strstr(b.data, ",\"limits\":{\"clients_tracked\":"), "%s", b.data);
    stats_buf_reset(&b);
    stats_admit_prom(&b, rt);
    cr_assert(strstr(b.data, "proxy_limited_total{route=\"host shop.example path /checkout/\",reason=\"rate\"} 2\n"),
              "%s", b.data);
    cr_assert(strstr(b.data, "proxy_limited_total{route=\"\",reason=\"client-conns\"} "), "%s", b.data);
    cr_assert(strstr(b.data, "\nproxy_clients_tracked "), "%s", b.data);
    stats_buf_free(&b);
    runtime_release(rt);
}

/* ---- connections ---------------------------------------------------------------------------- */

static struct sockaddr_in sin_of(const char *ip)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    cr_assert_eq(inet_pton(AF_INET, ip, &sa.sin_addr), 1);
    return sa;
}

Test(admit_conns, limit_client_conns_counts_each_client_and_skips_trusted_and_cdn_peers)
{
    struct runtime *rt = fixture_runtime("limit client-conns 2\ntrust 10.0.0.0/8\n"
                                         "client-ip header X-Forwarded-For from 192.168.7.0/24\n" POOL);
    struct sockaddr_in c = sin_of("198.18.0.1"), t = sin_of("10.1.2.3"), cdn = sin_of("192.168.7.9");
    uint64_t k[4];
    cr_assert_eq(admit_conn_open(rt, &c, &k[0]), 0);
    cr_assert_eq(admit_conn_open(rt, &c, &k[1]), 0);
    cr_assert_eq(admit_conn_open(rt, &c, &k[2]), -1, "the third connection of one client is refused");
    cr_assert_eq(k[2], CLIENT_KEY_NONE);
    for (int i = 0; i < 5; i++) {
        uint64_t kt, kc;
        cr_assert_eq(admit_conn_open(rt, &t, &kt), 0, "a trusted peer is not counted");
        cr_assert_eq(kt, CLIENT_KEY_NONE);
        cr_assert_eq(admit_conn_open(rt, &cdn, &kc), 0, "a client-ip peer (a CDN node) is not counted");
        cr_assert_eq(kc, CLIENT_KEY_NONE);
    }
    admit_conn_close(k[0]);
    cr_assert_eq(admit_conn_open(rt, &c, &k[0]), 0, "a closed one makes room");
    admit_conn_close(k[0]);
    admit_conn_close(k[1]);
    runtime_release(rt);
}

Test(admit_conns, a_proxy_protocol_client_moves_the_count_off_the_balancer)
{
    struct runtime *rt = fixture_runtime("limit client-conns 1\n" POOL);
    struct sockaddr_in lb = sin_of("198.18.1.1"), a = sin_of("198.18.1.2"), b = sin_of("198.18.1.3");
    uint64_t k1, k2, k3;
    cr_assert_eq(admit_conn_open(rt, &lb, &k1), 0);
    cr_assert_eq(admit_conn_repeer(rt, &a, &k1), 0);
    /* The balancer holds nothing now: its next connection is accepted... */
    cr_assert_eq(admit_conn_open(rt, &lb, &k2), 0);
    /* ...and turns out to be a second connection of a: refused. */
    cr_assert_eq(admit_conn_repeer(rt, &a, &k2), -1);
    cr_assert_eq(k2, CLIENT_KEY_NONE);
    cr_assert_eq(admit_conn_open(rt, &lb, &k3), 0);
    cr_assert_eq(admit_conn_repeer(rt, &b, &k3), 0, "another client behind the balancer is fine");
    admit_conn_close(k1);
    admit_conn_close(k3);
    runtime_release(rt);
}

Test(stats_admit, route_counts_carry_over_a_reload_of_the_same_route)
{
    const char *text = POOL "route path /checkout/ pool web priority high\nroute default pool web\n";
    struct runtime *rt = fixture_runtime(text);
    atomic_store(&rt->routes[0].requests, 40);
    atomic_store(&rt->routes[0].limited, 3);
    atomic_store(&rt->routes[1].requests, 9);
    /* The next file: the checkout route stays (now low), /api/ is new. */
    const char *next = POOL "route path /api/ pool web\nroute path /checkout/ pool web priority low\n"
                            "route default pool web\n";
    struct config_errors errs = {0};
    struct config *cfg = config_parse("t.conf", next, strlen(next), &errs);
    cr_assert_not_null(cfg);
    struct runtime *rt2 = runtime_build(cfg, rt);
    cr_assert_not_null(rt2);
    cr_assert_eq(atomic_load(&rt2->routes[0].requests), 0, "a new route starts at 0");
    cr_assert_eq(atomic_load(&rt2->routes[1].requests), 40);
    cr_assert_eq(atomic_load(&rt2->routes[1].limited), 3);
    cr_assert_eq(atomic_load(&rt2->routes[2].requests), 9);
    runtime_release(rt2);
    runtime_release(rt);
}

Test(stats_admit, the_table_is_made_with_limit_clients_and_counts_its_clients)
{
    struct runtime *rt = fixture_runtime("limit rate 1/s\nlimit clients 2048\n" POOL);
    struct stats_buf b;
    stats_buf_init(&b);
    stats_admit_json(&b, rt);
    cr_assert(strstr(b.data, "\"limits\":{\"clients_tracked\":0,\"capacity\":2048,"), "%s", b.data);
    for (int i = 0; i < 3000; i++) {
        struct in6_addr a;
        memset(&a, 0, sizeof a);
        a.s6_addr[0] = 0x20;
        a.s6_addr[1] = 0x01;
        a.s6_addr[6] = (uint8_t)(i >> 8);
        a.s6_addr[7] = (uint8_t)i;
        admit_rate(rt->cfg, &a, 5 * SEC);
    }
    stats_buf_reset(&b);
    stats_admit_json(&b, rt);
    cr_assert(strstr(b.data, "\"capacity\":2048,"), "%s", b.data);
    struct client_table_stats st;
    client_table_stats(admit_table_peek(), &st);
    cr_assert_leq(st.tracked, 2048, "bounded");
    cr_assert_geq(st.evictions, 3000 - 2048, "3000 /64s in a table of 2048");
    /* CONTRACT 13: the table's size and evictions under their names, in
     * /api/stats and in /metrics, as the table counts them. */
    char want[160];
    snprintf(want, sizeof want, "\"limits\":{\"clients_tracked\":%llu,\"capacity\":2048,\"evictions\":%llu,",
             (unsigned long long)st.tracked, (unsigned long long)st.evictions);
    cr_assert(strstr(b.data, want), "no %s in %s", want, b.data);
    stats_buf_reset(&b);
    stats_admit_prom(&b, rt);
    snprintf(want, sizeof want, "\nproxy_clients_tracked %llu\n", (unsigned long long)st.tracked);
    cr_assert(strstr(b.data, want), "no %s in %s", want, b.data);
    snprintf(want, sizeof want, "\nproxy_client_evictions_total %llu\n", (unsigned long long)st.evictions);
    cr_assert(strstr(b.data, want), "no %s in %s", want, b.data);
    stats_buf_free(&b);
    runtime_release(rt);
}
