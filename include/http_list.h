/*
 * http_list: the comma-separated lists of HTTP field values (RFC 9110
 * 5.6.1), such as Connection's, read one token at a time.
 */
#ifndef PROXY_HTTP_LIST_H
#define PROXY_HTTP_LIST_H

#include <stddef.h>

/* Calls fn for each token of v[0..len), trimmed of blanks; empty ones
 * are skipped. */
void http_for_each_token(const char *v, size_t len, void (*fn)(const char *, size_t, void *), void *arg);

#endif
