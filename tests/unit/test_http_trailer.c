/*
 * http_trailer: the trailer fields that go on to a client, HTTP/1.1 or
 * HTTP/2 (CONTRACT 3: no hop-by-hop field, nor one Connection names).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "h2_headers.h"
#include "http.h"
#include "http_hop.h"
#include "http_trailer.h"

#define S(lit) lit, sizeof(lit) - 1

/* The one list (http_hop_kind), name by name, in any case. */
Test(http_trailer, hop_by_hop_names_in_any_case)
{
    static const struct {
        const char *name;
        uint8_t kind;
    } hop[] = {
        {"Connection", HF_CONNECTION}, {"CONNECTION", HF_CONNECTION}, {"Keep-Alive", HF_HOP},
        {"keep-alive", HF_HOP},        {"Proxy-Connection", HF_HOP},  {"proxy-connection", HF_HOP},
        {"TE", HF_HOP},                {"te", HF_HOP},                {"Trailer", HF_HOP},
        {"trailer", HF_HOP},           {"Upgrade", HF_UPGRADE},       {"UPGRADE", HF_UPGRADE},
        {"Transfer-Encoding", HF_TRANSFER_ENCODING}, {"transfer-encoding", HF_TRANSFER_ENCODING},
    };
    for (size_t i = 0; i < sizeof hop / sizeof hop[0]; i++)
        cr_assert_eq(http_hop_kind(hop[i].name, strlen(hop[i].name)), hop[i].kind, "%s", hop[i].name);
    const char *end_to_end[] = {"X-Checksum", "Grpc-Status", "Tea", "Trailers", "Proxy", "Proxy-", "Proxy-Status",
                                "Proxy-Authenticate", "Proxy-Authorization", "Server-Timing", "Host",
                                "Content-Length", "X-Forwarded-For", "Connections", "Keep-Alives"};
    for (size_t i = 0; i < sizeof end_to_end / sizeof end_to_end[0]; i++)
        cr_assert_eq(http_hop_kind(end_to_end[i], strlen(end_to_end[i])), HF_OTHER, "%s", end_to_end[i]);
}

/* http_name_is against strncasecmp, for every length of literal up to 24:
 * each literal in random cases matches; each with one byte changed to
 * another token byte does not (its words overlap: a change anywhere must
 * show). */
Test(http_trailer, name_compare_agrees_with_strncasecmp)
{
    static const char letters[] = "abcdefghijklmnopqrstuvwxyz-";
    static const char token[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-!#$%&'*+.^_`|~";
    unsigned seed = 7;
    char lit[25], name[25];

    for (size_t n = 1; n <= 24; n++) {
        for (int round = 0; round < 2000; round++) {
            for (size_t i = 0; i < n; i++)
                lit[i] = letters[rand_r(&seed) % (sizeof letters - 1)];
            lit[n] = '\0';
            for (size_t i = 0; i < n; i++)
                name[i] = (rand_r(&seed) & 1) && lit[i] != '-' ? (char)(lit[i] - 32) : lit[i];
            cr_assert(http_name_is(name, lit, n), "%.*s is %s", (int)n, name, lit);
            size_t at = (size_t)rand_r(&seed) % n;
            name[at] = token[rand_r(&seed) % (sizeof token - 1)];
            cr_assert_eq(http_name_is(name, lit, n), strncasecmp(name, lit, n) == 0, "%.*s against %s", (int)n,
                         name, lit);
        }
    }
}

/* The fields that may not trail a body, left out beside the hop-by-hop
 * ones, on both paths. */
Test(http_trailer, fields_that_may_not_trail)
{
    const char *no[] = {"Content-Length", "host", "Content-Encoding", "Content-Type", "Content-Range",
                        "Authorization", "Proxy-Authorization", "WWW-Authenticate", "Proxy-Authenticate",
                        "Set-Cookie", "Cookie"};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        cr_assert(http_trailer_forbidden(no[i], strlen(no[i])), "%s", no[i]);
        cr_assert_not(http_trailer_forwarded(no[i], strlen(no[i]), NULL), "%s", no[i]);
    }
    const char *yes[] = {"X-Checksum", "Server-Timing", "Proxy-Status", "Grpc-Status", "Content-MD5", "Digest"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        cr_assert(http_trailer_forwarded(yes[i], strlen(yes[i]), NULL), "%s", yes[i]);
}

Test(http_trailer, names_listed_in_the_sections_connection_fields)
{
    const char section[] = "X-A:1\r\nConnection: x-private , X-Other\r\nX-Private:s\r\nConnection:x-third\r\n";
    struct http_trailer_conn conn;
    cr_assert_eq(http_trailer_conn_of(section, strlen(section), &conn), 0);
    cr_assert_eq(conn.n, 2);
    cr_assert_not(http_trailer_forwarded(S("X-Private"), &conn));
    cr_assert_not(http_trailer_forwarded(S("x-other"), &conn));
    cr_assert_not(http_trailer_forwarded(S("X-Third"), &conn), "a second Connection field");
    cr_assert(http_trailer_forwarded(S("X-A"), &conn));
    cr_assert(http_trailer_forwarded(S("X-Priv"), &conn), "a prefix of a listed name");
    cr_assert(http_trailer_forwarded(S("X-Private"), NULL), "a field seen alone");
}

/* Each field's test looks at the Connection fields found once: a section
 * with more of them than are kept is refused, not read again per field. */
Test(http_trailer, too_many_connection_fields_refused)
{
    char kept[512] = "";
    for (int i = 0; i <= HTTP_TRAILER_CONN_MAX; i++)
        strcat(kept, "Connection:x\r\n");
    char out[1024];
    cr_assert_eq(http_trailer_write(kept, strlen(kept), out, sizeof out), 0);
    kept[strlen(kept) - strlen("Connection:x\r\n")] = '\0';
    cr_assert_eq(http_trailer_write(kept, strlen(kept), out, sizeof out), 2, "%d Connection fields are read",
                 HTTP_TRAILER_CONN_MAX);
}

Test(http_trailer, section_for_an_http11_client)
{
    const char kept[] = "X-Checksum:abc\r\nConnection:X-Private\r\nX-Private:secret\r\nKeep-Alive:timeout=5\r\n"
                        "TE:trailers\r\nProxy-Authenticate:Basic\r\nServer-Timing: db;dur=53 \r\nX-Empty:\r\n"
                        "Content-Type:text/plain\r\n";
    char out[256];
    size_t n = http_trailer_write(kept, strlen(kept), out, sizeof out);
    const char want[] = "X-Checksum: abc\r\nServer-Timing: db;dur=53\r\nX-Empty: \r\n\r\n";
    cr_assert_eq(n, strlen(want));
    cr_assert(memcmp(out, want, n) == 0, "%.*s", (int)n, out);
}

Test(http_trailer, empty_or_all_hop_by_hop_section_still_ends_the_message)
{
    char out[16];
    cr_assert_eq(http_trailer_write("", 0, out, sizeof out), 2);
    cr_assert(memcmp(out, "\r\n", 2) == 0);
    const char kept[] = "Connection:close\r\nTrailer:x\r\n";
    cr_assert_eq(http_trailer_write(kept, strlen(kept), out, sizeof out), 2);
}

Test(http_trailer, too_small_an_output_is_refused)
{
    const char kept[] = "X-Checksum:abc\r\n";
    char out[64];
    size_t want = strlen("X-Checksum: abc\r\n\r\n");
    cr_assert_eq(http_trailer_write(kept, strlen(kept), out, want - 1), 0);
    cr_assert_eq(http_trailer_write(kept, strlen(kept), out, want - 2), 0);
    cr_assert_eq(http_trailer_write(kept, strlen(kept), out, want), want);
}

Test(http_trailer, the_http2_path_drops_the_same_fields)
{
    /* h2_trailer_fields (response trailers as a HEADERS frame) takes the
     * same rule: Proxy-Authenticate (which may not trail) and the names
     * Connection lists are left out too. */
    char block[] = "X-Checksum:abc\r\nConnection:X-Private\r\nX-Private:secret\r\nProxy-Authenticate:Basic\r\n";
    struct h2_field f[8];
    int n = h2_trailer_fields(block, strlen(block), f, 8);
    cr_assert_eq(n, 1);
    cr_assert(f[0].name_len == 10 && memcmp(f[0].name, "x-checksum", 10) == 0);
    const struct h2_field proxy = {"proxy-authorization", 19, "x", 1};
    cr_assert_not(h2_request_trailer_ok(&proxy));
}

/* Whether the field name goes on in a response head to an HTTP/1.1
 * client (http_rewrite_response) and to an HTTP/2 one (h2_response_fields
 * over the rewritten head), and in a trailer section to each
 * (http_trailer_write, h2_trailer_fields). */
struct paths {
    int h1_head, h2_head, h1_trailer, h2_trailer;
};

static struct paths paths_of(const char *name)
{
    struct paths p;
    char head[256], out[512];
    snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n%s: v\r\n\r\n", name);
    struct http_msg m;
    struct http_field fields[8];
    struct http_head h = {.fields = fields, .max_fields = 8};
    memset(&m, 0, sizeof m);
    cr_assert_eq(http_parse_response(&m, head, strlen(head), 0, &h), 0, "%s", head);
    size_t n = http_rewrite_response(head, &h, 0, 0, out, sizeof out - 1);
    cr_assert_gt(n, 0);
    out[n] = '\0';
    char line[128];
    snprintf(line, sizeof line, "\r\n%s: v\r\n", name);
    p.h1_head = strstr(out, line) != NULL;
    struct h2_field f[8];
    unsigned status;
    int nf = h2_response_fields(out, n, &status, f, 8);
    cr_assert_geq(nf, 0);
    p.h2_head = 0;
    for (int i = 0; i < nf; i++)
        p.h2_head |= f[i].name_len == strlen(name) && strncasecmp(f[i].name, name, f[i].name_len) == 0;

    char kept[128];
    snprintf(kept, sizeof kept, "%s:v\r\n", name);
    n = http_trailer_write(kept, strlen(kept), out, sizeof out);
    cr_assert_gt(n, 0);
    p.h1_trailer = n > 2;
    nf = h2_trailer_fields(kept, strlen(kept), f, 8);
    cr_assert_geq(nf, 0);
    p.h2_trailer = nf == 1;
    return p;
}

/* One list: a name is hop-by-hop in a head and in a trailer section, for
 * an HTTP/1.1 client and an HTTP/2 one alike; the fields that may not
 * trail are left out of both trailer paths, and kept in heads. */
Test(http_trailer, every_path_leaves_out_the_same_names)
{
    const char *hop[] = {"Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Upgrade"};
    for (size_t i = 0; i < sizeof hop / sizeof hop[0]; i++) {
        struct paths p = paths_of(hop[i]);
        cr_assert(!p.h1_head && !p.h2_head && !p.h1_trailer && !p.h2_trailer, "%s: %d %d %d %d", hop[i],
                  p.h1_head, p.h2_head, p.h1_trailer, p.h2_trailer);
    }
    const char *kept[] = {"X-Checksum", "Proxy-Status", "Proxy-Foo", "Server-Timing"};
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        struct paths p = paths_of(kept[i]);
        cr_assert(p.h1_head && p.h2_head && p.h1_trailer && p.h2_trailer, "%s: %d %d %d %d", kept[i], p.h1_head,
                  p.h2_head, p.h1_trailer, p.h2_trailer);
    }
    const char *no_trailer[] = {"Proxy-Authenticate", "Content-Type", "Set-Cookie"};
    for (size_t i = 0; i < sizeof no_trailer / sizeof no_trailer[0]; i++) {
        struct paths p = paths_of(no_trailer[i]);
        cr_assert(p.h1_head && p.h2_head && !p.h1_trailer && !p.h2_trailer, "%s: %d %d %d %d", no_trailer[i],
                  p.h1_head, p.h2_head, p.h1_trailer, p.h2_trailer);
    }
}
