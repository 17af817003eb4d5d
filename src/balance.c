/*
 * balance: server choice and the pool queue (see balance.h).
 */
#include "balance.h"

#include <pthread.h>

#include "health_state.h"

/* One lock for every pool queue and worker mailbox: it is taken only when
 * requests queue, which is already the slow path. */
static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static struct queue_waiter *mailbox[MAX_WORKERS];
static void (*notify_worker)(int worker);

int server_usable(const struct server *srv)
{
    /* Health's notion (up, no drain or disable), and still configured. */
    return health_state_usable(srv) && !atomic_load_explicit(&srv->removed, memory_order_relaxed);
}

static int was_tried(const struct server *srv, struct server *const *tried, size_t ntried)
{
    for (size_t i = 0; i < ntried; i++)
        if (tried[i] == srv)
            return 1;
    return 0;
}

static int server_full(const struct server *srv)
{
    unsigned max = atomic_load_explicit(&srv->max_conns, memory_order_relaxed);
    return max && (unsigned)atomic_load_explicit(&srv->active, memory_order_relaxed) >= max;
}

/* Takes a slot unless max-conns is reached meanwhile by another worker. */
static int take_slot(struct server *srv)
{
    unsigned max = atomic_load_explicit(&srv->max_conns, memory_order_relaxed);
    int cur = atomic_load_explicit(&srv->active, memory_order_relaxed);

    do {
        if (max && (unsigned)cur >= max)
            return -1;
    } while (!atomic_compare_exchange_weak_explicit(&srv->active, &cur, cur + 1,
                                                    memory_order_acq_rel, memory_order_relaxed));
    return 0;
}

static int any_usable(const struct pool *pool, size_t first, size_t n, struct server *const *tried,
                      size_t ntried)
{
    for (size_t k = 0; k < n; k++)
        if (server_usable(pool->servers[first + k]) && !was_tried(pool->servers[first + k], tried, ntried))
            return 1;
    return 0;
}

/* Standbys join while fewer than standby-below primaries are usable, and
 * for a retry once every usable primary has failed this request. */
static int standbys_in_use(const struct pool *pool, struct server *const *tried, size_t ntried)
{
    unsigned up = 0, untried = 0;
    for (size_t i = 0; i < pool->nprimaries; i++)
        if (server_usable(pool->servers[i])) {
            up++;
            untried += !was_tried(pool->servers[i], tried, ntried);
        }
    if (ntried && untried == 0)
        return 1;
    return up < pool->cfg->standby_below;
}

/* Least connections: the lowest (active + 1) / weight, the cost of adding
 * this request, so weights count even when everything is idle.  Scanning
 * from a rotating start and replacing only on a strict improvement makes
 * ties rotate. */
static struct server *pick_least_conn(struct pool *pool, size_t first, size_t n, uint64_t now,
                                      struct server *const *tried, size_t ntried, int *saw_full)
{
    struct server *best = NULL;
    uint64_t best_active = 0, best_weight = 1;
    unsigned start = atomic_fetch_add_explicit(&pool->shared->rr, 1, memory_order_relaxed);

    for (size_t k = 0; k < n; k++) {
        struct server *srv = pool->servers[first + (start + k) % n];
        if (!server_usable(srv) || was_tried(srv, tried, ntried))
            continue;
        if (server_full(srv)) {
            *saw_full = 1;
            continue;
        }
        uint64_t active = (uint64_t)atomic_load_explicit(&srv->active, memory_order_relaxed) + 1;
        uint64_t weight = health_effective_weight(srv, pool->cfg->slow_start_ms, now);
        if (!best || active * best_weight < best_active * weight) {
            best = srv;
            best_active = active;
            best_weight = weight;
        }
    }
    return best;
}

/* Weighted round-robin: position rr modulo the total effective weight. */
static struct server *pick_round_robin(struct pool *pool, size_t first, size_t n, uint64_t now,
                                       struct server *const *tried, size_t ntried, int *saw_full)
{
    uint64_t total = 0;
    for (size_t k = 0; k < n; k++) {
        struct server *srv = pool->servers[first + k];
        if (server_usable(srv) && !was_tried(srv, tried, ntried))
            total += health_effective_weight(srv, pool->cfg->slow_start_ms, now);
    }
    if (total == 0)
        return NULL;
    uint64_t pos = atomic_fetch_add_explicit(&pool->shared->rr, 16, memory_order_relaxed) % total;
    for (size_t pass = 0; pass < 2; pass++) {
        for (size_t k = 0; k < n; k++) {
            struct server *srv = pool->servers[first + k];
            if (!server_usable(srv) || was_tried(srv, tried, ntried))
                continue;
            uint64_t w = health_effective_weight(srv, pool->cfg->slow_start_ms, now);
            if (pass == 0 && pos >= w) {
                pos -= w;
                continue;
            }
            if (!server_full(srv))
                return srv;
            *saw_full = 1;
            if (pass == 1)
                continue;
            pos = 0; /* its turn is taken: the next non-full one gets it */
        }
    }
    return NULL;
}

struct server *balance_pick(struct pool *pool, uint64_t now, struct server *const *tried,
                            size_t ntried, int queued_first, int *result)
{
    size_t first = 0, n = pool->nprimaries;

    /* A request's first pick counts it at the pool, whatever comes of it
     * (a server, the queue, a 503); retries and a queued request's later
     * picks do not (ntried, queued_first), nor does the pick again after
     * the keep-alive race, which puts ntried back to 0: the request was
     * counted already (metrics_pool_request).  Only if a request that got
     * no pick (no route, 400) started on this thread in between does such
     * a re-pick count once more: a rare case of a rare case. */
    if (ntried == 0 && !queued_first && metrics_pool_request(&pool->shared->rate))
        atomic_fetch_add_explicit(&pool->shared->requests, 1, memory_order_relaxed);
    if (standbys_in_use(pool, tried, ntried))
        n = pool->nservers; /* the usable primaries and the standbys together */
    /* A new request waits behind the ones already queued (FIFO), unless
     * nothing could ever serve it: then 503 at once. */
    if (!queued_first && atomic_load_explicit(&pool->shared->queued, memory_order_relaxed) > 0) {
        *result = any_usable(pool, first, n, tried, ntried) ? PICK_FULL : PICK_NONE;
        return NULL;
    }
    for (int attempt = 0; attempt < 8; attempt++) {
        int saw_full = 0;
        struct server *srv = pool->cfg->balance == BALANCE_ROUND_ROBIN
            ? pick_round_robin(pool, first, n, now, tried, ntried, &saw_full)
            : pick_least_conn(pool, first, n, now, tried, ntried, &saw_full);
        if (!srv) {
            *result = saw_full ? PICK_FULL : PICK_NONE;
            return NULL;
        }
        if (take_slot(srv) == 0) {
            /* An attempt, as srv->requests counts them. */
            rate_ring_bump(&srv->rate, now / 1000);
            *result = PICK_OK;
            return srv;
        }
        /* Another worker took its last slot between the look and the take. */
    }
    *result = PICK_FULL;
    return NULL;
}

/* Whether srv is one of pool's standbys: by its place in this generation's
 * pool (primaries first), as a reload may change its role. */
static int is_standby_in(const struct pool *pool, const struct server *srv)
{
    for (size_t k = pool->nprimaries; k < pool->nservers; k++)
        if (pool->servers[k] == srv)
            return 1;
    return 0;
}

struct server *balance_pick_sticky(struct pool *pool, struct server *srv, uint64_t now)
{
    int admin = atomic_load_explicit(&srv->admin, memory_order_relaxed);

    if (atomic_load_explicit(&srv->state, memory_order_acquire) != SRV_UP || admin == ADMIN_DISABLE ||
        atomic_load_explicit(&srv->removed, memory_order_relaxed) ||
        (is_standby_in(pool, srv) && !standbys_in_use(pool, NULL, 0)) ||
        atomic_load_explicit(&pool->shared->queued, memory_order_relaxed) > 0 || take_slot(srv) < 0)
        return NULL;
    if (metrics_pool_request(&pool->shared->rate))
        atomic_fetch_add_explicit(&pool->shared->requests, 1, memory_order_relaxed);
    rate_ring_bump(&srv->rate, now / 1000);
    return srv;
}

static void mailbox_post(struct queue_waiter *w)
{
    w->where = QW_MAILBOX;
    w->next = mailbox[w->worker];
    mailbox[w->worker] = w;
}

/* Moves up to n of the oldest waiters of ps to their workers' mailboxes
 * and wakes those workers once each.  The waiters retry on their own
 * threads: no session is touched here. */
static void wake_oldest(struct pool_shared *ps, uint64_t n)
{
    unsigned char wake[MAX_WORKERS] = {0};

    pthread_mutex_lock(&queue_lock);
    for (; n > 0 && ps->qhead.next != &ps->qhead; n--) {
        struct queue_waiter *w = ps->qhead.next;
        w->prev->next = w->next;
        w->next->prev = w->prev;
        atomic_fetch_sub_explicit(&ps->queued, 1, memory_order_acq_rel);
        mailbox_post(w);
        wake[w->worker] = 1;
    }
    pthread_mutex_unlock(&queue_lock);
    for (int k = 0; k < MAX_WORKERS; k++)
        if (wake[k] && notify_worker)
            notify_worker(k);
}

void balance_release(struct server *srv)
{
    /* seq_cst against the fence in balance_queue: either this sees the
     * waiter just queued, or its second look sees the freed slot. */
    atomic_fetch_sub_explicit(&srv->active, 1, memory_order_seq_cst);
    balance_pass_wake(srv->pool);
}

/* Whether a is served before b: a higher priority, or the same one and
 * an earlier arrival. */
static int waiter_before(const struct queue_waiter *a, const struct queue_waiter *b)
{
    return a->priority > b->priority || (a->priority == b->priority && a->ticket < b->ticket);
}

int balance_queue(struct pool_shared *ps, struct queue_waiter *w, unsigned max_queue, int requeue)
{
    int rc = 0;

    pthread_mutex_lock(&queue_lock);
    if (!requeue && (unsigned)atomic_load(&ps->queued) >= max_queue) {
        rc = -1;
    } else {
        /* Higher priorities first, FIFO within one: a new waiter goes
         * after the last of its class or above (found from the tail: most
         * waiters are of one class); a woken one that lost the race for a
         * slot goes back to where its class and ticket put it, so several
         * of them keep their order. */
        struct queue_waiter *after;
        if (requeue) {
            after = &ps->qhead;
            while (after->next != &ps->qhead && waiter_before(after->next, w))
                after = after->next;
        } else {
            w->ticket = ps->next_ticket++;
            after = ps->qhead.prev;
            while (after != &ps->qhead && after->priority < w->priority)
                after = after->prev;
        }
        w->prev = after;
        w->next = after->next;
        after->next->prev = w;
        after->next = w;
        w->where = QW_QUEUED;
        atomic_fetch_add_explicit(&ps->queued, 1, memory_order_seq_cst);
        rc = w->prev == &ps->qhead; /* nobody waits ahead of it */
    }
    pthread_mutex_unlock(&queue_lock);
    /* Pairs with balance_release: the caller's second pick must see a slot
     * freed by a release that found the queue empty. */
    atomic_thread_fence(memory_order_seq_cst);
    return rc;
}

void balance_dequeue(struct pool_shared *ps, struct queue_waiter *w)
{
    int was_woken = 0;
    pthread_mutex_lock(&queue_lock);
    if (w->where == QW_QUEUED) {
        w->prev->next = w->next;
        w->next->prev = w->prev;
        atomic_fetch_sub_explicit(&ps->queued, 1, memory_order_acq_rel);
    } else if (w->where == QW_MAILBOX) {
        struct queue_waiter **pp = &mailbox[w->worker];
        while (*pp && *pp != w)
            pp = &(*pp)->next;
        if (*pp) {
            *pp = w->next;
            was_woken = 1;
        }
    }
    w->where = QW_NONE;
    pthread_mutex_unlock(&queue_lock);
    if (was_woken)
        balance_pass_wake(ps); /* the slot it was woken for */
}

void balance_pass_wake(struct pool_shared *ps)
{
    if (atomic_load_explicit(&ps->queued, memory_order_seq_cst) > 0)
        wake_oldest(ps, 1);
}

void balance_wake_queue(const struct pool *pool)
{
    struct pool_shared *ps = pool->shared;
    uint64_t room = 0;

    if (atomic_load_explicit(&ps->queued, memory_order_acquire) == 0)
        return;
    size_t n = standbys_in_use(pool, NULL, 0) ? pool->nservers : pool->nprimaries;
    int usable = 0;
    for (size_t k = 0; k < n && room != UINT64_MAX; k++) {
        const struct server *srv = pool->servers[k];
        if (!server_usable(srv))
            continue;
        usable = 1;
        unsigned max = atomic_load_explicit(&srv->max_conns, memory_order_relaxed);
        unsigned active = (unsigned)atomic_load_explicit(&srv->active, memory_order_relaxed);
        if (!max)
            room = UINT64_MAX; /* no limit: every waiter can go */
        else if (active < max)
            room += max - active;
    }
    /* The pool went down: its waiters get their 503 now, as new requests
     * do, not at the end of a request in flight or of timeout queue. */
    if (!usable)
        room = UINT64_MAX;
    if (room > 0)
        wake_oldest(ps, room);
}

void balance_set_notify(void (*notify)(int worker))
{
    notify_worker = notify;
}

void balance_mailbox_run(int worker)
{
    for (;;) {
        pthread_mutex_lock(&queue_lock);
        struct queue_waiter *w = mailbox[worker];
        /* Oldest first: the list is LIFO, so take its last element. */
        struct queue_waiter **pp = &mailbox[worker];
        while (w && w->next) {
            pp = &w->next;
            w = w->next;
        }
        if (w) {
            *pp = NULL;
            w->where = QW_NONE;
        }
        pthread_mutex_unlock(&queue_lock);
        if (!w)
            return;
        w->wake(w);
    }
}
