/*
 * config_h2: the `http2` directives of CONTRACT section 8 - `http2
 * max-streams N`, `http2 window SIZE`, `http2 max-resets N` - into the
 * config's h2_* fields.  A keyed directive like `timeout`: each key once.
 */
#include "config.h"
#include "config_parser.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* RFC 9113 6.9.1: a window is at most 2^31-1; below 1 KiB every DATA frame
 * would wait for a WINDOW_UPDATE. */
#define H2_WINDOW_MIN 1024u
#define H2_WINDOW_MAX 0x7fffffffu

static int do_http2(struct config_parser *p, int line, int argc, char **argv)
{
    struct config *cfg = p->cfg;
    (void)argc;

    if (strcmp(argv[1], "max-streams") == 0)
        return config_get_uint(p, line, "http2 max-streams", argv[2], 1, 10000, &cfg->h2_max_streams);
    if (strcmp(argv[1], "max-resets") == 0)
        return config_get_uint(p, line, "http2 max-resets", argv[2], 1, 1000000, &cfg->h2_max_resets);
    if (strcmp(argv[1], "window") == 0) {
        uint64_t v;
        if (config_get_size(p, line, "http2 window", argv[2], &v) < 0)
            return -1;
        if (v < H2_WINDOW_MIN || v > H2_WINDOW_MAX) {
            config_perr(p, line, "http2 window: %s is out of range (1k to 2147483647 bytes)", argv[2]);
            return -1;
        }
        cfg->h2_window = v;
        return 0;
    }
    config_perr(p, line, "http2: unknown setting \"%s\" (expected max-streams, window or max-resets)", argv[1]);
    return -1;
}

const struct config_command config_h2_commands[] = {
    { "http2", 2, 2, "http2 max-streams N | window SIZE | max-resets N", CFG_CMD_KEYED, do_http2 },
    { NULL, 0, 0, NULL, 0, NULL },
};
