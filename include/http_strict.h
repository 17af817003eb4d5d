/*
 * http_strict: what llhttp lets through and the proxy refuses in a head,
 * because the servers behind it read such heads differently (request
 * smuggling).  http_parse_request and http_parse_response (http.c) run
 * these on every head; each returns 1 for a clean head.
 */
#ifndef PROXY_HTTP_STRICT_H
#define PROXY_HTTP_STRICT_H

#include <stddef.h>

#include "http.h" /* struct http_head */

/* The line ends of buf[0..len): every LF after a CR, no CR alone, no line
 * starting with a blank (obs-fold), no blank line first. */
int http_line_ends_clean(const char *buf, size_t len);
/* Every field name followed by its colon at once ("Host : x" is not). */
int http_field_names_clean(const char *buf, const struct http_head *h);
/* The request target is visible ASCII only, and not empty. */
int http_target_clean(const char *buf, const struct http_head *h);
/* Two spaces in a row in the request line (after http_target_clean:
 * only the stretches around the target are looked at).  1 when there are. */
int http_line_has_double_space(const char *buf, const struct http_head *h);

#endif
