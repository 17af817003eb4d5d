/*
 * Unit tests of the router: Host and path-prefix routes, first match wins,
 * `route default`, the port of a Host ignored, host names compared without
 * case, absolute-form targets, and no match (CONTRACT section 2).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "router.h"
#include "runtime.h"
#include "fixtures.h"

#define R_POOLS                                                                   \
    "listen 127.0.0.1:8080\n"                                                     \
    "pool api {\n server a 127.0.0.1:9001\n}\n"                                   \
    "pool shop {\n server s 127.0.0.1:9002\n}\n"                                  \
    "pool static {\n server st 127.0.0.1:9003\n}\n"                               \
    "pool web {\n server w 127.0.0.1:9004\n}\n"

#define R_ROUTES                                                                  \
    "route host shop.example.com path /api/ pool api\n"                           \
    "route host shop.example.com pool shop\n"                                     \
    "route path /static/ pool static\n"                                           \
    "route default pool web\n"

/* The name of the pool a request goes to, or "(none)". */
static const char *route(const struct runtime *rt, const char *host, const char *target)
{
    struct pool *p = router_match(rt, host, strlen(host), target, strlen(target));
    return p ? p->cfg->name : "(none)";
}

static struct runtime *rt_main;

static void r_setup(void)
{
    rt_main = fixture_runtime(R_POOLS R_ROUTES);
}

static void r_teardown(void)
{
    runtime_release(rt_main);
}

TestSuite(router, .init = r_setup, .fini = r_teardown);

Test(router, host_and_path)
{
    cr_assert_str_eq(route(rt_main, "shop.example.com", "/api/v1/items"), "api");
    cr_assert_str_eq(route(rt_main, "shop.example.com", "/api/"), "api");
}

Test(router, host_only)
{
    cr_assert_str_eq(route(rt_main, "shop.example.com", "/"), "shop");
    cr_assert_str_eq(route(rt_main, "shop.example.com", "/cart"), "shop");
}

Test(router, path_only_any_host)
{
    cr_assert_str_eq(route(rt_main, "other.example.com", "/static/app.css"), "static");
    cr_assert_str_eq(route(rt_main, "", "/static/x"), "static");
}

Test(router, default_route)
{
    cr_assert_str_eq(route(rt_main, "other.example.com", "/"), "web");
    cr_assert_str_eq(route(rt_main, "other.example.com", "/api/v1"), "web");
    cr_assert_str_eq(route(rt_main, "", "/"), "web");
}

Test(router, first_match_wins)
{
    /* /static/ on shop.example.com matches the host-only route first. */
    cr_assert_str_eq(route(rt_main, "shop.example.com", "/static/x"), "shop");
}

Test(router, first_match_wins_between_prefixes)
{
    struct runtime *rt = fixture_runtime(R_POOLS "route path /a/ pool api\nroute path /a/b/ pool shop\n"
                                           "route default pool web\n");
    cr_assert_str_eq(route(rt, "h", "/a/b/c"), "api");
    runtime_release(rt);
}

Test(router, default_route_before_others_wins)
{
    struct runtime *rt = fixture_runtime(R_POOLS "route default pool web\nroute path /static/ pool static\n");
    cr_assert_str_eq(route(rt, "h", "/static/x"), "web");
    runtime_release(rt);
}

Test(router, host_with_port)
{
    cr_assert_str_eq(route(rt_main, "shop.example.com:8080", "/api/x"), "api");
    cr_assert_str_eq(route(rt_main, "shop.example.com:80", "/"), "shop");
    cr_assert_str_eq(route(rt_main, "shop.example.com.evil:80", "/"), "web");
}

Test(router, host_is_case_insensitive)
{
    cr_assert_str_eq(route(rt_main, "SHOP.Example.COM", "/api/x"), "api");
    cr_assert_str_eq(route(rt_main, "Shop.Example.Com:8080", "/"), "shop");
}

Test(router, host_must_match_whole)
{
    cr_assert_str_eq(route(rt_main, "shop.example.co", "/"), "web");
    cr_assert_str_eq(route(rt_main, "xshop.example.com", "/"), "web");
}

/* A fully qualified name's trailing dot names the same host (as nginx
 * takes it); a dot alone is no name. */
Test(router, a_trailing_dot_is_the_same_host)
{
    cr_assert_str_eq(route(rt_main, "shop.example.com.", "/"), "shop");
    cr_assert_str_eq(route(rt_main, "shop.example.com.:8080", "/"), "shop");
    cr_assert_str_eq(route(rt_main, "shop.example.com..", "/"), "web");
}

Test(router, path_is_a_case_sensitive_prefix)
{
    cr_assert_str_eq(route(rt_main, "shop.example.com", "/API/x"), "shop");
    cr_assert_str_eq(route(rt_main, "shop.example.com", "/api"), "shop");
    cr_assert_str_eq(route(rt_main, "shop.example.com", "/apix"), "shop");
    cr_assert_str_eq(route(rt_main, "h", "/static"), "web");
    cr_assert_str_eq(route(rt_main, "h", "/static/?q"), "static");
}

Test(router, absolute_form_target)
{
    cr_assert_str_eq(route(rt_main, "shop.example.com", "http://shop.example.com/api/v1"), "api");
    cr_assert_str_eq(route(rt_main, "other", "http://other/static/a.css"), "static");
    cr_assert_str_eq(route(rt_main, "other", "http://other:8080/static/a.css"), "static");
    cr_assert_str_eq(route(rt_main, "other", "http://other"), "web");
    cr_assert_str_eq(route(rt_main, "other", "HTTP://other/static/x"), "static");
}

/* An absolute-form target whose authority disagrees with Host never gets
 * here (http_parse_request answers 400), so routing by Host is routing by
 * the target's host; see http_request_errors::absolute_form_host_mismatch_is_400. */

Test(router, no_match_is_null)
{
    struct runtime *rt = fixture_runtime(R_POOLS "route host a.example pool api\nroute path /s/ pool static\n");
    cr_assert_str_eq(route(rt, "b.example", "/"), "(none)");
    cr_assert_str_eq(route(rt, "", "/x"), "(none)");
    cr_assert_str_eq(route(rt, "a.example", "/"), "api");
    cr_assert_str_eq(route(rt, "b.example", "/s/1"), "static");
    runtime_release(rt);
}

Test(router, single_pool_without_routes_takes_everything)
{
    struct runtime *rt = fixture_runtime("listen 127.0.0.1:8080\npool only {\n server a 127.0.0.1:9001\n}\n");
    cr_assert_str_eq(route(rt, "anything", "/any"), "only");
    cr_assert_str_eq(route(rt, "", "*"), "only");
    runtime_release(rt);
}

Test(router, ipv6_host_literal_port_ignored)
{
    struct runtime *rt = fixture_runtime(R_POOLS "route host [::1] pool api\nroute default pool web\n");
    cr_assert_str_eq(route(rt, "[::1]:8080", "/"), "api");
    cr_assert_str_eq(route(rt, "[::1]", "/"), "api");
    cr_assert_str_eq(route(rt, "[::2]:8080", "/"), "web");
    runtime_release(rt);
}

/* Host names as nginx users write them (issue 14): "*.NAME" is any
 * subdomain, ".NAME" the name and any subdomain, exact names win over
 * wildcards whatever their order. */
Test(router, wildcard_hosts)
{
    struct runtime *rt = fixture_runtime(R_POOLS
        "route host *.example.com pool api\n"
        "route host shop.example.com pool shop\n"
        "route host .example.org pool static\n"
        "route default pool web\n");

    cr_assert_str_eq(route(rt, "a.example.com", "/"), "api");
    cr_assert_str_eq(route(rt, "A.B.Example.COM:8080", "/"), "api");
    cr_assert_str_eq(route(rt, "example.com", "/"), "web", "*.NAME does not match NAME itself");
    cr_assert_str_eq(route(rt, "xexample.com", "/"), "web", "a suffix must start at a label");
    cr_assert_str_eq(route(rt, "shop.example.com", "/"), "shop", "the exact name wins over a wildcard before it");
    cr_assert_str_eq(route(rt, "example.org", "/"), "static");
    cr_assert_str_eq(route(rt, "www.example.org", "/"), "static");
    cr_assert_str_eq(route(rt, "badexample.org", "/"), "web");
    cr_assert_str_eq(route(rt, "*.example.com", "/"), "api");
    runtime_release(rt);
}
