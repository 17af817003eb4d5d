/*
 * sticky_cookie: the sticky cookie in HTTP/1 heads, pure functions over
 * bytes (no runtime, no sockets): finding it among a Cookie field's pairs,
 * taking it out of them, taking it out of a parsed request head in place,
 * and writing the Set-Cookie line.  sticky.c uses them per request; the
 * unit tests and the request fuzzer (tests/fuzz/fuzz_request.c) drive
 * them alone.
 */
#ifndef PROXY_STICKY_COOKIE_H
#define PROXY_STICKY_COOKIE_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"

/* Finds the first `name=value` pair in one Cookie field value v[0..len)
 * (pairs separated by ';', blanks around them ignored, names compared
 * exactly as cookie names are).  Returns 1 with the value (trimmed) in
 * *val / *vlen, or 0. */
int sticky_cookie_find(const char *v, size_t len, const char *name, const char **val, size_t *vlen);

/* Removes every `name=...` pair from the Cookie value v[0..len) in place,
 * keeping the other pairs and the separators between them as they came.
 * Returns the new length (0: nothing else was in it). */
size_t sticky_cookie_strip(char *v, size_t len, const char *name);

/* Over a parsed request head at buf[0..h->len), followed by more bytes up
 * to buf_len: copies the first value of cookie `name` found in a Cookie
 * field into found[0..cap) (NUL-terminated; a value that does not fit is
 * left empty, as it cannot be one of ours) and sets *present; then strips
 * the cookie from every Cookie field, dropping a field left empty, moving
 * the bytes after it and fixing h (its length, field and Host offsets).
 * Returns the new buf_len (the head only ever shrinks). */
size_t sticky_head_strip(char *buf, size_t buf_len, struct http_head *h, const char *name,
                         char *found, size_t cap, int *present);

/* Writes the Set-Cookie field line (CRLF included) giving `id` under
 * `name`: `Set-Cookie: NAME=ID; Path=/[; Max-Age=N]; HttpOnly[; Secure];
 * SameSite=Lax`.  max_age_s 0 leaves Max-Age out (a session cookie).
 * Returns its length, or 0 when it does not fit in cap. */
size_t sticky_set_cookie(char *out, size_t cap, const char *name, const char *id, uint64_t max_age_s,
                         int secure);

#endif
