/*
 * http_list: see http_list.h.
 */
#include "http_list.h"

void http_for_each_token(const char *v, size_t len, void (*fn)(const char *, size_t, void *), void *arg)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t start = i;
        while (i < len && v[i] != ',')
            i++;
        size_t end = i;
        while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
            end--;
        if (end > start)
            fn(v + start, end - start, arg);
    }
}
