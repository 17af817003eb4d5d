/*
 * rehearse_json: recursive descent over JSON into a flat token array
 * (see rehearse_json.h).
 */
#include <stdlib.h>
#include <string.h>

#include "rehearse_json.h"

#define RJ_MAX_DEPTH 64

struct rj_parser {
    const char *s;
    size_t len, pos;
    struct rh_json *j;
};

static void skip_ws(struct rj_parser *p)
{
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
                               p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
        p->pos++;
}

static int new_tok(struct rj_parser *p, int type, size_t start)
{
    struct rh_json *j = p->j;
    if (j->ntoks >= j->max)
        return -1;
    struct rh_json_tok *t = &j->toks[j->ntoks];
    t->type = type;
    t->start = (int)start;
    t->end = (int)start;
    t->next = j->ntoks + 1;
    return j->ntoks++;
}

static int parse_value(struct rj_parser *p, int depth);

static int parse_string(struct rj_parser *p)
{
    /* p->pos is on the opening quote. */
    size_t start = ++p->pos;
    while (p->pos < p->len && p->s[p->pos] != '"') {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c < 0x20)
            return -1;
        if (c == '\\') {
            if (++p->pos >= p->len || !strchr("\"\\/bfnrtu", p->s[p->pos]))
                return -1;
        }
        p->pos++;
    }
    if (p->pos >= p->len)
        return -1;
    int t = new_tok(p, RJ_STRING, start);
    if (t < 0)
        return -1;
    p->j->toks[t].end = (int)p->pos;
    p->pos++;
    return t;
}

static int parse_number(struct rj_parser *p)
{
    size_t start = p->pos;
    while (p->pos < p->len && strchr("+-0123456789.eE", p->s[p->pos]))
        p->pos++;
    if (p->pos == start)
        return -1;
    int t = new_tok(p, RJ_NUMBER, start);
    if (t < 0)
        return -1;
    p->j->toks[t].end = (int)p->pos;
    return t;
}

static int parse_word(struct rj_parser *p, const char *w, int type)
{
    size_t n = strlen(w);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, w, n) != 0)
        return -1;
    int t = new_tok(p, type, p->pos);
    if (t < 0)
        return -1;
    p->pos += n;
    p->j->toks[t].end = (int)p->pos;
    return t;
}

/* Objects and arrays: `close` is the closing bracket, members have keys. */
static int parse_container(struct rj_parser *p, int depth, int type, char close)
{
    int t = new_tok(p, type, p->pos);
    if (t < 0 || depth > RJ_MAX_DEPTH)
        return -1;
    p->pos++;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
    } else {
        for (;;) {
            skip_ws(p);
            if (type == RJ_OBJECT) {
                if (p->pos >= p->len || p->s[p->pos] != '"' || parse_string(p) < 0)
                    return -1;
                skip_ws(p);
                if (p->pos >= p->len || p->s[p->pos] != ':')
                    return -1;
                p->pos++;
            }
            if (parse_value(p, depth + 1) < 0)
                return -1;
            skip_ws(p);
            if (p->pos < p->len && p->s[p->pos] == ',') {
                p->pos++;
                continue;
            }
            if (p->pos < p->len && p->s[p->pos] == close) {
                p->pos++;
                break;
            }
            return -1;
        }
    }
    p->j->toks[t].end = (int)p->pos;
    p->j->toks[t].next = p->j->ntoks;
    return t;
}

static int parse_value(struct rj_parser *p, int depth)
{
    skip_ws(p);
    if (p->pos >= p->len)
        return -1;
    switch (p->s[p->pos]) {
    case '{': return parse_container(p, depth, RJ_OBJECT, '}');
    case '[': return parse_container(p, depth, RJ_ARRAY, ']');
    case '"': return parse_string(p);
    case 't': return parse_word(p, "true", RJ_TRUE);
    case 'f': return parse_word(p, "false", RJ_FALSE);
    case 'n': return parse_word(p, "null", RJ_NULL);
    default: return parse_number(p);
    }
}

int rh_json_parse(struct rh_json *j, const char *text, size_t len, struct rh_json_tok *toks,
                  int max)
{
    struct rj_parser p = { .s = text, .len = len, .pos = 0, .j = j };
    j->text = text;
    j->toks = toks;
    j->ntoks = 0;
    j->max = max;
    if (parse_value(&p, 0) < 0)
        return -1;
    skip_ws(&p);
    return p.pos == len ? j->ntoks : -1;
}

int rh_json_get(const struct rh_json *j, int obj, const char *key)
{
    if (obj < 0 || j->toks[obj].type != RJ_OBJECT)
        return -1;
    size_t klen = strlen(key);
    int end = j->toks[obj].next;
    for (int k = obj + 1; k < end; k = j->toks[k + 1].next) {
        const struct rh_json_tok *t = &j->toks[k];
        if ((size_t)(t->end - t->start) == klen && memcmp(j->text + t->start, key, klen) == 0)
            return k + 1;
    }
    return -1;
}

int rh_json_first(const struct rh_json *j, int arr)
{
    if (arr < 0 || j->toks[arr].type != RJ_ARRAY || j->toks[arr].next == arr + 1)
        return -1;
    return arr + 1;
}

int rh_json_after(const struct rh_json *j, int arr, int item)
{
    if (arr < 0 || item < 0)
        return -1;
    int n = j->toks[item].next;
    return n < j->toks[arr].next ? n : -1;
}

double rh_json_num(const struct rh_json *j, int tok, double dflt)
{
    if (tok < 0 || j->toks[tok].type != RJ_NUMBER)
        return dflt;
    char buf[64];
    int n = j->toks[tok].end - j->toks[tok].start;
    if (n <= 0 || n >= (int)sizeof buf)
        return dflt;
    memcpy(buf, j->text + j->toks[tok].start, (size_t)n);
    buf[n] = '\0';
    char *end;
    double v = strtod(buf, &end);
    return *end ? dflt : v;
}

char *rh_json_str(const struct rh_json *j, int tok, char *out, size_t cap)
{
    out[0] = '\0';
    if (tok < 0 || j->toks[tok].type != RJ_STRING || cap == 0)
        return out;
    size_t n = (size_t)(j->toks[tok].end - j->toks[tok].start);
    if (n >= cap)
        n = cap - 1;
    memcpy(out, j->text + j->toks[tok].start, n);
    out[n] = '\0';
    return out;
}
