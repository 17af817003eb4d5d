/*
 * http_rewrite: the heads the proxy sends (see http.h): a request or
 * response head re-emitted without its hop-by-hop fields and with the
 * proxy's own (X-Forwarded-*, Connection, Strict-Transport-Security), the
 * redirects to https, and the proxy's own error responses.
 */
#include "http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http_hop.h"
#include "http_list.h"

/* ---- rewriting -------------------------------------------------------------- */

struct out {
    char *p;
    size_t len, cap;
    int overflow;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->overflow || o->len + n > o->cap) {
        o->overflow = 1;
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

static void puts_lit(struct out *o, const char *s) { put(o, s, strlen(s)); }

/* Copies the start line and the fields that are forwarded, coalescing runs
 * of consecutive kept lines into one copy. */
static void copy_kept(struct out *o, const char *buf, const struct http_head *h,
                      int (*keep)(const struct http_field *, const struct http_head *), size_t from)
{
    size_t run_start = from, run_end = h->line_len;
    for (uint32_t i = 0; i < h->nfields; i++) {
        const struct http_field *f = &h->fields[i];
        /* The line of field i runs from its name to the next name (or the
         * final CRLF). */
        size_t line_start = f->name_off;
        size_t line_end = (i + 1 < h->nfields) ? h->fields[i + 1].name_off : h->len - 2;
        if (keep(f, h)) {
            if (line_start != run_end) {
                put(o, buf + run_start, run_end - run_start);
                run_start = line_start;
            }
            run_end = line_end;
        } else {
            put(o, buf + run_start, run_end - run_start);
            run_start = run_end = line_end;
        }
    }
    put(o, buf + run_start, run_end - run_start);
}

static int keep_request_field(const struct http_field *f, const struct http_head *h)
{
    switch (f->kind) {
    case HF_HOP: case HF_CONNECTION: case HF_XFF: case HF_XFP:
        return 0;
    case HF_UPGRADE:
        return h->upgrade;
    default:
        return 1;
    }
}

size_t http_rewrite_request(const char *buf, const struct http_head *h, const char *client_ip, int tls,
                            char *out, size_t cap)
{
    struct out o = { out, 0, cap, 0 };
    int sep = 0;

    /* An absolute-form target goes to the server in origin-form, as
     * servers expect from a gateway (its host already agrees with Host). */
    const char *auth, *path;
    size_t auth_len, path_len;
    if (h->target_out) {
        /* normalize-path on: the normalized target, in origin-form. */
        put(&o, buf, h->uri_off);
        put(&o, h->target_out, h->target_out_len);
        put(&o, buf + h->uri_off + h->uri_len, h->line_len - h->uri_off - h->uri_len);
        copy_kept(&o, buf, h, keep_request_field, h->line_len);
    } else if (http_target_absolute(buf + h->uri_off, h->uri_len, &auth, &auth_len, &path, &path_len)) {
        put(&o, buf, h->uri_off);
        if (path_len == 0 && h->method == HTTP_OPTIONS)
            puts_lit(&o, "*"); /* RFC 9112 3.2.4: the last proxy sends OPTIONS http://h as OPTIONS * */
        else if (path_len == 0 || path[0] != '/')
            puts_lit(&o, "/"); /* "http://h" is "/", "http://h?q" is "/?q" */
        put(&o, path, path_len);
        put(&o, buf + h->uri_off + h->uri_len, h->line_len - h->uri_off - h->uri_len);
        copy_kept(&o, buf, h, keep_request_field, h->line_len);
    } else {
        copy_kept(&o, buf, h, keep_request_field, 0);
    }
    puts_lit(&o, "X-Forwarded-For: ");
    for (uint32_t i = 0; i < h->nfields; i++) {
        const struct http_field *f = &h->fields[i];
        if (f->kind == HF_XFF && f->value_len) {
            if (sep)
                puts_lit(&o, ", ");
            put(&o, buf + f->value_off, f->value_len);
            sep = 1;
        }
    }
    if (sep)
        puts_lit(&o, ", ");
    puts_lit(&o, client_ip);
    puts_lit(&o, tls ? "\r\nX-Forwarded-Proto: https\r\n" : "\r\nX-Forwarded-Proto: http\r\n");
    if (h->upgrade)
        puts_lit(&o, "Connection: upgrade\r\n");
    else if (h->major == 1 && h->minor == 0)
        puts_lit(&o, "Connection: keep-alive\r\n"); /* so the server connection can be reused */
    puts_lit(&o, "\r\n");
    return o.overflow ? 0 : o.len;
}

static int keep_response_field(const struct http_field *f, const struct http_head *h)
{
    switch (f->kind) {
    case HF_HOP: case HF_CONNECTION:
        return 0;
    case HF_TRANSFER_ENCODING:
        return !h->drop_te;
    case HF_UPGRADE:
        return h->status == 101;
    default:
        return 1;
    }
}

/* With `tls hsts` the proxy's field replaces the server's: a browser
 * heeds the first of two (RFC 6797 8.1), which was the server's, and a
 * server's max-age=0 would have turned HSTS off. */
static int keep_response_field_but_hsts(const struct http_field *f, const struct http_head *h)
{
    return f->kind != HF_HSTS && keep_response_field(f, h);
}

size_t http_rewrite_response(const char *buf, const struct http_head *h, int client_close,
                             int client_http10, char *out, size_t cap)
{
    return http_rewrite_response_with(buf, h, client_close, client_http10, NULL, 0, out, cap);
}

size_t http_rewrite_response_with(const char *buf, const struct http_head *h, int client_close, int client_http10,
                                  const char *extra, size_t extra_len, char *out, size_t cap)
{
    struct out o = { out, 0, cap, 0 };
    int (*keep)(const struct http_field *, const struct http_head *) =
        extra_len ? keep_response_field_but_hsts : keep_response_field;

    /* An HTTP/1.0 server's response of known length goes to an HTTP/1.1
     * client as HTTP/1.1, kept alive (as HAProxy does): passed on as 1.0,
     * every client reconnected after each response. */
    if (!client_http10 && !client_close && h->major == 1 && h->minor == 0 && h->line_len > 8 &&
        memcmp(buf, "HTTP/1.0", 8) == 0) {
        puts_lit(&o, "HTTP/1.1");
        copy_kept(&o, buf, h, keep, 8);
    } else {
        copy_kept(&o, buf, h, keep, 0);
    }
    if (h->status == 101)
        puts_lit(&o, "Connection: upgrade\r\n");
    else if (client_close)
        puts_lit(&o, "Connection: close\r\n");
    else if (client_http10)
        puts_lit(&o, "Connection: keep-alive\r\n");
    if (extra_len)
        put(&o, extra, extra_len);
    puts_lit(&o, "\r\n");
    return o.overflow ? 0 : o.len;
}

size_t http_redirect_response(int status, const char *location, size_t location_len, char *out, size_t cap)
{
    struct out o = { out, 0, cap, 0 };
    char line[96];
    static const char body[] = "Moved to HTTPS.\n";

    snprintf(line, sizeof line, "HTTP/1.1 %d %s\r\nLocation: ", status, http_reason(status));
    puts_lit(&o, line);
    put(&o, location, location_len);
    snprintf(line, sizeof line, "\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n", sizeof body - 1);
    puts_lit(&o, line);
    puts_lit(&o, "Connection: close\r\n\r\n");
    puts_lit(&o, body);
    return o.overflow ? 0 : o.len;
}

size_t http_https_location(const char *host, size_t host_len, const char *target, size_t target_len, char *out,
                           size_t cap)
{
    struct out o = { out, 0, cap, 0 };
    const char *auth, *path;
    size_t auth_len, path_len;

    if (http_target_absolute(target, target_len, &auth, &auth_len, &path, &path_len)) {
        host = auth;
        host_len = auth_len;
        target = path;
        target_len = path_len;
    }
    /* The port of a plaintext listener means nothing on 443; a bracketed
     * IPv6 literal keeps its colons. */
    const char *end = host + host_len;
    for (const char *c = end; c > host; c--) {
        if (c[-1] == ']')
            break;
        if (c[-1] == ':') {
            end = c - 1;
            break;
        }
    }
    puts_lit(&o, "https://");
    put(&o, host, (size_t)(end - host));
    if (target_len == 0 || target[0] != '/')
        puts_lit(&o, "/");
    put(&o, target, target_len);
    return o.overflow || host == end ? 0 : o.len;
}

const char *http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Error";
    }
}

const char *http_error_body(int status)
{
    switch (status) {
    case 400: return "bad request\n";
    case 408: return "request head not received in time\n";
    case 413: return "request body too large\n";
    case 414: return "request URI too long\n";
    case 429: return "too many requests: retry later\n";
    case 431: return "request headers too large\n";
    case 501: return "method not implemented\n";
    case 502: return "server failed or answered invalid HTTP\n";
    case 503: return "no server available\n";
    case 504: return "server did not answer in time\n";
    default: return "error\n";
    }
}

size_t http_error_response(int status, int close, char *out, size_t cap)
{
    const char *body = http_error_body(status);
    int n = snprintf(out, cap,
                     "HTTP/1.1 %d %s\r\n"
                     "Content-Type: text/plain\r\n"
                     "Content-Length: %zu\r\n"
                     "%s%s\r\n%s",
                     status, http_reason(status), strlen(body),
                     status == 503 ? "Retry-After: 1\r\n" : "",
                     close ? "Connection: close\r\n" : "", body);
    return (n > 0 && (size_t)n < cap) ? (size_t)n : 0;
}
