/*
 * main: the command line, start-up, signals, reloads and the main loop.
 *
 * The main thread runs libev's default loop: signals, the health checker,
 * the stats port and reloads.  Requests are served by the worker threads.
 */
#include <errno.h>
#include <ev.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "event.h"
#include "fd_limit.h"
#include "health.h"
#include "listen.h"
#include "log.h"
#include "metrics.h"
#include "privdrop.h"
#include "rehearse.h"
#include "resolve.h"
#include "runtime.h"
#include "service.h"
#include "surge.h"
#include "tls_ctx.h"
#include "tls_watch.h"
#include "stats.h"
#include "worker.h"

#define PROXY_VERSION "0.1.0"
#define DEFAULT_CONFIG "/etc/proxy/proxy.conf"
/* How long a start waits for a listen address still held (a previous
 * process killed but not yet gone): long enough for that, short enough
 * that a real conflict fails the start soon. */
#define LISTEN_START_WAIT_MS 5000
/* How long a start waits for servers' host names to resolve before it
 * serves (a name still without an answer then stays down until it has
 * one): /etc/hosts answers at once, a working DNS in milliseconds. */
#define RESOLVE_START_WAIT_MS 3000

static const char *config_path = DEFAULT_CONFIG;
static const char *pid_path;
static struct listen_set listeners;
static unsigned running_workers;
static int running_affinity;
static int stopping;
static ev_timer shutdown_timer;
static ev_async worker_exit_async;
static struct ev_loop *main_loop;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: proxy [-c FILE] [-p PIDFILE] [-t] [-V] [-h]\n"
            "       proxy rehearse URL [options]   (a load test: proxy rehearse -h)\n"
            "  -c FILE   configuration file (default: " DEFAULT_CONFIG ")\n"
            "  -p FILE   write the process id there once listening (removed at exit)\n"
            "  -t        check the configuration and exit\n"
            "  -V        print the version and exit (also --version)\n"
            "  -h        this help (also --help)\n");
}

static unsigned resolve_workers(unsigned configured)
{
    if (configured)
        return configured;
    /* The CPUs this process may run on (a container's cpuset), not all. */
    long n = usable_cpus(NULL);
    if (n == 0)
        n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    return n > MAX_WORKERS ? MAX_WORKERS : (unsigned)n;
}

/* Loads and validates; prints every error.  NULL on failure, and then `why`
 * (when not NULL) gets the first error and how many more there are, for
 * the reload-failed event: a notify program sees no log. */
static struct config *load_config(char *why, size_t whysize)
{
    struct config_errors errs = { 0 };
    struct config *cfg = config_load(config_path, &errs);

    if (!cfg) {
        for (size_t i = 0; i < errs.n; i++)
            log_errorx("%s", errs.msgs[i]);
        char none[CONFIG_PATH_MAX + 64];
        snprintf(none, sizeof none, "%s: cannot load the configuration", config_path);
        if (errs.n == 0)
            log_errorx("%s", none);
        if (why && errs.n > 1)
            snprintf(why, whysize, "%s (and %zu more errors)", errs.msgs[0], errs.n - 1);
        else if (why)
            snprintf(why, whysize, "%s", errs.n ? errs.msgs[0] : none);
    }
    config_errors_clear(&errs);
    return cfg;
}

/* The generation's TLS contexts, every certificate and key checked; NULL
 * (the reason logged) when one is unusable.  An empty set without TLS. */
#define TLS_ERR_MAX (CONFIG_PATH_MAX + 256)

static struct tls_set *load_tls(const struct config *cfg, FILE *out, char *err)
{
    struct tls_set *tls = tls_set_build(cfg, err, TLS_ERR_MAX);
    if (!tls) {
        if (out)
            fprintf(out, "%s\n", err);
        else
            log_errorx("%s", err);
    }
    return tls;
}

/* Whether cfg's access log can be written: 0, or -1 with why set to
 * "FILE:LINE: access-log PATH: reason". */
static int check_access_log(const struct config *cfg, char *why, size_t cap)
{
    if (access_log_check(cfg->access_log) == 0)
        return 0;
    snprintf(why, cap, "%s:%d: access-log %s: %s", cfg->file ? cfg->file : config_path, cfg->access_log_line,
             cfg->access_log, strerror(errno));
    return -1;
}

/* Whether cfg's `user` exists (the start drops to it after binding, too
 * late to say so before the listeners opened): 0, or -1 with why set. */
static int check_user(const struct config *cfg, char *why, size_t cap)
{
    if (!cfg->user[0] || getpwnam(cfg->user))
        return 0;
    snprintf(why, cap, "%s:%d: user %s: no such user", cfg->file ? cfg->file : config_path, cfg->user_line,
             cfg->user);
    return -1;
}

/* Settings that apply to the whole process, at start and each reload
 * (the access log checked before: check_access_log). */
static int apply_process_settings(const struct config *cfg)
{
    log_set_level(cfg->log_level);
    event_set_notify(cfg->notify);
    if (access_log_open(cfg->access_log) < 0) {
        log_error("access-log %s", cfg->access_log);
        return -1;
    }
    return 0;
}

/* ---- reload --------------------------------------------------------------------- */

static void reload_failed(const char *why)
{
    atomic_fetch_add(&metrics.reloads_failed, 1);
    log_warnx("reload failed: %s; the running configuration stays", why);
    event_emit(EVT_RELOAD_FAILED, NULL, NULL, why);
}

static void reload(void)
{
    struct config *cfg;
    struct listen_set next;
    struct runtime *cur = runtime_current();

    log_info("reloading %s", config_path);
    char reason[CONFIG_PATH_MAX + 512];
    if (!(cfg = load_config(reason, sizeof reason))) {
        reload_failed(reason);
        return;
    }
    if (check_access_log(cfg, reason, sizeof reason) < 0) {
        config_free(cfg);
        log_errorx("%s", reason);
        reload_failed(reason);
        return;
    }
    char tls_err[TLS_ERR_MAX];
    struct tls_set *tls = load_tls(cfg, NULL, tls_err);
    if (!tls) {
        config_free(cfg);
        /* The event names the file too: a notify program sees no log. */
        char why[TLS_ERR_MAX + 64];
        snprintf(why, sizeof why, "%s; the old certificates stay", tls_err);
        reload_failed(why);
        return;
    }
    /* Before opening anything: a reload that needs more fds gets them (as
     * far as the limits allow) or says it will not. */
    if (fd_limit_needed(cfg, running_workers) > fd_limit_needed(cur->cfg, running_workers))
        fd_limit_fit(cfg, running_workers);
    if (listen_set_open(&next, cfg, running_workers, &listeners) < 0) {
        if (cur->cfg->user[0] && geteuid() != 0)
            log_warnx("running as user %s: a new listen address on a port under 1024 cannot be bound "
                      "now (restart to bind it, or give the binary CAP_NET_BIND_SERVICE)",
                      cur->cfg->user);
        config_free(cfg);
        tls_set_free(tls);
        reload_failed("cannot open a listen address");
        return;
    }
    /* The stats port next, so that an address it cannot take fails the
     * reload as a listen address does (the old one serves on). */
    if (stats_apply(cfg) < 0) {
        char why[CONFIG_ADDR_TEXT_MAX + 64];
        snprintf(why, sizeof why, "stats: cannot listen on %s", cfg->stats_addr.text);
        listen_set_close_unused(&next, &listeners);
        listen_set_free(&next);
        config_free(cfg);
        tls_set_free(tls);
        reload_failed(why);
        return;
    }
    if (strcmp(cfg->user, cur->cfg->user) != 0)
        log_warnx("user: the change takes effect at the next start");
    if (cfg->cpu_affinity != running_affinity)
        log_warnx("cpu-affinity: the change takes effect at the next start");
    if (resolve_workers(cfg->workers) != running_workers)
        log_warnx("workers: the change to %u takes effect at the next start; %u keep running",
                  resolve_workers(cfg->workers), running_workers);
    struct runtime *rt = runtime_build(cfg, cur);
    if (!rt) {
        tls_set_free(tls);
        listen_set_close_unused(&next, &listeners);
        listen_set_free(&next);
        reload_failed("out of memory");
        return;
    }
    rt->tls = tls;
    apply_process_settings(rt->cfg);
    runtime_publish(rt);
    /* Workers close the sockets they no longer get. */
    workers_update(rt, &next);
    listen_set_free(&listeners);
    listeners = next;
    resolve_apply(rt);
    health_apply(rt);
    tls_watch_check(rt->tls, time(NULL));
    atomic_store(&metrics.generation, rt->generation);
    atomic_fetch_add(&metrics.reloads_ok, 1);
    char detail[64];
    snprintf(detail, sizeof detail, "generation %llu", (unsigned long long)rt->generation);
    log_info("reload done: %s", detail);
    event_emit(EVT_RELOAD_OK, NULL, NULL, detail);
}

/* Tells the service manager the proxy is serving, and how it stands. */
static void notify_ready(void)
{
    const struct runtime *rt = runtime_current();
    unsigned up = 0, n = 0;
    for (size_t i = 0; rt && i < rt->npools; i++)
        for (size_t j = 0; j < rt->pools[i].nservers; j++, n++)
            up += atomic_load(&rt->pools[i].servers[j]->state) == SRV_UP;
    service_ready(rt ? (unsigned long long)rt->generation : 0, up, n);
}

/* ---- signals and stopping ---------------------------------------------------------- */

static void finish_stop(void)
{
    ev_break(main_loop, EVBREAK_ALL);
}

static void worker_exited_cb(struct ev_loop *loop, ev_async *a, int revents)
{
    (void)loop;
    (void)a;
    (void)revents;
    if (stopping && workers_all_exited())
        finish_stop();
}

static void worker_exited(void)
{
    ev_async_send(main_loop, &worker_exit_async);
}

static void shutdown_timeout_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)t;
    (void)revents;
    log_warnx("timeout shutdown reached: closing the requests still in flight");
    /* The workers close them (each gets its access-log line, aborted=shutdown)
     * and exit; main() then joins them and says how many were cut. */
    workers_stop_now();
    finish_stop();
}

static void stop_signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)revents;
    if (stopping) {
        log_warnx("second stop signal: exiting now");
        access_log_close();
        service_pidfile_remove();
        _exit(0);
    }
    stopping = 1;
    service_notify("STOPPING=1");
    log_info("signal %d: graceful stop", w->signum);
    stats_stop();
    workers_stop();
    ev_timer_init(&shutdown_timer, shutdown_timeout_cb,
                  (double)runtime_current()->cfg->timeout_shutdown_ms / 1000.0, 0.);
    ev_timer_start(loop, &shutdown_timer);
    if (workers_all_exited())
        finish_stop();
}

static void hup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    if (stopping) {
        log_warnx("SIGHUP during a graceful stop: ignored");
        return;
    }
    /* A unit's `systemctl reload` waits for READY=1 after RELOADING=1,
     * whether the reload took or the running configuration stayed. */
    service_reloading();
    reload();
    notify_ready();
}

static void usr1_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    const char *where = runtime_current()->cfg->access_log;
    if (access_log_open(where) < 0)
        log_error("reopening access-log %s", where);
    else
        log_info("access log reopened");
}

/* ---- start ----------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    int check_only = 0;
    int opt;

    if (argc > 1 && strcmp(argv[1], "rehearse") == 0)
        return rehearse_main(argc - 1, argv + 1);
    /* The long names an operator tries first (nginx and HAProxy take
     * neither, and answer with an error). */
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    while ((opt = getopt_long(argc, argv, "c:p:tVh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': config_path = optarg; break;
        case 'p': pid_path = optarg; break;
        case 't': check_only = 1; break;
        case 'V': printf("proxy %s\n", PROXY_VERSION); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "proxy: unexpected argument \"%s\"\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (check_only) {
        struct config_errors errs = { 0 };
        struct config *cfg = config_load(config_path, &errs);
        for (size_t i = 0; i < errs.n; i++)
            fprintf(stderr, "%s\n", errs.msgs[i]);
        config_errors_clear(&errs);
        if (!cfg)
            return 1;
        char tls_err[TLS_ERR_MAX], why[CONFIG_PATH_MAX * 2 + 64];
        int checks_ok = check_access_log(cfg, why, sizeof why) == 0;
        if (!checks_ok)
            fprintf(stderr, "%s\n", why);
        if (check_user(cfg, why, sizeof why) < 0) {
            fprintf(stderr, "%s\n", why);
            checks_ok = 0;
        }
        struct tls_set *tls = load_tls(cfg, stderr, tls_err);
        config_free(cfg);
        if (!tls || !checks_ok) {
            tls_set_free(tls);
            return 1;
        }
        tls_set_free(tls);
        printf("configuration OK\n");
        return 0;
    }

    signal(SIGPIPE, SIG_IGN);
    /* A SIGHUP or SIGUSR1 during the start (which may wait seconds for a
     * listen address or the resolver: logrotate's postrotate, a deploy
     * script's reload) would kill the process by their default action.
     * Held until the loop watches them, and then acted on; the worker
     * threads, started meanwhile, keep them blocked, so they reach the
     * main thread. */
    sigset_t held;
    sigemptyset(&held);
    sigaddset(&held, SIGHUP);
    sigaddset(&held, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &held, NULL);
    metrics.start_ms = now_ms();
    main_loop = ev_default_loop(EVFLAG_AUTO);

    struct config *cfg = load_config(NULL, 0);
    if (!cfg)
        return 1;
    char why[CONFIG_PATH_MAX * 2 + 64];
    if (check_access_log(cfg, why, sizeof why) < 0 || check_user(cfg, why, sizeof why) < 0) {
        log_errorx("%s", why);
        config_free(cfg);
        return 1;
    }
    if (apply_process_settings(cfg) < 0) {
        config_free(cfg);
        return 1;
    }
    char tls_err[TLS_ERR_MAX];
    struct tls_set *tls = load_tls(cfg, NULL, tls_err);
    if (!tls) {
        config_free(cfg);
        return 1;
    }
    running_workers = resolve_workers(cfg->workers);
    running_affinity = cfg->cpu_affinity;
    fd_limit_fit(cfg, running_workers);
    if (listen_set_open_wait(&listeners, cfg, running_workers, NULL, LISTEN_START_WAIT_MS) < 0) {
        config_free(cfg);
        return 1;
    }
    struct runtime *rt = runtime_build(cfg, NULL);
    if (!rt) {
        log_errorx("out of memory");
        return 1;
    }
    rt->tls = tls;
    /* A resolver that cannot start leaves servers given by name down,
     * each saying why: servers given by IP still serve. */
    resolve_start(main_loop);
    resolve_apply(rt);
    resolve_settle(RESOLVE_START_WAIT_MS);
    runtime_publish(rt);
    atomic_store(&metrics.generation, rt->generation);

    if (stats_start(main_loop, rt->cfg) < 0)
        return 1;
    health_start(main_loop);
    health_on_server_down(workers_server_down);
    health_apply(rt);
    tls_watch_start(main_loop);
    tls_watch_check(rt->tls, time(NULL));
    surge_start(main_loop);

    /* The pid file while still root: /run and its like are root's (as
     * the user, the write failed and the start with it).  It may then
     * stay after the stop, its directory not the user's to change. */
    if (pid_path && service_pidfile_write(pid_path) < 0) {
        log_error("pid file %s", pid_path);
        return 1;
    }
    /* Everything that needs root is open (listeners, the stats port, the
     * access log, the pid file); the worker threads start as the user. */
    if (rt->cfg->user[0] && privdrop_to(rt->cfg->user) < 0)
        return 1;

    ev_async_init(&worker_exit_async, worker_exited_cb);
    ev_async_start(main_loop, &worker_exit_async);
    if (workers_start(running_workers, rt, &listeners, worker_exited) < 0) {
        log_errorx("cannot start the workers");
        return 1;
    }

    ev_signal sig_term, sig_int, sig_hup, sig_usr1;
    ev_signal_init(&sig_term, stop_signal_cb, SIGTERM);
    ev_signal_init(&sig_int, stop_signal_cb, SIGINT);
    ev_signal_init(&sig_hup, hup_cb, SIGHUP);
    ev_signal_init(&sig_usr1, usr1_cb, SIGUSR1);
    ev_signal_start(main_loop, &sig_term);
    ev_signal_start(main_loop, &sig_int);
    ev_signal_start(main_loop, &sig_hup);
    ev_signal_start(main_loop, &sig_usr1);
    /* Watched now: what came during the start is acted on. */
    pthread_sigmask(SIG_UNBLOCK, &held, NULL);

    for (size_t i = 0; i < rt->cfg->nlistens; i++)
        log_info("listening on %s", rt->cfg->listens[i].addr.text);
    log_info("proxy %s started: %u workers, generation %llu", PROXY_VERSION, running_workers,
             (unsigned long long)rt->generation);
    notify_ready();

    ev_run(main_loop, 0);

    workers_join();
    unsigned long long cut = (unsigned long long)atomic_load(&metrics.cut_shutdown);
    if (cut)
        log_warnx("graceful stop: %llu request%s cut short at timeout shutdown", cut, cut == 1 ? "" : "s");
    resolve_stop();
    health_stop(); /* after the workers: they report failures to it */
    tls_watch_stop();
    surge_stop();
    listen_set_free(&listeners);
    runtime_publish(NULL);
    service_pidfile_remove();
    log_info("stopped");
    access_log_close();
    return 0;
}
