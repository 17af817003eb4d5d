/*
 * host_match: route host names as nginx users write them.
 *
 *   shop.example.com   that name only (case-insensitive)
 *   *.example.com      any subdomain of example.com, not example.com itself
 *   .example.com       example.com and any subdomain
 *
 * Any other '*' is refused when the configuration is read.
 */
#ifndef PROXY_HOST_MATCH_H
#define PROXY_HOST_MATCH_H

#include <stddef.h>

/* Whether `pattern` is one of the three forms above. */
int host_pattern_valid(const char *pattern);
/* Whether the pattern is a wildcard form (it yields to exact names). */
int host_pattern_wild(const char *pattern);
/* Whether the host name name[0..len) (no port) matches `pattern`. */
int host_matches(const char *pattern, const char *name, size_t len);

#endif
