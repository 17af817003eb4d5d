/*
 * stats_admin: the pure parts of the stats port's admin actions (see
 * stats_admin.h): the bearer token check and the action path.
 */
#include "stats_admin.h"

#include <string.h>
#include <strings.h>

/* Compares in time that depends on the configured token's length only. */
static int token_equal(const char *token, size_t token_len, const char *given, size_t given_len)
{
    const unsigned char *a = (const unsigned char *)given;
    const unsigned char *b = (const unsigned char *)token;
    unsigned diff = given_len != token_len;

    for (size_t i = 0; i < token_len; i++)
        diff |= b[i] ^ (given_len ? a[i % given_len] : 0u);
    return diff == 0;
}

/* Checks "Authorization: Bearer TOKEN" (scheme case-insensitive). */
int stats_bearer_matches(const char *value, const char *token, size_t token_len)
{
    const char *v = value;
    size_t len;

    while (*v == ' ' || *v == '\t')
        v++;
    if (strncasecmp(v, "Bearer", 6) != 0 || (v[6] != ' ' && v[6] != '\t'))
        return 0;
    v += 6;
    while (*v == ' ' || *v == '\t')
        v++;
    len = strlen(v);
    while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
        len--;
    return token_equal(token, token_len, v, len);
}

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Decodes %XX in place; -1 for a bad escape or a decoded NUL. */
static int percent_decode(char *s)
{
    char *out = s;

    for (char *p = s; *p; p++) {
        if (*p == '%') {
            int hi = hex_value(p[1]), lo = hi < 0 ? -1 : hex_value(p[2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return -1;
            *out++ = (char)(hi * 16 + lo);
            p += 2;
        } else {
            *out++ = *p;
        }
    }
    *out = '\0';
    return 0;
}

/* Splits "/api/pools/P/servers/S/ACTION" (`path` is modified).  Returns 0
 * with the three parts, or -1 when the path has another shape. */
int stats_admin_path_split(char *path, char **pool, char **server, char **action)
{
    char *seg[6];
    int n = 0;
    char *p = path + 1;

    while (n < 6) {
        seg[n++] = p;
        p = strchr(p, '/');
        if (!p)
            break;
        *p++ = '\0';
    }
    if (p || n != 6 || strcmp(seg[0], "api") != 0 || strcmp(seg[1], "pools") != 0 ||
        strcmp(seg[3], "servers") != 0 || !*seg[2] || !*seg[4])
        return -1;
    if (percent_decode(seg[2]) < 0 || percent_decode(seg[4]) < 0)
        return -1;
    *pool = seg[2];
    *server = seg[4];
    *action = seg[5];
    return 0;
}

int stats_admin_action(const char *name, enum server_admin *out)
{
    static const struct { const char *name; enum server_admin admin; } actions[] = {
        { "drain", ADMIN_DRAIN }, { "disable", ADMIN_DISABLE }, { "enable", ADMIN_NONE },
    };

    for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
        if (strcmp(name, actions[i].name) == 0) {
            *out = actions[i].admin;
            return 0;
        }
    return -1;
}
