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

Test(h2_headers, response_status_from_the_status_line_alone)
{
    unsigned status = 0;
    /* The fields are not looked at: an interim head is told apart cheaply. */
    cr_assert_eq(h2_response_status("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", 42, &status), 0);
    cr_assert_eq(status, 103);
    cr_assert_eq(h2_response_status("HTTP/1.0 204 \r\n\r\n", 17, &status), 0);
    cr_assert_eq(status, 204);
    cr_assert_eq(h2_response_status("HTTP/1.1 20", 11, &status), -1, "too short");
    cr_assert_eq(h2_response_status("HTTP/1.1 2x0 OK\r\n\r\n", 19, &status), -1, "not digits");
    cr_assert_eq(h2_response_status("HTTP/2.0 200 OK\r\n\r\n", 19, &status), -1, "not HTTP/1.x");
}

Test(h2_headers, response_fields_lines_ending_in_lf_alone)
{
    char head[] = "HTTP/1.1 200 OK\r\nServer: a\nX-Y:\tb \n\nNot: a field\r\n";
    struct h2_field f[4];
    unsigned status = 0;
    int n = h2_response_fields(head, strlen(head), &status, f, 4);
    cr_assert_eq(n, 2, "the bare LF line ends the head");
    cr_assert(f[0].name_len == 6 && memcmp(f[0].name, "server", 6) == 0);
    cr_assert(f[1].name_len == 3 && memcmp(f[1].name, "x-y", 3) == 0);
    cr_assert(f[1].value_len == 1 && f[1].value[0] == 'b', "value trimmed of HTAB and SP");
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

/* ---- the parsed view written with the head --------------------------------------------------
 * h2_request_view fills what http_parse_request would learn from the head
 * it writes; each case is checked against llhttp on the same bytes: the
 * same verdict, and when accepted the same offsets, kinds and framing. */

static struct http_field view_fields[64], parsed_fields[64];

static int view_status(int rc)
{
    return rc == H2_HEAD_BAD ? 400 : rc == H2_HEAD_TOO_LARGE ? 431 : rc == H2_HEAD_CONNECT ? 501 : rc;
}

static void same_as_parsed(const struct h2_field *f, size_t n, int unsized, uint64_t body_limit, int want)
{
    struct http_head v, p;
    memset(&v, 0, sizeof v);
    v.fields = view_fields;
    v.max_fields = 64;
    size_t len = 0;
    memset(out, 0, sizeof out);
    int rc = h2_request_view(f, n, unsized, out, sizeof out, &len, &v);
    cr_assert_neq(rc, H2_HEAD_MALFORMED, "a stream error, not a head: %.*s", (int)f[0].name_len, f[0].name);
    int got = rc ? view_status(rc) : http_check_built_request(out, &v, body_limit);

    /* The head h2_request_head writes is the same. */
    char plain[sizeof out];
    size_t plain_len = 0;
    if (h2_request_head(f, n, unsized, plain, sizeof plain, &plain_len) == H2_HEAD_OK) {
        cr_assert_eq(plain_len, len);
        cr_assert_eq(memcmp(plain, out, len), 0);
    }

    struct http_msg m;
    memset(&m, 0, sizeof m);
    m.body_limit = body_limit;
    memset(&p, 0, sizeof p);
    p.fields = parsed_fields;
    p.max_fields = 64;
    int parsed = http_parse_request(&m, out, len, &p);
    cr_assert_eq(got, parsed, "view %d, llhttp %d on:\n%s", got, parsed, out);
    cr_assert_eq(got, want, "got %d, want %d on:\n%s", got, want, out);
    if (got)
        return;
    cr_assert_eq(v.len, p.len);
    cr_assert_eq(v.line_len, p.line_len);
    cr_assert_eq(v.uri_off, p.uri_off);
    cr_assert_eq(v.uri_len, p.uri_len);
    cr_assert_eq(v.host_off, p.host_off);
    cr_assert_eq(v.host_len, p.host_len);
    cr_assert_eq(v.method, p.method);
    cr_assert_eq(v.major, p.major);
    cr_assert_eq(v.minor, p.minor);
    cr_assert_eq(v.keep_alive, p.keep_alive);
    cr_assert_eq(v.upgrade, p.upgrade);
    cr_assert_eq(v.chunked, p.chunked);
    cr_assert_eq(v.has_body, p.has_body);
    cr_assert_eq(v.body_to_eof, p.body_to_eof);
    cr_assert_eq(v.expect_continue, p.expect_continue);
    cr_assert_eq(v.nhost, p.nhost);
    cr_assert_eq(v.content_length, p.content_length);
    cr_assert_eq(v.nfields, p.nfields);
    for (uint32_t i = 0; i < v.nfields; i++) {
        cr_assert_eq(v.fields[i].name_off, p.fields[i].name_off, "field %u", i);
        cr_assert_eq(v.fields[i].name_len, p.fields[i].name_len, "field %u", i);
        cr_assert_eq(v.fields[i].value_off, p.fields[i].value_off, "field %u", i);
        cr_assert_eq(v.fields[i].value_len, p.fields[i].value_len, "field %u", i);
        cr_assert_eq(v.fields[i].kind, p.fields[i].kind, "field %u", i);
    }
}

/* get_pseudo with up to four more fields, and another :method and :path. */
static void case_of(const char *method, const char *path, const struct h2_field *more, size_t nmore, int unsized,
                    uint64_t body_limit, int want)
{
    struct h2_field f[12];
    memcpy(f, get_pseudo, sizeof get_pseudo);
    f[0] = (struct h2_field){":method", 7, method, strlen(method)};
    f[3] = (struct h2_field){":path", 5, path, strlen(path)};
    if (nmore)
        memcpy(f + 4, more, nmore * sizeof *more);
    same_as_parsed(f, 4 + nmore, unsized, body_limit, want);
}

Test(h2_headers, view_of_plain_requests_matches_llhttp)
{
    const struct h2_field some[] = {F("user-agent", "h2load"), F("accept", "*/*"), F("cookie", "a=1"),
                                    F("cookie", "b=2")};
    case_of("GET", "/", some, 4, 0, 0, 0);
    case_of("HEAD", "/x?y=1", some, 2, 0, 0, 0);
    case_of("M-SEARCH", "*", NULL, 0, 0, 0, 400); /* the asterisk form is OPTIONS' alone */
    case_of("OPTIONS", "*", NULL, 0, 0, 0, 0);
    case_of("PATCH", "https://shop.example:8443/p", NULL, 0, 0, 0, 0);
    const struct h2_field xff[] = {F("x-forwarded-for", "10.0.0.1"), F("x-forwarded-proto", "http"),
                                   F("expect", "100-continue"), F("keep-alive-ish", "")};
    case_of("GET", "/", xff, 4, 0, 0, 0);
    const struct h2_field blanks[] = {F("x-a", "  lead"), F("x-b", "   "), F("x-c", "tab\tinside"),
                                      F("x!#$%&'*+-.^_`|~", "obs-text \xe9")};
    case_of("GET", "/", blanks, 4, 0, 0, 0);
}

Test(h2_headers, view_of_bodies_matches_llhttp)
{
    const struct h2_field cl5[] = {F("content-length", "5")};
    const struct h2_field cl0[] = {F("content-length", "0")};
    case_of("POST", "/up", cl5, 1, 0, 0, 0);
    case_of("POST", "/up", cl0, 1, 0, 0, 0);
    case_of("POST", "/up", NULL, 0, 1, 0, 0); /* chunked */
    case_of("PUT", "/up", cl5, 1, 0, 4, 413);
}

Test(h2_headers, view_refuses_what_llhttp_refuses)
{
    const struct h2_field bad_name2[] = {F("x\"y", "1")};
    const struct h2_field ctl_value[] = {F("x-a", "a\x01z")};
    const struct h2_field del_value[] = {F("x-a", "a\x7fz")};
    const struct h2_field cl_bad[] = {F("content-length", "12a")};
    const struct h2_field cl_empty[] = {F("content-length", "")};
    const struct h2_field cl_twice[] = {F("content-length", "3"), F("content-length", "3")};
    case_of("GET", "/", bad_name2, 1, 0, 0, 400);
    case_of("GET", "/", ctl_value, 1, 0, 0, 400);
    case_of("GET", "/", del_value, 1, 0, 0, 400);
    case_of("POST", "/", cl_bad, 1, 0, 0, 400);
    case_of("POST", "/", cl_empty, 1, 0, 0, 400);
    case_of("POST", "/", cl_twice, 2, 0, 0, 400);
    case_of("BREW", "/", NULL, 0, 0, 0, 400);
    case_of("GET", "relative", NULL, 0, 0, 0, 400);
    case_of("GET", "/sp ace", NULL, 0, 0, 0, 400);
    case_of("GET", "/\x7f", NULL, 0, 0, 0, 400);
    case_of("GET", "http://other.example/x", NULL, 0, 0, 0, 400);
    /* No :authority and no Host: an HTTP/1.1 request needs one. */
    const struct h2_field no_host[] = {F(":method", "GET"), F(":scheme", "https"), F(":path", "/")};
    same_as_parsed(no_host, 3, 0, 0, 400);
    /* :authority becomes the Host value: the same bytes refused. */
    const struct h2_field ctl_authority[] = {F(":method", "GET"), F(":scheme", "https"), F(":authority", "a\x01" "b"),
                                             F(":path", "/")};
    same_as_parsed(ctl_authority, 4, 0, 0, 400);
    const struct h2_field ctl_host[] = {F(":method", "GET"), F(":scheme", "https"), F(":path", "/"),
                                        F("host", "a\x7f" "b")};
    same_as_parsed(ctl_host, 4, 0, 0, 400);
}

Test(h2_headers, view_with_too_many_fields_is_too_large)
{
    struct h2_field f[70];
    memcpy(f, get_pseudo, sizeof get_pseudo);
    for (size_t i = 4; i < 70; i++)
        f[i] = (struct h2_field)F("x-a", "1");
    struct http_head v;
    memset(&v, 0, sizeof v);
    v.fields = view_fields;
    v.max_fields = 64;
    size_t len;
    cr_assert_eq(h2_request_view(f, 70, 0, out, sizeof out, &len, &v), H2_HEAD_TOO_LARGE);
    cr_assert_eq(h2_request_view(f, 60, 0, out, sizeof out, &len, &v), H2_HEAD_OK);
}

/* A field name that is not a token: llhttp lets a blank inside a name
 * through (nghttp2 refuses it first anyway); the view never does. */
Test(h2_headers, view_refuses_a_name_that_is_not_a_token)
{
    struct h2_field f[5];
    memcpy(f, get_pseudo, sizeof get_pseudo);
    f[4] = (struct h2_field)F("x y", "1");
    struct http_head v;
    memset(&v, 0, sizeof v);
    v.fields = view_fields;
    v.max_fields = 64;
    size_t len;
    cr_assert_eq(h2_request_view(f, 5, 0, out, sizeof out, &len, &v), H2_HEAD_BAD);
}

Test(h2_headers, no_content_length_on_a_204_or_a_1xx)
{
    /* RFC 9110 8.6: nghttp2 clients refuse a 204 that carries one (the
     * stream is malformed); a 200's stays. */
    char no_content[] = "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\nX-A: 1\r\n\r\n";
    char early[] = "HTTP/1.1 103 Early Hints\r\nContent-Length: 0\r\nLink: </a.css>\r\n\r\n";
    char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
    struct h2_field f[4];
    unsigned status = 0;
    cr_assert_eq(h2_response_fields(no_content, strlen(no_content), &status, f, 4), 1);
    cr_assert_eq(status, 204);
    cr_assert(f[0].name_len == 3 && memcmp(f[0].name, "x-a", 3) == 0);
    cr_assert_eq(h2_response_fields(early, strlen(early), &status, f, 4), 1);
    cr_assert(f[0].name_len == 4 && memcmp(f[0].name, "link", 4) == 0);
    cr_assert_eq(h2_response_fields(ok, strlen(ok), &status, f, 4), 1);
    cr_assert(f[0].name_len == 14 && memcmp(f[0].name, "content-length", 14) == 0);
}
