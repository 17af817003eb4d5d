/*
 * rehearse_json: a minimal JSON reader, enough for `proxy rehearse` to
 * read the proxy's /api/stats (pools, servers, numbers, strings).
 *
 * The text is tokenized in place into a caller-owned token array (no
 * allocation, no copies); each token knows where its subtree ends, so
 * walking an object's members or an array's items skips nested values in
 * one step.  Strings are compared raw: escapes are not decoded (server and
 * pool names are plain identifiers).
 */
#ifndef PROXY_REHEARSE_JSON_H
#define PROXY_REHEARSE_JSON_H

#include <stddef.h>

enum rh_json_type { RJ_OBJECT, RJ_ARRAY, RJ_STRING, RJ_NUMBER, RJ_TRUE, RJ_FALSE, RJ_NULL };

struct rh_json_tok {
    int type;          /* enum rh_json_type */
    int start, end;    /* text[start..end): a string's contents without quotes */
    int next;          /* index of the first token after this value's subtree */
};

struct rh_json {
    const char *text;
    struct rh_json_tok *toks;
    int ntoks, max;
};

/* Parses text[0..len) into toks[0..max).  Returns the token count (the
 * root is token 0), or -1 for invalid JSON, nesting deeper than 64, or more
 * tokens than max. */
int rh_json_parse(struct rh_json *j, const char *text, size_t len, struct rh_json_tok *toks,
                  int max);
/* The value of member `key` of the object at token obj, or -1. */
int rh_json_get(const struct rh_json *j, int obj, const char *key);
/* The first item of the array at token arr (or -1), and the item after
 * item (or -1) within the array at token arr. */
int rh_json_first(const struct rh_json *j, int arr);
int rh_json_after(const struct rh_json *j, int arr, int item);
/* A number's value, or dflt when tok is -1 or not a number. */
double rh_json_num(const struct rh_json *j, int tok, double dflt);
/* Copies a string's raw contents into out[0..cap) (truncated, NUL-ended);
 * "" when tok is -1 or not a string.  Returns out. */
char *rh_json_str(const struct rh_json *j, int tok, char *out, size_t cap);

#endif
