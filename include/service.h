/*
 * service: what a service manager is told - systemd's notification socket
 * (sd_notify's protocol, spoken directly: no libsystemd) and the pid file.
 */
#ifndef PROXY_SERVICE_H
#define PROXY_SERVICE_H

/* Sends `state` ("READY=1\nSTATUS=...") to $NOTIFY_SOCKET when it is set
 * (Type=notify units); nothing otherwise.  Never blocks. */
void service_notify(const char *state);
/* READY=1 with a STATUS line naming the generation and servers up. */
void service_ready(unsigned long long generation, unsigned servers_up, unsigned servers);
/* RELOADING=1 with MONOTONIC_USEC, as systemd (Type=notify-reload) wants. */
void service_reloading(void);

/* Writes the process id to `path` (with a newline); -1 with errno set. */
int service_pidfile_write(const char *path);
/* Removes the pid file written above (at exit). */
void service_pidfile_remove(void);

#endif
