/*
 * error_page: the one place the proxy's own responses are made - the
 * short text of CONTRACT section 3, or the operator's `error-page` for
 * 400 408 413 429 502 503 504 (served as text/html) - with the
 * Retry-After of the statuses that have one (429: seconds until the
 * client's next token; 503: 1).
 */
#ifndef PROXY_ERROR_PAGE_H
#define PROXY_ERROR_PAGE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"

/* Writes the response for `status` into out[cap] (closing the connection
 * after: Connection: close); `retry_after_s` is used for a 429.  Returns
 * its length, 0 when it does not fit. */
size_t error_page_render(const struct config *cfg, int status, uint32_t retry_after_s, char *out, size_t cap);
/* The same after the first `keep` bytes of *bufp (interim heads already
 * relayed), first trading *bufp for a larger buffer with those bytes when
 * a page needs the room.  Returns the response's length, 0 when it cannot
 * be made (out of memory). */
size_t error_page_write(const struct config *cfg, int status, uint32_t retry_after_s, struct buf **bufp,
                        size_t keep);

#endif
