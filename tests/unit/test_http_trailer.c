/*
 * http_trailer: the trailer fields that go on to a client, HTTP/1.1 or
 * HTTP/2 (CONTRACT 3: no hop-by-hop field, nor one Connection names).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "h2_headers.h"
#include "http_trailer.h"

#define S(lit) lit, sizeof(lit) - 1

Test(http_trailer, hop_by_hop_names_in_any_case)
{
    const char *hop[] = {"Connection", "keep-alive", "Transfer-Encoding", "TE", "Trailer", "UPGRADE",
                         "Proxy-Connection", "Proxy-Authenticate", "proxy-authorization"};
    for (size_t i = 0; i < sizeof hop / sizeof hop[0]; i++)
        cr_assert(http_trailer_hop_by_hop(hop[i], strlen(hop[i])), "%s", hop[i]);
    const char *end_to_end[] = {"X-Checksum", "Grpc-Status", "Tea", "Trailers", "Proxy", "Proxy-", "Server-Timing"};
    for (size_t i = 0; i < sizeof end_to_end / sizeof end_to_end[0]; i++)
        cr_assert_not(http_trailer_hop_by_hop(end_to_end[i], strlen(end_to_end[i])), "%s", end_to_end[i]);
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
                        "TE:trailers\r\nProxy-Authenticate:Basic\r\nServer-Timing: db;dur=53 \r\nX-Empty:\r\n";
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
     * same rule: Proxy-* and the names Connection lists are left out too. */
    char block[] = "X-Checksum:abc\r\nConnection:X-Private\r\nX-Private:secret\r\nProxy-Authenticate:Basic\r\n";
    struct h2_field f[8];
    int n = h2_trailer_fields(block, strlen(block), f, 8);
    cr_assert_eq(n, 1);
    cr_assert(f[0].name_len == 10 && memcmp(f[0].name, "x-checksum", 10) == 0);
    const struct h2_field proxy = {"proxy-authorization", 19, "x", 1};
    cr_assert_not(h2_request_trailer_ok(&proxy));
}
