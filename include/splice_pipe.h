/*
 * splice_pipe: kernel pipes for moving large response bodies from a server
 * socket to a client socket with splice(2), without copying them through
 * user space.  Each worker thread keeps a few empty pipes for reuse.
 */
#ifndef PROXY_SPLICE_PIPE_H
#define PROXY_SPLICE_PIPE_H

#include <stddef.h>
#include <sys/types.h>

struct splice_pipe {
    int rd, wr;
    size_t cap;    /* what the pipe holds at most */
    size_t held;   /* bytes in it now */
};

/* An empty pipe, from the thread's cache or new.  0, or -1 (no pipes: the
 * caller moves the body through its buffers instead). */
int splice_pipe_get(struct splice_pipe *p);
/* Gives a pipe back: cached when empty, closed otherwise. */
void splice_pipe_put(struct splice_pipe *p);
void splice_pipe_cache_clear(void);

/* Moves up to `max` bytes from socket `from` into the pipe.  Returns the
 * bytes moved, 0 at end of stream, or -1 with errno (EAGAIN: nothing now). */
ssize_t splice_pipe_fill(struct splice_pipe *p, int from, size_t max);
/* Moves what the pipe holds to socket `to`.  Returns bytes moved or -1
 * with errno (EAGAIN: the socket is full). */
ssize_t splice_pipe_drain(struct splice_pipe *p, int to);

#endif
