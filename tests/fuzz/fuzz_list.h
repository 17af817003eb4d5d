/*
 * fuzz_list: the harnesses' own reading of a comma-separated list (RFC
 * 9110 5.6.1), written apart from src/http_list.c so that a harness checks
 * the proxy against the book rather than against itself.
 */
#ifndef PROXY_FUZZ_LIST_H
#define PROXY_FUZZ_LIST_H

#include <stddef.h>
#include <strings.h>

/* Whether the list v[0..vlen) holds the token name[0..nlen), in any case
 * (empty elements and the blanks around each are not part of it). */
static inline int fuzz_list_names(const char *v, size_t vlen, const char *name, size_t nlen)
{
    size_t j = 0;
    while (j < vlen) {
        while (j < vlen && (v[j] == ' ' || v[j] == '\t' || v[j] == ','))
            j++;
        size_t s = j;
        while (j < vlen && v[j] != ',')
            j++;
        size_t e = j;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e > s && e - s == nlen && strncasecmp(v + s, name, nlen) == 0)
            return 1;
    }
    return 0;
}

#endif
