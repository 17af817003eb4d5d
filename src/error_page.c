/*
 * error_page: the proxy's own responses (see error_page.h).
 */
#include "error_page.h"

#include <stdio.h>
#include <string.h>

#include "http.h"

/* Status line and fields before the body: never near this long. */
#define ERROR_HEAD_MAX 256

static const struct config_error_page *page_for(const struct config *cfg, int status)
{
    int k = cfg ? config_error_page_index(status) : -1;
    return k >= 0 && cfg->admit.error_pages[k].status ? &cfg->admit.error_pages[k] : NULL;
}

size_t error_page_render(const struct config *cfg, int status, uint32_t retry_after_s, char *out, size_t cap)
{
    const struct config_error_page *pg = page_for(cfg, status);
    const char *body = pg ? pg->body : http_error_body(status);
    size_t body_len = pg ? pg->len : strlen(body);
    char retry[40] = "";

    if (status == 429)
        snprintf(retry, sizeof retry, "Retry-After: %u\r\n", retry_after_s ? retry_after_s : 1);
    else if (status == 503)
        snprintf(retry, sizeof retry, "Retry-After: 1\r\n");
    int n = snprintf(out, cap,
                     "HTTP/1.1 %d %s\r\n"
                     "Content-Type: %s\r\n"
                     "Content-Length: %zu\r\n"
                     "%sConnection: close\r\n\r\n",
                     status, http_reason(status), pg ? "text/html" : "text/plain", body_len, retry);
    if (n <= 0 || (size_t)n >= cap || cap - (size_t)n < body_len)
        return 0;
    memcpy(out + n, body, body_len);
    return (size_t)n + body_len;
}

size_t error_page_write(const struct config *cfg, int status, uint32_t retry_after_s, struct buf **bufp,
                        size_t keep)
{
    const struct config_error_page *pg = page_for(cfg, status);
    struct buf *b = *bufp;
    size_t need = keep + ERROR_HEAD_MAX + (pg ? pg->len : 0);

    if (b->cap < need) {
        struct buf *big = buf_get(need);
        if (!big)
            return 0;
        memcpy(big->data, b->data, keep);
        big->len = keep;
        buf_put(b);
        *bufp = b = big;
    }
    return error_page_render(cfg, status, retry_after_s, b->data + keep, b->cap - keep);
}
