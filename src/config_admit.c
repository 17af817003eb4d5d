/*
 * config_admit: the admission directives of CONTRACT section 9 - `limit
 * rate`, `limit client-conns`, `trust`, `client-ip header`, `error-page`
 * and a route's `priority` - parsed into cfg->admit (config.h).  Kept
 * apart from config_directives.c, which calls in here from its keyword
 * table, so each file stays about one thing.
 *
 * An error page is read here, while the configuration is loaded: a page
 * that cannot be read, or is over 64 KiB (it is sent from one buffer), is
 * an error of that line, so a reload with a bad page keeps the old ones.
 */
#include "config.h"
#include "config_parser.h"
#include "config_values.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const int error_page_statuses[CONFIG_ERROR_PAGES] = { 400, 408, 413, 429, 502, 503, 504 };

int config_error_page_index(int status)
{
    for (int i = 0; i < CONFIG_ERROR_PAGES; i++)
        if (error_page_statuses[i] == status)
            return i;
    return -1;
}

/* "50/s" or "600/m" into nanoseconds between tokens and the rate per second
 * (rounded up) for the default burst. */
static int parse_rate(const char *w, uint64_t *interval_ns, uint64_t *per_s)
{
    const char *slash = strchr(w, '/');
    char num[32];
    uint64_t n;

    if (!slash || (size_t)(slash - w) >= sizeof num)
        return -1;
    memcpy(num, w, (size_t)(slash - w));
    num[slash - w] = '\0';
    if (config_value_uint(num, 1, 1000000, &n) != CONFIG_VALUE_OK)
        return -1;
    uint64_t unit_ns;
    if (strcmp(slash + 1, "s") == 0)
        unit_ns = 1000000000ull;
    else if (strcmp(slash + 1, "m") == 0)
        unit_ns = 60000000000ull;
    else
        return -1;
    *interval_ns = unit_ns / n;
    *per_s = (n * 1000000000ull + unit_ns - 1) / unit_ns;
    return 0;
}

/* limit rate R/s [burst B] */
int config_do_limit_rate(struct config_parser *p, int line, int argc, char **argv)
{
    struct config_admission *a = &p->cfg->admit;
    uint64_t interval, per_s;

    if ((argc != 3 && argc != 5) || (argc == 5 && strcmp(argv[3], "burst") != 0)) {
        config_perr(p, line, "limit rate: expected \"limit rate R/s [burst B]\"");
        return -1;
    }
    if (parse_rate(argv[2], &interval, &per_s) < 0) {
        config_perr(p, line, "limit rate: expected a rate such as 50/s or 600/m (1-1000000), got \"%s\"",
                    argv[2]);
        return -1;
    }
    unsigned burst = (unsigned)per_s;
    if (argc == 5 && config_get_uint(p, line, "limit rate burst", argv[4], 1, 1000000, &burst) < 0)
        return -1;
    a->rate_interval_ns = interval;
    a->rate_burst = burst;
    return 0;
}

/* limit client-conns N */
int config_do_limit_client_conns(struct config_parser *p, int line, int argc, char **argv)
{
    if (argc != 3) {
        config_perr(p, line, "limit client-conns: expected \"limit client-conns N\"");
        return -1;
    }
    return config_get_uint(p, line, "limit client-conns", argv[2], 1, 1000000, &p->cfg->admit.client_conns);
}

/* limit clients N: the shared table's size, fixed once it exists. */
int config_do_limit_clients(struct config_parser *p, int line, int argc, char **argv)
{
    if (argc != 3) {
        config_perr(p, line, "limit clients: expected \"limit clients N\"");
        return -1;
    }
    return config_get_uint(p, line, "limit clients", argv[2], 1024, 16777216, &p->cfg->admit.clients);
}

static int append_cidr(struct config_parser *p, int line, const char *what, const char *w,
                       struct cidr **list, size_t *n)
{
    struct cidr c;
    if (cidr_parse(w, &c) < 0) {
        config_perr(p, line, "%s: expected an address or CIDR range such as 10.0.0.0/8 or 2001:db8::/32 "
                    "(no bits set beyond the prefix), got \"%s\"", what, w);
        return -1;
    }
    struct cidr *slot = config_append(p, list, n, sizeof *slot);
    if (!slot)
        return -1;
    *slot = c;
    return 0;
}

/* trust CIDR [CIDR...] */
static int do_trust(struct config_parser *p, int line, int argc, char **argv)
{
    struct config_admission *a = &p->cfg->admit;
    for (int i = 1; i < argc; i++)
        if (append_cidr(p, line, "trust", argv[i], &a->trust, &a->ntrust) < 0)
            return -1;
    return 0;
}

/* A header field name: a token (RFC 9110 5.6.2). */
static int header_name_valid(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!strchr("!#$%&'*+-.^_`|~", *s) && !(*s >= '0' && *s <= '9') && !(*s >= 'a' && *s <= 'z') &&
            !(*s >= 'A' && *s <= 'Z'))
            return 0;
    return 1;
}

/* client-ip header NAME from CIDR [CIDR...] */
static int do_client_ip(struct config_parser *p, int line, int argc, char **argv)
{
    struct config_admission *a = &p->cfg->admit;

    if (argc < 5 || strcmp(argv[1], "header") != 0 || strcmp(argv[3], "from") != 0) {
        config_perr(p, line, "client-ip: expected \"client-ip header NAME from CIDR [CIDR...]\"");
        return -1;
    }
    if (!header_name_valid(argv[2]) || strlen(argv[2]) >= sizeof a->client_ip_header) {
        config_perr(p, line, "client-ip header: \"%s\" is not a header field name", argv[2]);
        return -1;
    }
    if (a->client_ip_header[0] && strcasecmp(a->client_ip_header, argv[2]) != 0) {
        config_perr(p, line, "client-ip header: one header only (\"%s\" already given)", a->client_ip_header);
        return -1;
    }
    snprintf(a->client_ip_header, sizeof a->client_ip_header, "%s", argv[2]);
    for (int i = 4; i < argc; i++)
        if (append_cidr(p, line, "client-ip from", argv[i], &a->client_ip_from, &a->nclient_ip_from) < 0)
            return -1;
    return 0;
}

/* FILE as written: relative to the configuration file's directory. */
static void page_path(const struct config_parser *p, const char *file, char *out, size_t cap)
{
    const char *slash = strrchr(p->file, '/');
    if (file[0] == '/' || !slash)
        snprintf(out, cap, "%s", file);
    else
        snprintf(out, cap, "%.*s/%s", (int)(slash - p->file), p->file, file);
}

/* Reads at most CONFIG_ERROR_PAGE_MAX bytes of the regular file at path;
 * -1 with errno set (EFBIG when there is more, EINVAL for something that
 * is not a regular file: a FIFO or a device would block the reload). */
static int read_page(const char *path, char **body, size_t *len)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        int err = S_ISREG(st.st_mode) ? errno : EINVAL;
        close(fd);
        errno = err;
        return -1;
    }
    char *buf = malloc(CONFIG_ERROR_PAGE_MAX + 1);
    size_t n = 0;
    int err = buf ? 0 : ENOMEM;
    while (!err && n < CONFIG_ERROR_PAGE_MAX + 1) {
        ssize_t got = read(fd, buf + n, CONFIG_ERROR_PAGE_MAX + 1 - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            err = errno;
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    close(fd);
    if (!err && n > CONFIG_ERROR_PAGE_MAX)
        err = EFBIG;
    if (err) {
        free(buf);
        errno = err;
        return -1;
    }
    *body = buf;
    *len = n;
    return 0;
}

/* error-page STATUS FILE */
static int do_error_page(struct config_parser *p, int line, int argc, char **argv)
{
    struct config_admission *a = &p->cfg->admit;
    uint64_t status;
    char path[CONFIG_PATH_MAX + 256];

    (void)argc;
    int k = config_value_uint(argv[1], 100, 599, &status) == CONFIG_VALUE_OK ? config_error_page_index((int)status)
                                                                              : -1;
    if (k < 0) {
        config_perr(p, line, "error-page: expected one of 400 408 413 429 502 503 504, got \"%s\"", argv[1]);
        return -1;
    }
    struct config_error_page *pg = &a->error_pages[k];
    if (pg->status) {
        config_perr(p, line, "duplicate error-page %d (first defined at line %d)", pg->status, pg->line);
        return -1;
    }
    page_path(p, argv[2], path, sizeof path);
    char *body;
    size_t len;
    if (read_page(path, &body, &len) < 0) {
        if (errno == EFBIG)
            config_perr(p, line, "error-page %d: \"%s\" is over 64k", (int)status, path);
        else if (errno == EINVAL)
            config_perr(p, line, "error-page %d: \"%s\" is not a regular file", (int)status, path);
        else
            config_perr(p, line, "error-page %d: cannot read \"%s\": %s", (int)status, path, strerror(errno));
        return -1;
    }
    pg->status = (int)status;
    pg->body = body;
    pg->len = len;
    pg->line = line;
    return 0;
}

int config_route_priority(struct config_parser *p, int line, const char *w, enum route_priority *out)
{
    static const char *const names[] = { [PRIO_LOW] = "low", [PRIO_NORMAL] = "normal", [PRIO_HIGH] = "high" };
    for (int i = 0; i < 3; i++)
        if (strcmp(w, names[i]) == 0) {
            *out = (enum route_priority)i;
            return 0;
        }
    config_perr(p, line, "route priority: expected high, normal or low, got \"%s\"", w);
    return -1;
}

const char *config_priority_name(enum route_priority prio)
{
    return prio == PRIO_HIGH ? "high" : prio == PRIO_LOW ? "low" : "normal";
}

void config_admit_free(struct config *cfg)
{
    free(cfg->admit.trust);
    free(cfg->admit.client_ip_from);
    for (int i = 0; i < CONFIG_ERROR_PAGES; i++)
        free(cfg->admit.error_pages[i].body);
}

const struct config_command config_admit_commands[] = {
    { "trust", 1, CFG_MAX_WORDS - 2, "trust CIDR [CIDR...]", CFG_CMD_REPEAT, do_trust },
    { "client-ip", 4, CFG_MAX_WORDS - 2, "client-ip header NAME from CIDR [CIDR...]", CFG_CMD_REPEAT,
      do_client_ip },
    { "error-page", 2, 2, "error-page STATUS FILE", CFG_CMD_REPEAT, do_error_page },
    { NULL, 0, 0, NULL, 0, NULL },
};
