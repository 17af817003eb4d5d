/*
 * host_match: exact and wildcard host names (see host_match.h).
 */
#include "host_match.h"

#include <string.h>
#include <strings.h>

int host_pattern_valid(const char *pattern)
{
    const char *star = strchr(pattern, '*');
    if (!star)
        return strcmp(pattern, ".") != 0;
    /* Only a leading "*." with a name after it, and no second '*'. */
    return star == pattern && pattern[1] == '.' && pattern[2] && !strchr(pattern + 1, '*') &&
           pattern[2] != '.';
}

int host_pattern_wild(const char *pattern)
{
    return pattern[0] == '*' || pattern[0] == '.';
}

/* name ends with suffix (case-insensitive), with at least `more` bytes before it. */
static int ends_with(const char *name, size_t len, const char *suffix, size_t more)
{
    size_t n = strlen(suffix);
    return len >= n + more && strncasecmp(name + len - n, suffix, n) == 0;
}

int host_matches(const char *pattern, const char *name, size_t len)
{
    if (pattern[0] == '*') /* "*.example.com": ".example.com" with a label before it */
        return ends_with(name, len, pattern + 1, 1);
    if (pattern[0] == '.') /* ".example.com": "example.com" itself, or as "*." */
        return (strlen(pattern + 1) == len && strncasecmp(pattern + 1, name, len) == 0) ||
               ends_with(name, len, pattern, 1);
    return strlen(pattern) == len && strncasecmp(pattern, name, len) == 0;
}
