/*
 * Unit tests of servers given by host name: the address workers read
 * (server_addr), how a runtime builds and carries such servers over a
 * reload, and the resolver's answers through a hosts file of the test's
 * (CARES_HOSTS) on a loop of its own.  The DNS side (NXDOMAIN, answers
 * that change) is tests/scenario/deploy_host_names.sh.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <ev.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixtures.h"
#include "health.h"
#include "resolve.h"
#include "server_addr.h"

static struct sockaddr_in v4(const char *ip, unsigned port)
{
    struct sockaddr_in sin;

    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, ip, &sin.sin_addr);
    return sin;
}

Test(server_addr, store_load_and_version)
{
    struct server_addr a;
    struct sockaddr_storage ss;
    socklen_t len = 99;
    struct sockaddr_in one = v4("10.0.0.1", 80), two = v4("10.0.0.2", 80);
    struct sockaddr_in6 six;

    memset(&a, 0, sizeof a);
    unsigned v0 = server_addr_load(&a, &ss, &len);
    cr_assert_eq(len, 0, "a new one has no address");

    cr_assert_eq(server_addr_store(&a, (struct sockaddr *)&one, sizeof one), 0);
    unsigned v1 = server_addr_load(&a, &ss, &len);
    cr_assert_eq(len, sizeof one);
    cr_assert_eq(memcmp(&ss, &one, sizeof one), 0);
    cr_assert_neq(v1, v0);
    cr_assert_eq(server_addr_version(&a), v1, "unchanged: same version");

    server_addr_store(&a, (struct sockaddr *)&two, sizeof two);
    cr_assert_neq(server_addr_version(&a), v1, "a connection made at v1 is stale now");
    server_addr_load(&a, &ss, &len);
    cr_assert_eq(memcmp(&ss, &two, sizeof two), 0);

    memset(&six, 0, sizeof six);
    six.sin6_family = AF_INET6;
    six.sin6_port = htons(443);
    inet_pton(AF_INET6, "2001:db8::7", &six.sin6_addr);
    cr_assert_eq(server_addr_store(&a, (struct sockaddr *)&six, sizeof six), 0);
    server_addr_load(&a, &ss, &len);
    cr_assert_eq(len, sizeof six);
    cr_assert_eq(memcmp(&ss, &six, sizeof six), 0);

    char ip[64];
    cr_assert_eq(server_addr_ip(&ss, ip, sizeof ip), 0);
    cr_assert_str_eq(ip, "2001:db8::7", "no brackets, no port: a certificate's IP");

    server_addr_store(&a, NULL, 0);
    server_addr_load(&a, &ss, &len);
    cr_assert_eq(len, 0);
    cr_assert_eq(server_addr_ip(&ss, ip, sizeof ip), -1, "no address, no text");
    server_addr_store(&a, (struct sockaddr *)&one, sizeof one);
    server_addr_load(&a, &ss, &len);
    cr_assert_eq(server_addr_ip(&ss, ip, sizeof ip), 0);
    cr_assert_str_eq(ip, "10.0.0.1");
    server_addr_store(&a, NULL, 0);
    cr_assert_eq(server_addr_store(&a, (struct sockaddr *)&ss, sizeof ss), -1,
                 "larger than any IP socket address: refused");
}

#define TWO_SERVERS "listen 127.0.0.1:8080\npool web {\n check off\n server ip 127.0.0.1:9001\n" \
                    " server named app.test:9002\n}\n"

Test(resolve_runtime, a_named_server_starts_down_without_an_address)
{
    struct runtime *rt = fixture_runtime(TWO_SERVERS);
    struct server *ip = pool_find_server(&rt->pools[0], "ip");
    struct server *named = pool_find_server(&rt->pools[0], "named");
    struct sockaddr_storage ss;
    socklen_t len;

    cr_assert_str_eq(ip->host, "");
    cr_assert_eq(atomic_load(&ip->state), SRV_UP);
    server_addr_load(&ip->target, &ss, &len);
    cr_assert_eq(len, sizeof(struct sockaddr_in), "given by IP: workers have it at once");

    cr_assert_str_eq(named->host, "app.test");
    cr_assert_eq(named->port, 9002);
    cr_assert_eq(atomic_load(&named->state), SRV_DOWN, "no traffic before it resolves");
    cr_assert_eq(named->addr.len, 0);
    cr_assert_str_eq(named->addr.text, "");
    server_addr_load(&named->target, &ss, &len);
    cr_assert_eq(len, 0);
    runtime_release(rt);
}

static struct runtime *reload(struct runtime *prev, const char *text)
{
    struct config_errors errs = { 0 };
    struct config *cfg = config_parse("t.conf", text, strlen(text), &errs);

    cr_assert_not_null(cfg);
    struct runtime *rt = runtime_build(cfg, prev);
    cr_assert_not_null(rt);
    return rt;
}

Test(resolve_runtime, reload_keeps_a_server_by_name_and_port)
{
    struct runtime *r1 = fixture_runtime(TWO_SERVERS);
    struct server *named = pool_find_server(&r1->pools[0], "named");
    struct runtime *r2 = reload(r1, "listen 127.0.0.1:8080\npool web {\n check off\n"
                                    " server named APP.test:9002\n}\n");
    struct runtime *r3 = reload(r1, "listen 127.0.0.1:8080\npool web {\n check off\n"
                                    " server named app.test:9003\n}\n");
    struct runtime *r4 = reload(r1, "listen 127.0.0.1:8080\npool web {\n check off\n"
                                    " server named 127.0.0.1:9002\n}\n");

    cr_assert_eq(pool_find_server(&r2->pools[0], "named"), named,
                 "same name (any case) and port: its state and address carry over");
    cr_assert_neq(pool_find_server(&r3->pools[0], "named"), named, "another port: a new server");
    cr_assert_neq(pool_find_server(&r4->pools[0], "named"), named, "now by IP: a new server");
    runtime_release(r4);
    runtime_release(r3);
    runtime_release(r2);
    runtime_release(r1);
}

/* ---- the resolver, on a hosts file of the test's ------------------------------ */

static char hosts_path[64];

static void write_hosts(const char *text)
{
    FILE *f = fopen(hosts_path, "w");

    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

static void resolver_env(void)
{
    int fd;

    snprintf(hosts_path, sizeof hosts_path, "/tmp/proxy-test-hosts-XXXXXX");
    fd = mkstemp(hosts_path);
    cr_assert_geq(fd, 0);
    close(fd);
    setenv("CARES_HOSTS", hosts_path, 1);
    /* A name the hosts file lacks goes to DNS: to a port where nothing
     * listens, so the answer is a quick "connection refused", never the
     * network of the machine running the tests. */
    setenv("PROXY_DNS_SERVERS", "127.0.0.1:1", 1);
}

static void resolver_env_done(void)
{
    unlink(hosts_path);
    unsetenv("CARES_HOSTS");
    unsetenv("PROXY_DNS_SERVERS");
}

TestSuite(resolve, .init = resolver_env, .fini = resolver_env_done);

Test(resolve, hosts_file_answers_and_changes)
{
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    struct runtime *rt = fixture_runtime(TWO_SERVERS);
    struct server *named = pool_find_server(&rt->pools[0], "named");
    struct sockaddr_storage ss;
    socklen_t len;
    char text[INET_ADDRSTRLEN];

    write_hosts("127.0.0.2 app.test\n");
    cr_assert_eq(resolve_start(loop), 0);
    resolve_apply(rt);
    resolve_settle(2000);
    cr_assert_eq(named->resolve_state, RESOLVE_OK);
    cr_assert_str_eq(named->addr.text, "127.0.0.2:9002");
    cr_assert_eq(atomic_load(&named->state), SRV_UP, "its first address puts it up");
    cr_assert_eq(atomic_load(&named->up_since_ms), 0, "up from the start: no slow start");
    unsigned version = server_addr_load(&named->target, &ss, &len);
    cr_assert_eq(len, sizeof(struct sockaddr_in));
    inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, text, sizeof text);
    cr_assert_str_eq(text, "127.0.0.2");
    cr_assert_eq(ntohs(((struct sockaddr_in *)&ss)->sin_port), 9002);

    /* Another address: the workers' copy moves, its version says so. */
    write_hosts("127.0.0.3 app.test\n");
    resolve_apply(rt);
    resolve_settle(2000);
    cr_assert_str_eq(named->addr.text, "127.0.0.3:9002");
    cr_assert_neq(server_addr_version(&named->target), version);
    cr_assert_eq(atomic_load(&named->state), SRV_UP);

    /* No answer at all (DNS refused): an address it has stays. */
    write_hosts("");
    resolve_apply(rt);
    resolve_settle(2000);
    cr_assert_eq(named->resolve_state, RESOLVE_OK);
    cr_assert_str_eq(named->addr.text, "127.0.0.3:9002");
    cr_assert_neq(named->resolve_error, 0);
    cr_assert_eq(atomic_load(&named->state), SRV_UP);

    resolve_stop();
    runtime_release(rt);
    ev_loop_destroy(loop);
}

Test(resolve, a_name_without_answer_is_down_with_the_reason)
{
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    struct runtime *rt = fixture_runtime(TWO_SERVERS);
    struct server *named = pool_find_server(&rt->pools[0], "named");
    struct server *ip = pool_find_server(&rt->pools[0], "ip");

    write_hosts("127.0.0.9 other.test\n");
    cr_assert_eq(resolve_start(loop), 0);
    resolve_apply(rt);
    resolve_settle(2000);
    cr_assert_eq(named->resolve_state, RESOLVE_FAILED);
    cr_assert_eq(atomic_load(&named->state), SRV_DOWN);
    cr_assert_eq(named->check_status, CHECK_FAIL);
    cr_assert(strncmp(named->check_detail, "resolve: app.test: ", 19) == 0, "%s", named->check_detail);
    cr_assert_eq(named->addr.len, 0);
    cr_assert_eq(atomic_load(&ip->state), SRV_UP, "a server given by IP is not concerned");

    /* It resolves: unchecked (no health checker here), it is up at once. */
    write_hosts("127.0.0.2 app.test\n");
    resolve_apply(rt);
    resolve_settle(2000);
    cr_assert_eq(named->resolve_state, RESOLVE_OK);
    cr_assert_str_eq(named->addr.text, "127.0.0.2:9002");
    cr_assert_eq(atomic_load(&named->state), SRV_UP);

    resolve_stop();
    runtime_release(rt);
    ev_loop_destroy(loop);
}
