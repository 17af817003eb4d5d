/*
 * h2_headers: an HTTP/2 header list to the HTTP/1.1 request head the
 * servers get, and an HTTP/1.1 response head to HTTP/2 fields (RFC 9113
 * 8.2 and 8.3).  Pure functions: no nghttp2, no sockets.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "h2_headers.h"

#define F(n, v) {n, sizeof(n) - 1, v, sizeof(v) - 1}

static const struct h2_field get_pseudo[] = {
    F(":method", "GET"), F(":scheme", "https"), F(":authority", "shop.example:8443"), F(":path", "/cart?x=1"),
};

static char out[4096];

static int build(const struct h2_field *f, size_t n, int unsized, size_t *len)
{
    memset(out, 0, sizeof out);
    return h2_request_head(f, n, unsized, out, sizeof out, len);
}

Test(h2_headers, request_line_and_host_from_authority)
{
    struct h2_field f[6];
    memcpy(f, get_pseudo, sizeof get_pseudo);
    f[4] = (struct h2_field)F("user-agent", "curl/8");
    f[5] = (struct h2_field)F("accept", "*/*");
    size_t len;
    cr_assert_eq(build(f, 6, 0, &len), H2_HEAD_OK);
    cr_assert_str_eq(out, "GET /cart?x=1 HTTP/1.1\r\nHost: shop.example:8443\r\nuser-agent: curl/8\r\naccept: */*\r\n\r\n");
    cr_assert_eq(len, strlen(out));
}

Test(h2_headers, authority_wins_over_a_host_field)
{
    struct h2_field f[5];
    memcpy(f, get_pseudo, sizeof get_pseudo);
    f[4] = (struct h2_field)F("host", "other.example");
    size_t len;
    cr_assert_eq(build(f, 5, 0, &len), H2_HEAD_OK);
    cr_assert_str_eq(out, "GET /cart?x=1 HTTP/1.1\r\nHost: shop.example:8443\r\n\r\n");
}

Test(h2_headers, host_field_without_authority)
{
    const struct h2_field f[] = {F(":method", "GET"), F(":scheme", "http"), F(":path", "/"), F("host", "h.example")};
    size_t len;
    cr_assert_eq(build(f, 4, 0, &len), H2_HEAD_OK);
    cr_assert_str_eq(out, "GET / HTTP/1.1\r\nHost: h.example\r\n\r\n");
}

Test(h2_headers, cookies_joined_with_semicolon_space)
{
    struct h2_field f[8];
    memcpy(f, get_pseudo, sizeof get_pseudo);
    f[4] = (struct h2_field)F("cookie", "a=1");
    f[5] = (struct h2_field)F("accept", "*/*");
    f[6] = (struct h2_field)F("cookie", "b=2");
    f[7] = (struct h2_field)F("cookie", "c=3");
    size_t len;
    cr_assert_eq(build(f, 8, 0, &len), H2_HEAD_OK);
    cr_assert_str_eq(out, "GET /cart?x=1 HTTP/1.1\r\nHost: shop.example:8443\r\naccept: */*\r\nCookie: a=1; b=2; c=3\r\n\r\n");
}

Test(h2_headers, unsized_body_goes_chunked)
{
    const struct h2_field f[] = {F(":method", "POST"), F(":scheme", "http"), F(":authority", "a"), F(":path", "/up")};
    size_t len;
    cr_assert_eq(build(f, 4, 1, &len), H2_HEAD_OK);
    cr_assert_str_eq(out, "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
}

Test(h2_headers, content_length_passes_through)
{
    const struct h2_field f[] = {F(":method", "POST"), F(":scheme", "http"), F(":authority", "a"), F(":path", "/"),
                                 F("content-length", "5")};
    size_t len;
    cr_assert_eq(build(f, 5, 0, &len), H2_HEAD_OK);
    cr_assert_str_eq(out, "POST / HTTP/1.1\r\nHost: a\r\ncontent-length: 5\r\n\r\n");
}

Test(h2_headers, te_trailers_is_dropped_other_te_refused)
{
    struct h2_field f[5];
    memcpy(f, get_pseudo, sizeof get_pseudo);
    f[4] = (struct h2_field)F("te", "trailers");
    size_t len;
    cr_assert_eq(build(f, 5, 0, &len), H2_HEAD_OK);
    cr_assert_null(strstr(out, "te:"));
    f[4] = (struct h2_field)F("te", "gzip");
    cr_assert_eq(build(f, 5, 0, &len), H2_HEAD_MALFORMED);
}

Test(h2_headers, hop_by_hop_fields_are_malformed)
{
    static const char *const names[] = {"connection", "keep-alive", "proxy-connection", "transfer-encoding",
                                        "upgrade"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        struct h2_field f[5];
        memcpy(f, get_pseudo, sizeof get_pseudo);
        f[4] = (struct h2_field){names[i], strlen(names[i]), "x", 1};
        size_t len;
        cr_assert_eq(build(f, 5, 0, &len), H2_HEAD_MALFORMED, "%s", names[i]);
    }
}

Test(h2_headers, missing_or_repeated_or_unknown_pseudo_headers)
{
    const struct h2_field no_path[] = {F(":method", "GET"), F(":scheme", "http"), F(":authority", "a")};
    const struct h2_field no_scheme[] = {F(":method", "GET"), F(":path", "/"), F(":authority", "a")};
    const struct h2_field twice[] = {F(":method", "GET"), F(":method", "POST"), F(":scheme", "http"), F(":path", "/")};
    const struct h2_field unknown[] = {F(":method", "GET"), F(":scheme", "http"), F(":path", "/"), F(":status", "200")};
    const struct h2_field empty_path[] = {F(":method", "GET"), F(":scheme", "http"), F(":path", "")};
    size_t len;
    cr_assert_eq(build(no_path, 3, 0, &len), H2_HEAD_MALFORMED);
    cr_assert_eq(build(no_scheme, 3, 0, &len), H2_HEAD_MALFORMED);
    cr_assert_eq(build(twice, 4, 0, &len), H2_HEAD_MALFORMED);
    cr_assert_eq(build(unknown, 4, 0, &len), H2_HEAD_MALFORMED);
    cr_assert_eq(build(empty_path, 3, 0, &len), H2_HEAD_MALFORMED);
}

Test(h2_headers, line_breaks_in_values_are_malformed)
{
    struct h2_field f[5];
    memcpy(f, get_pseudo, sizeof get_pseudo);
    f[4] = (struct h2_field)F("x-a", "1\r\nx-injected: 2");
    size_t len;
    cr_assert_eq(build(f, 5, 0, &len), H2_HEAD_MALFORMED);
    const struct h2_field bad_path[] = {F(":method", "GET"), F(":scheme", "http"), F(":path", "/ HTTP/1.1\r\n")};
    cr_assert_eq(build(bad_path, 3, 0, &len), H2_HEAD_MALFORMED);
}

Test(h2_headers, connect_is_refused)
{
    const struct h2_field f[] = {F(":method", "CONNECT"), F(":authority", "a:443")};
    size_t len;
    cr_assert_eq(build(f, 2, 0, &len), H2_HEAD_CONNECT);
}

Test(h2_headers, too_large_for_the_buffer)
{
    size_t len;
    cr_assert_eq(h2_request_head(get_pseudo, 4, 0, out, 20, &len), H2_HEAD_TOO_LARGE);
}

Test(h2_headers, response_fields_lowercased_hop_by_hop_dropped)
{
    char head[] = "HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                  "Transfer-Encoding: chunked\r\nX-Server:  app1 \r\nKeep-Alive: timeout=5\r\nSet-Cookie: a=1\r\n\r\n";
    struct h2_field f[8];
    unsigned status = 0;
    int n = h2_response_fields(head, strlen(head), &status, f, 8);
    cr_assert_eq(status, 201);
    cr_assert_eq(n, 3);
    cr_assert_eq(f[0].name_len, 12);
    cr_assert(memcmp(f[0].name, "content-type", 12) == 0);
    cr_assert(memcmp(f[0].value, "text/plain", f[0].value_len) == 0 && f[0].value_len == 10);
    cr_assert(memcmp(f[1].name, "x-server", 8) == 0);
    cr_assert(f[1].value_len == 4 && memcmp(f[1].value, "app1", 4) == 0, "value trimmed");
    cr_assert(memcmp(f[2].name, "set-cookie", 10) == 0);
}

Test(h2_headers, response_every_hop_by_hop_name_dropped_near_misses_kept)
{
    /* The seven names RFC 9110 7.6.1 and 9113 8.2.2 make connection-specific,
     * in any case, each beside a field of the same length that is not one. */
    char head[] = "HTTP/1.1 200 OK\r\nTE: trailers\r\nTF: 1\r\nUpgrade: h2c\r\nTrailer: x\r\nTrailed: 1\r\n"
                  "Connection: close\r\nKeep-Alive: 5\r\nKeep-Alivf: 1\r\nProxy-Connection: close\r\n"
                  "Proxy-Connectiom: 1\r\nTransfer-Encoding: chunked\r\nTransfer-Encodinf: 1\r\n\r\n";
    struct h2_field f[16];
    unsigned status = 0;
    int n = h2_response_fields(head, strlen(head), &status, f, 16);
    cr_assert_eq(n, 5);
    const char *kept[] = {"tf", "trailed", "keep-alivf", "proxy-connectiom", "transfer-encodinf"};
    for (int i = 0; i < 5; i++)
        cr_assert(f[i].name_len == strlen(kept[i]) && memcmp(f[i].name, kept[i], f[i].name_len) == 0, "%s kept",
                  kept[i]);
}

Test(h2_headers, response_not_a_response_or_too_many_fields)
{
    char bad[] = "HTTX/1.1 200 OK\r\n\r\n";
    char many[] = "HTTP/1.1 200 OK\r\na: 1\r\nb: 2\r\nc: 3\r\n\r\n";
    char no_colon[] = "HTTP/1.1 200 OK\r\nbroken\r\n\r\n";
    struct h2_field f[2];
    unsigned status;
    cr_assert_eq(h2_response_fields(bad, strlen(bad), &status, f, 2), -1);
    cr_assert_eq(h2_response_fields(many, strlen(many), &status, f, 2), -1);
    cr_assert_eq(h2_response_fields(no_colon, strlen(no_colon), &status, f, 2), -1);
}

Test(h2_headers, bodiless_responses)
{
    cr_assert(h2_response_bodiless(204, 0));
    cr_assert(h2_response_bodiless(304, 0));
    cr_assert(h2_response_bodiless(103, 0));
    cr_assert(h2_response_bodiless(200, 1));
    cr_assert_not(h2_response_bodiless(200, 0));
    cr_assert_not(h2_response_bodiless(404, 0));
}

Test(h2_headers, response_trailers_lowercased_and_filtered)
{
    char block[] = "Grpc-Status:0\r\nX-Checksum:ab\r\nKeep-Alive:timeout=5\r\nContent-Length:12\r\n"
                   "Set-Cookie:a=1\r\nGrpc-Message:\r\n";
    struct h2_field f[8];
    int n = h2_trailer_fields(block, strlen(block), f, 8);
    cr_assert_eq(n, 3);
    cr_assert(f[0].name_len == 11 && memcmp(f[0].name, "grpc-status", 11) == 0);
    cr_assert(f[0].value_len == 1 && f[0].value[0] == '0');
    cr_assert(f[1].name_len == 10 && memcmp(f[1].name, "x-checksum", 10) == 0);
    cr_assert(f[2].name_len == 12 && memcmp(f[2].name, "grpc-message", 12) == 0 && f[2].value_len == 0);
    cr_assert_eq(h2_trailer_fields(block, strlen(block), f, 2), -1, "more than max");
}

Test(h2_headers, request_trailers_that_may_go_on)
{
    const struct h2_field ok = F("x-checksum", "42"), grpc = F("grpc-timeout", "1S");
    const struct h2_field bad[] = {
        F("content-length", "5"), F("host", "evil"), F("authorization", "x"), F("te", "trailers"),
        F("connection", "close"), F(":path", "/"), F("x-split", "a\r\nb: c"),
    };
    cr_assert(h2_request_trailer_ok(&ok));
    cr_assert(h2_request_trailer_ok(&grpc));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_not(h2_request_trailer_ok(&bad[i]), "%s went on", bad[i].name);
}
