/*
 * sticky_cookie: the sticky cookie in Cookie fields, request heads and the
 * Set-Cookie line (see sticky_cookie.h).
 */
#include "sticky_cookie.h"

#include <stdio.h>
#include <string.h>

/* ---- Cookie fields -------------------------------------------------------------------------- */

static int blank(char c)
{
    return c == ' ' || c == '\t';
}

/* The next pair of v[*i..len): its trimmed bounds; *i moves past its ';'.
 * Returns 0 at the end. */
static int next_pair(const char *v, size_t len, size_t *i, size_t *start, size_t *end)
{
    while (*i < len) {
        size_t s = *i;
        while (*i < len && v[*i] != ';')
            (*i)++;
        size_t e = *i;
        if (*i < len)
            (*i)++;
        while (s < e && blank(v[s]))
            s++;
        while (e > s && blank(v[e - 1]))
            e--;
        if (e > s) {
            *start = s;
            *end = e;
            return 1;
        }
    }
    return 0;
}

/* Whether the pair p[0..n) is named `name`; its value's offset in *voff. */
static int pair_named(const char *p, size_t n, const char *name, size_t *voff)
{
    const char *eq = memchr(p, '=', n);
    if (!eq)
        return 0;
    size_t nl = (size_t)(eq - p);
    while (nl > 0 && blank(p[nl - 1]))
        nl--;
    if (nl != strlen(name) || memcmp(p, name, nl) != 0)
        return 0;
    size_t v = (size_t)(eq - p) + 1;
    while (v < n && blank(p[v]))
        v++;
    *voff = v;
    return 1;
}

int sticky_cookie_find(const char *v, size_t len, const char *name, const char **val, size_t *vlen)
{
    size_t i = 0, s, e, voff;

    while (next_pair(v, len, &i, &s, &e)) {
        if (pair_named(v + s, e - s, name, &voff)) {
            *val = v + s + voff;
            *vlen = e - s - voff;
            return 1;
        }
    }
    return 0;
}

size_t sticky_cookie_strip(char *v, size_t len, const char *name)
{
    size_t i = 0, s, e, voff, w = 0, prev_end = 0;
    int wrote = 0;

    /* The output is a subsequence of the input (kept pairs, each after the
     * separator that preceded it), so writing never overtakes reading. */
    while (next_pair(v, len, &i, &s, &e)) {
        if (pair_named(v + s, e - s, name, &voff)) {
            prev_end = e;
            continue;
        }
        if (wrote) {
            memmove(v + w, v + prev_end, s - prev_end);
            w += s - prev_end;
        }
        memmove(v + w, v + s, e - s);
        w += e - s;
        wrote = 1;
        prev_end = e;
    }
    return w;
}

/* Takes buf[from, from+cut) out of the head and what follows it. */
static size_t head_cut(char *buf, size_t buf_len, struct http_head *h, uint32_t after_field, size_t from,
                       size_t cut)
{
    memmove(buf + from, buf + from + cut, buf_len - from - cut);
    h->len -= (uint32_t)cut;
    if (h->host_off > from)
        h->host_off -= (uint32_t)cut;
    for (uint32_t j = after_field; j < h->nfields; j++) {
        h->fields[j].name_off -= (uint32_t)cut;
        h->fields[j].value_off -= (uint32_t)cut;
    }
    return buf_len - cut;
}

size_t sticky_head_strip(char *buf, size_t buf_len, struct http_head *h, const char *name,
                         char *found, size_t cap, int *present)
{
    *present = 0;
    if (cap)
        found[0] = '\0';
    for (uint32_t i = 0; i < h->nfields;) {
        struct http_field *f = &h->fields[i];
        const char *val;
        size_t vlen;

        if (!http_token_eq(buf + f->name_off, f->name_len, "cookie") ||
            !sticky_cookie_find(buf + f->value_off, f->value_len, name, &val, &vlen)) {
            i++;
            continue;
        }
        if (!*present) {
            *present = 1;
            if (vlen < cap) {
                memcpy(found, val, vlen);
                found[vlen] = '\0';
            }
        }
        size_t left = sticky_cookie_strip(buf + f->value_off, f->value_len, name);
        if (left) {
            /* The shorter value stays in place; what followed it moves up. */
            buf_len = head_cut(buf, buf_len, h, i + 1, f->value_off + left, f->value_len - left);
            f->value_len = (uint32_t)left;
            i++;
            continue;
        }
        /* Nothing else in it: the whole line goes. */
        size_t line_end = i + 1 < h->nfields ? h->fields[i + 1].name_off : h->len - 2;
        buf_len = head_cut(buf, buf_len, h, i + 1, f->name_off, line_end - f->name_off);
        memmove(&h->fields[i], &h->fields[i + 1], (h->nfields - i - 1) * sizeof h->fields[0]);
        h->nfields--;
    }
    return buf_len;
}

size_t sticky_set_cookie(char *out, size_t cap, const char *name, const char *id, uint64_t max_age_s,
                         int secure)
{
    char age[40] = "";

    if (max_age_s)
        snprintf(age, sizeof age, "; Max-Age=%llu", (unsigned long long)max_age_s);
    int n = snprintf(out, cap, "Set-Cookie: %s=%s; Path=/%s; HttpOnly%s; SameSite=Lax\r\n", name, id, age,
                     secure ? "; Secure" : "");
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}
