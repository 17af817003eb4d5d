/*
 * Unit tests of sticky sessions (sticky.c, balance_pick_sticky): the
 * cookie's ids (opaque, stable under one secret, different per server,
 * pool and secret), looking them up (forged and stale values refused),
 * Cookie field parsing and stripping, the request head after stripping
 * byte for byte, the Set-Cookie line, the `sticky` directives, and the
 * rule of which server takes a request that carries its cookie, and the
 * per-pool counts in /api/stats and /metrics.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "balance.h"
#include "clock.h"
#include "config.h"
#include "fixtures.h"
#include "http.h"
#include "runtime.h"
#include "stats_json.h"
#include "sticky.h"
#include "sticky_txn.h"
#include "sticky_cookie.h"

#define SECRET "0123456789abcdef-shared"

static const char *id_of(const char *secret, const char *pool, const char *server, char out[STICKY_ID_LEN + 1])
{
    sticky_id_make(secret, strlen(secret), pool, server, out);
    return out;
}

/* ---- ids ------------------------------------------------------------------------------------ */

Test(sticky_id, opaque_base64url_of_fixed_length)
{
    char id[STICKY_ID_LEN + 1];
    id_of(SECRET, "web", "app1", id);
    cr_assert_eq(strlen(id), STICKY_ID_LEN);
    cr_assert_eq(strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), STICKY_ID_LEN,
                 "id %s", id);
    cr_assert_null(strstr(id, "app1"));
    cr_assert_null(strstr(id, "web"));
}

Test(sticky_id, stable_for_one_secret_and_different_per_server_pool_and_secret)
{
    char a[STICKY_ID_LEN + 1], b[STICKY_ID_LEN + 1];

    cr_assert_str_eq(id_of(SECRET, "web", "app1", a), id_of(SECRET, "web", "app1", b));
    cr_assert_str_neq(id_of(SECRET, "web", "app1", a), id_of(SECRET, "web", "app2", b));
    cr_assert_str_neq(id_of(SECRET, "web", "app1", a), id_of(SECRET, "api", "app1", b));
    cr_assert_str_neq(id_of(SECRET, "web", "app1", a), id_of(SECRET "x", "web", "app1", b));
    /* The names are kept apart: "we"+"bapp1" is not "web"+"app1". */
    cr_assert_str_neq(id_of(SECRET, "web", "app1", a), id_of(SECRET, "we", "bapp1", b));
}

Test(sticky_id, known_value_pins_the_format)
{
    /* Balancers of different builds must agree: HMAC-SHA256 over
     * "proxy sticky v1\0web\0app1", first 12 bytes, base64url (checked
     * with Python's hmac and base64.urlsafe_b64encode). */
    char id[STICKY_ID_LEN + 1];
    cr_assert_str_eq(id_of(SECRET, "web", "app1", id), "eEoql1TWMdNfi781");
}

/* ---- a pool's ids ------------------------------------------------------------------------------ */

#define TWO_POOLS(top) top "listen 127.0.0.1:8080\n" \
    "pool web {\n sticky cookie SRV\n server a 127.0.0.1:9001\n server b 127.0.0.1:9002\n}\n" \
    "pool api {\n sticky cookie SRV\n server a 127.0.0.1:9011\n}\n" \
    "pool plain {\n server a 127.0.0.1:9021\n}\n" \
    "route path /api/ pool api\nroute default pool web\n"

Test(sticky_pool, configured_secret_gives_its_hmac_ids)
{
    struct runtime *rt = fixture_runtime(TWO_POOLS("sticky secret " SECRET "\n"));
    struct pool *web = runtime_find_pool(rt, "web");
    char want[STICKY_ID_LEN + 1];

    cr_assert_str_eq(sticky_pool_id(web, pool_find_server(web, "a")), id_of(SECRET, "web", "a", want));
    cr_assert_str_eq(sticky_pool_id(web, pool_find_server(web, "b")), id_of(SECRET, "web", "b", want));
    runtime_release(rt);
}

Test(sticky_pool, lookup_finds_the_server_and_refuses_forged_stale_and_foreign_values)
{
    struct runtime *rt = fixture_runtime(TWO_POOLS(""));
    struct pool *web = runtime_find_pool(rt, "web"), *api = runtime_find_pool(rt, "api");
    struct server *b = pool_find_server(web, "b");
    char v[STICKY_ID_LEN + 1];

    snprintf(v, sizeof v, "%s", sticky_pool_id(web, b));
    cr_assert_eq(sticky_pool_lookup(web, v, STICKY_ID_LEN), b);
    /* One character changed: forged. */
    v[3] = v[3] == 'A' ? 'B' : 'A';
    cr_assert_null(sticky_pool_lookup(web, v, STICKY_ID_LEN));
    /* Too short or too long. */
    snprintf(v, sizeof v, "%s", sticky_pool_id(web, b));
    cr_assert_null(sticky_pool_lookup(web, v, STICKY_ID_LEN - 1));
    cr_assert_null(sticky_pool_lookup(web, "", 0));
    /* Server a of pool api is not server a of pool web. */
    const char *api_a = sticky_pool_id(api, pool_find_server(api, "a"));
    cr_assert_null(sticky_pool_lookup(web, api_a, STICKY_ID_LEN));
    /* Under a different secret the ids differ: stale after a change. */
    char other[STICKY_ID_LEN + 1];
    cr_assert_null(sticky_pool_lookup(web, id_of(SECRET, "web", "b", other), STICKY_ID_LEN));
    /* A pool without sticky has no ids. */
    struct pool *plain = runtime_find_pool(rt, "plain");
    cr_assert_null(plain->sticky_ids);
    cr_assert_null(sticky_pool_id(plain, plain->servers[0]));
    runtime_release(rt);
}

Test(sticky_pool, random_secret_is_kept_across_generations)
{
    /* A reload builds the next generation: the same random key, so the
     * cookies clients hold stay valid. */
    struct runtime *rt1 = fixture_runtime(TWO_POOLS(""));
    struct runtime *rt2 = fixture_runtime(TWO_POOLS(""));
    struct pool *w1 = runtime_find_pool(rt1, "web"), *w2 = runtime_find_pool(rt2, "web");

    cr_assert_str_eq(w1->sticky_ids, w2->sticky_ids);
    cr_assert_str_neq(sticky_pool_id(w1, w1->servers[0]), sticky_pool_id(w1, w1->servers[1]));
    runtime_release(rt1);
    runtime_release(rt2);
}

/* ---- Cookie fields ------------------------------------------------------------------------------ */

static const char *find(const char *v, const char *name)
{
    static char out[256];
    const char *val;
    size_t n;
    if (!sticky_cookie_find(v, strlen(v), name, &val, &n))
        return NULL;
    snprintf(out, sizeof out, "%.*s", (int)n, val);
    return out;
}

Test(sticky_cookie, find_among_several_cookies)
{
    cr_assert_str_eq(find("SRV=abc", "SRV"), "abc");
    cr_assert_str_eq(find("a=1; SRV=abc; b=2", "SRV"), "abc");
    cr_assert_str_eq(find("a=1;SRV=abc;b=2", "SRV"), "abc");
    cr_assert_str_eq(find("  a=1 ;  SRV = abc  ; b=2", "SRV"), "abc");
    cr_assert_str_eq(find("SRV=first; SRV=second", "SRV"), "first");
    cr_assert_str_eq(find("a=x=y; SRV=", "SRV"), "");
    /* Names match exactly: not a prefix, not another case, not inside a value. */
    cr_assert_null(find("SRVX=1; XSRV=2; srv=3; a=SRV=4", "SRV"));
    cr_assert_null(find("SRV; ;;", "SRV"));
    cr_assert_null(find("", "SRV"));
}

static const char *strip(const char *v, const char *name)
{
    static char buf[256];
    snprintf(buf, sizeof buf, "%s", v);
    size_t n = sticky_cookie_strip(buf, strlen(buf), name);
    buf[n] = '\0';
    return buf;
}

Test(sticky_cookie, strip_keeps_the_other_cookies_as_they_came)
{
    cr_assert_str_eq(strip("a=1; SRV=abc; b=2", "SRV"), "a=1; b=2");
    cr_assert_str_eq(strip("SRV=abc; a=1; b=2", "SRV"), "a=1; b=2");
    cr_assert_str_eq(strip("a=1; b=2; SRV=abc", "SRV"), "a=1; b=2");
    cr_assert_str_eq(strip("a=1;SRV=abc;b=2", "SRV"), "a=1;b=2");
    cr_assert_str_eq(strip("a=1;b=\"q; r\"", "SRV"), "a=1;b=\"q; r\"");
    cr_assert_str_eq(strip("SRV=x; a=1; SRV=y; SRVX=2", "SRV"), "a=1; SRVX=2");
    cr_assert_str_eq(strip("SRV=abc", "SRV"), "");
    cr_assert_str_eq(strip("SRV=a; SRV=b", "SRV"), "");
}

/* ---- the request head -------------------------------------------------------------------------- */

struct head_case {
    char buf[1024];
    size_t len;
    struct http_field fields[32];
    struct http_head h;
    struct http_msg m;
};

static void parse_head(struct head_case *c, const char *text, const char *body)
{
    memset(c, 0, sizeof *c);
    c->len = (size_t)snprintf(c->buf, sizeof c->buf, "%s%s", text, body);
    c->h.fields = c->fields;
    c->h.max_fields = 32;
    cr_assert_eq(http_parse_request(&c->m, c->buf, strlen(text), &c->h), 0);
}

/* Strips SRV; returns the buffer as it is then (the head and the bytes
 * after it), having checked that a fresh parse of the shorter head finds
 * the fields, and Host, where the strip says they are now. */
static const char *strip_head(struct head_case *c, const char **found, int *present)
{
    static char value[STICKY_ID_LEN + 1];
    struct http_field fields2[32];
    struct http_head h2 = { .fields = fields2, .max_fields = 32 };
    struct http_msg m2;

    c->len = sticky_head_strip(c->buf, c->len, &c->h, "SRV", value, sizeof value, present);
    c->buf[c->len] = '\0';
    *found = value;
    memset(&m2, 0, sizeof m2);
    cr_assert_eq(http_parse_request(&m2, c->buf, c->h.len, &h2), 0, "the stripped head: %s", c->buf);
    cr_assert_eq(h2.nfields, c->h.nfields);
    cr_assert_eq(h2.host_off, c->h.host_off);
    for (uint32_t i = 0; i < h2.nfields; i++) {
        cr_assert_eq(h2.fields[i].name_off, c->h.fields[i].name_off, "field %u", i);
        cr_assert_eq(h2.fields[i].value_off, c->h.fields[i].value_off, "field %u", i);
        cr_assert_eq(h2.fields[i].value_len, c->h.fields[i].value_len, "field %u", i);
    }
    return c->buf;
}

Test(sticky_head, strips_ours_keeps_the_rest_and_fixes_the_offsets)
{
    struct head_case c;
    const char *found;
    int present;

    parse_head(&c, "POST /cart HTTP/1.1\r\nCookie: a=1; SRV=abcdefghijklmnop; b=2\r\nHost: shop\r\n"
                   "Content-Length: 4\r\n\r\n", "body");
    const char *out = strip_head(&c, &found, &present);
    cr_assert_eq(present, 1);
    cr_assert_str_eq(found, "abcdefghijklmnop");
    cr_assert_str_eq(out, "POST /cart HTTP/1.1\r\nCookie: a=1; b=2\r\nHost: shop\r\nContent-Length: 4\r\n\r\nbody");
    cr_assert_eq(c.h.host_len, 4);
    cr_assert_eq(memcmp(c.buf + c.h.host_off, "shop", 4), 0);
}

Test(sticky_head, a_field_with_only_ours_is_dropped_and_every_field_is_stripped)
{
    struct head_case c;
    const char *found;
    int present;

    parse_head(&c, "GET / HTTP/1.1\r\nHost: shop\r\nCookie: SRV=first\r\nAccept: */*\r\n"
                   "cookie: x=1; SRV=second\r\nCookie: SRV=third\r\n\r\n", "");
    const char *out = strip_head(&c, &found, &present);
    cr_assert_eq(present, 1);
    cr_assert_str_eq(found, "first");
    cr_assert_str_eq(out, "GET / HTTP/1.1\r\nHost: shop\r\nAccept: */*\r\ncookie: x=1\r\n\r\n");
    cr_assert_eq(c.h.nfields, 3);
}

Test(sticky_head, without_our_cookie_nothing_changes)
{
    struct head_case c;
    const char *found;
    int present;

    parse_head(&c, "GET / HTTP/1.1\r\nHost: shop\r\nCookie: SRVX=1; session=2\r\n\r\n", "");
    size_t len = c.len;
    const char *out = strip_head(&c, &found, &present);
    cr_assert_eq(present, 0);
    cr_assert_str_eq(found, "");
    cr_assert_eq(c.len, len);
    cr_assert_str_eq(out, "GET / HTTP/1.1\r\nHost: shop\r\nCookie: SRVX=1; session=2\r\n\r\n");
}

Test(sticky_head, an_overlong_value_is_present_but_names_no_server)
{
    struct head_case c;
    const char *found;
    int present;

    parse_head(&c, "GET / HTTP/1.1\r\nHost: shop\r\nCookie: SRV=abcdefghijklmnopqrstuvwxyz\r\n\r\n", "");
    strip_head(&c, &found, &present);
    cr_assert_eq(present, 1);
    cr_assert_str_eq(found, "");
}

/* ---- Set-Cookie -------------------------------------------------------------------------------- */

Test(sticky_set_cookie, exact_bytes)
{
    char out[256];

    cr_assert_eq(sticky_set_cookie(out, sizeof out, "SRV", "abcdefghijklmnop", 0, 0),
                 strlen("Set-Cookie: SRV=abcdefghijklmnop; Path=/; HttpOnly; SameSite=Lax\r\n"));
    cr_assert_str_eq(out, "Set-Cookie: SRV=abcdefghijklmnop; Path=/; HttpOnly; SameSite=Lax\r\n");
    sticky_set_cookie(out, sizeof out, "SRV", "abcdefghijklmnop", 3600, 0);
    cr_assert_str_eq(out, "Set-Cookie: SRV=abcdefghijklmnop; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax\r\n");
    sticky_set_cookie(out, sizeof out, "SRV", "abcdefghijklmnop", 60, 1);
    cr_assert_str_eq(out, "Set-Cookie: SRV=abcdefghijklmnop; Path=/; Max-Age=60; HttpOnly; Secure; SameSite=Lax\r\n");
    cr_assert_eq(sticky_set_cookie(out, 20, "SRV", "abcdefghijklmnop", 0, 0), 0);
}

/* ---- the directives ------------------------------------------------------------------------------ */

static struct config *parse(const char *text, struct config_errors *errs)
{
    return config_parse("t.conf", text, strlen(text), errs);
}

static void expect_error(const char *text, const char *want)
{
    struct config_errors errs = { 0 };
    struct config *cfg = parse(text, &errs);

    cr_assert_null(cfg);
    for (size_t i = 0; i < errs.n; i++)
        cr_log_info("got: %s", errs.msgs[i]);
    cr_assert_eq(errs.n, 1, "expected 1 error, got %zu", errs.n);
    cr_assert_str_eq(errs.msgs[0], want);
    config_errors_clear(&errs);
}

#define POOL(body) "listen 127.0.0.1:8080\npool web {\n" body "\n server a 127.0.0.1:9001\n}\n"

Test(sticky_config, values)
{
    struct config_errors errs = { 0 };
    struct config *cfg = parse("sticky secret " SECRET "\n" POOL(" sticky cookie SRV max-age 2h"), &errs);
    cr_assert_not_null(cfg);
    cr_assert_str_eq(cfg->sticky_secret, SECRET);
    cr_assert_str_eq(cfg->pools[0].sticky_cookie, "SRV");
    cr_assert_eq(cfg->pools[0].sticky_max_age_ms, 7200000);
    config_free(cfg);

    cfg = parse(POOL(" sticky cookie shop_srv"), &errs);
    cr_assert_not_null(cfg);
    cr_assert_str_eq(cfg->sticky_secret, "");
    cr_assert_str_eq(cfg->pools[0].sticky_cookie, "shop_srv");
    cr_assert_eq(cfg->pools[0].sticky_max_age_ms, 0);
    config_free(cfg);

    cfg = parse(POOL(""), &errs);
    cr_assert_not_null(cfg);
    cr_assert_str_eq(cfg->pools[0].sticky_cookie, "");
    config_free(cfg);
}

Test(sticky_config, errors)
{
    expect_error(POOL(" sticky cookie"),
                 "t.conf:3: sticky: wrong number of arguments (expected \"sticky cookie NAME [max-age DURATION]\")");
    expect_error(POOL(" sticky source SRV"),
                 "t.conf:3: sticky: expected \"sticky cookie NAME [max-age DURATION]\"");
    expect_error(POOL(" sticky cookie SRV max-age"),
                 "t.conf:3: sticky: expected \"sticky cookie NAME [max-age DURATION]\"");
    expect_error(POOL(" sticky cookie SRV expires 1h"),
                 "t.conf:3: sticky: expected \"sticky cookie NAME [max-age DURATION]\"");
    expect_error(POOL(" sticky cookie \"S;V\""),
                 "t.conf:3: sticky cookie: invalid name \"S;V\" (expected 1-63 letters, digits, '-', '_' or '.')");
    expect_error(POOL(" sticky cookie SRV max-age 3600"),
                 "t.conf:3: sticky cookie max-age: missing unit in \"3600\" (expected e.g. 250ms, 2s, 5m, 1h)");
    expect_error(POOL(" sticky cookie SRV max-age 500ms"),
                 "t.conf:3: sticky cookie max-age: at least 1s, got \"500ms\"");
    expect_error(POOL(" sticky cookie SRV\n sticky cookie OTHER"),
                 "t.conf:4: duplicate \"sticky\" (first defined at line 3)");
    expect_error("sticky secret short\n" POOL(""),
                 "t.conf:1: sticky secret: at least 16 characters (e.g. from openssl rand -hex 16)");
    expect_error("sticky cookie SRV\n" POOL(""),
                 "t.conf:1: sticky: expected \"sticky secret STRING\" here (\"sticky cookie NAME\" goes in a pool)");
}

/* ---- which server takes a sticky request ------------------------------------------------------ */

static struct runtime *choice_rt;

static struct pool *choice_pool(const char *servers)
{
    char text[1024];
    snprintf(text, sizeof text, "listen 127.0.0.1:8080\npool web {\n check off\n sticky cookie SRV\n%s}\n", servers);
    choice_rt = fixture_runtime(text);
    return runtime_find_pool(choice_rt, "web");
}

static struct server *sticky_pick(struct pool *p, const char *name)
{
    return balance_pick_sticky(p, pool_find_server(p, name), now_ms());
}

Test(sticky_choice, up_and_draining_take_it_down_and_disabled_do_not)
{
    struct pool *p = choice_pool(" server a 127.0.0.1:9001\n server b 127.0.0.1:9002\n");
    struct server *a = pool_find_server(p, "a");

    cr_assert_eq(sticky_pick(p, "a"), a);
    cr_assert_eq(atomic_load(&a->active), 1, "a slot is taken");
    balance_release(a);

    atomic_store(&a->admin, ADMIN_DRAIN);
    cr_assert_eq(sticky_pick(p, "a"), a, "a draining server still takes its sticky requests");
    balance_release(a);
    /* ... while new requests do not go there. */
    int result;
    for (int i = 0; i < 4; i++) {
        struct server *s = balance_pick(p, now_ms(), NULL, 0, 0, &result);
        cr_assert_eq(s, pool_find_server(p, "b"));
        balance_release(s);
    }

    atomic_store(&a->admin, ADMIN_DISABLE);
    cr_assert_null(sticky_pick(p, "a"));
    atomic_store(&a->admin, ADMIN_NONE);
    atomic_store(&a->state, SRV_DOWN);
    cr_assert_null(sticky_pick(p, "a"));
    atomic_store(&a->state, SRV_UP);
    atomic_store(&a->removed, 1);
    cr_assert_null(sticky_pick(p, "a"), "a server a reload removed");
    cr_assert_eq(atomic_load(&a->active), 0, "no slot left taken");
    runtime_release(choice_rt);
}

Test(sticky_choice, a_full_server_or_a_queue_means_balancing)
{
    struct pool *p = choice_pool(" server a 127.0.0.1:9001 max-conns 1\n server b 127.0.0.1:9002\n");
    struct server *a = pool_find_server(p, "a");

    cr_assert_eq(sticky_pick(p, "a"), a);
    cr_assert_null(sticky_pick(p, "a"), "at max-conns");
    cr_assert_eq(atomic_load(&a->active), 1);
    balance_release(a);

    struct queue_waiter w = { .worker = 0 };
    cr_assert_geq(balance_queue(p->shared, &w, 10, 0), 0);
    cr_assert_null(sticky_pick(p, "a"), "requests wait in the pool's queue: no overtaking them");
    balance_dequeue(p->shared, &w);
    cr_assert_eq(sticky_pick(p, "a"), a);
    balance_release(a);
    runtime_release(choice_rt);
}

Test(sticky_choice, a_standby_only_while_standbys_are_in_use)
{
    struct pool *p = choice_pool(" server a 127.0.0.1:9001\n standby s 127.0.0.1:9003\n");
    struct server *a = pool_find_server(p, "a"), *s = pool_find_server(p, "s");

    cr_assert_null(sticky_pick(p, "s"), "the primary is up: the standby takes nothing");
    atomic_store(&a->state, SRV_DOWN);
    cr_assert_eq(sticky_pick(p, "s"), s);
    balance_release(s);
    runtime_release(choice_rt);
}

Test(sticky_choice, counts_the_request_at_the_pool)
{
    struct pool *p = choice_pool(" server a 127.0.0.1:9001\n");
    struct server *a = pool_find_server(p, "a");
    metrics_request_started(now_ms());
    cr_assert_eq(sticky_pick(p, "a"), a);
    cr_assert_eq(atomic_load(&p->shared->requests), 1);
    balance_release(a);
    runtime_release(choice_rt);
}

/* ---- stats ------------------------------------------------------------------------------------- */

Test(sticky_stats, json_and_prometheus_per_pool)
{
    struct runtime *rt = fixture_runtime(TWO_POOLS(""));
    struct pool *web = runtime_find_pool(rt, "web");
    struct stats_buf b;

    atomic_store(&web->shared->sticky_hits, 7);
    atomic_store(&web->shared->sticky_resticks, 2);
    stats_buf_init(&b);
    cr_assert_eq(stats_json_render(&b, rt, now_ms()), 0);
    cr_assert(strstr(b.data, "\"sticky\":{\"cookie\":\"SRV\",\"hits\":7,\"resticks\":2}}"), "%s", b.data);
    cr_assert(strstr(b.data, "\"sticky\":{\"cookie\":\"SRV\",\"hits\":0,\"resticks\":0}}"), "%s", b.data);
    cr_assert(strstr(b.data, "\"sticky\":{\"cookie\":null,\"hits\":0,\"resticks\":0}}"), "%s", b.data);
    stats_buf_free(&b);

    stats_buf_init(&b);
    cr_assert_eq(stats_prom_render(&b, rt, now_ms()), 0);
    cr_assert(strstr(b.data, "# TYPE proxy_sticky_total counter\n"), "%s", b.data);
    cr_assert(strstr(b.data, "proxy_sticky_total{pool=\"web\",result=\"hit\"} 7\n"
                             "proxy_sticky_total{pool=\"web\",result=\"restick\"} 2\n"
                             "proxy_sticky_total{pool=\"api\",result=\"hit\"} 0\n"), "%s", b.data);
    cr_assert_null(strstr(b.data, "proxy_sticky_total{pool=\"plain\""), "a pool without sticky has no series");
    stats_buf_free(&b);
    runtime_release(rt);
}
