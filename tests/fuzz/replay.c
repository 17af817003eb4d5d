/*
 * replay: runs a fuzz harness's LLVMFuzzerTestOneInput over files without
 * libFuzzer, so that `make fuzz-replay` (and `make test`) can replay the
 * corpora as regression tests with any C compiler.
 *
 *   replay NAME DIR|FILE...
 *
 * Each file runs in a child process, so that a crash, a sanitizer report or
 * an abort() from a broken invariant fails that file alone and is reported
 * by name; a LeakSanitizer report at the child's exit fails it too.  Prints
 * "NAME: N passed, N failed" and exits 1 when any failed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned passed, failed;

static int read_all(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;

    if (!f)
        return -1;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *g = realloc(buf, cap);
            if (!g) {
                free(buf);
                fclose(f);
                return -1;
            }
            buf = g;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        if (got == 0)
            break;
        n += got;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        return -1;
    }
    /* An exact-size copy, so that a read past the input is caught. */
    *out = malloc(n ? n : 1);
    if (!*out) {
        free(buf);
        return -1;
    }
    if (n)
        memcpy(*out, buf, n);
    free(buf);
    *len = n;
    return 0;
}

static void run_file(const char *path)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "replay: fork: %s\n", strerror(errno));
        exit(2);
    }
    if (pid == 0) {
        uint8_t *data;
        size_t len;
        if (read_all(path, &data, &len) < 0) {
            fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
            exit(3);
        }
        /* An input that hangs the harness (an event loop that never
         * ends) fails in 30 s, rather than stall `make test`. */
        alarm(30);
        LLVMFuzzerTestOneInput(data, len);
        free(data);
        exit(0); /* not _exit: LeakSanitizer checks at exit */
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) {
            fprintf(stderr, "replay: waitpid: %s\n", strerror(errno));
            exit(2);
        }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        passed++;
        return;
    }
    failed++;
    if (WIFSIGNALED(st))
        fprintf(stderr, "FAIL %s (signal %d)\n", path, WTERMSIG(st));
    else
        fprintf(stderr, "FAIL %s (exit %d)\n", path, WEXITSTATUS(st));
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static void run_path(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) < 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        failed++;
        return;
    }
    if (!S_ISDIR(sb.st_mode)) {
        run_file(path);
        return;
    }
    struct dirent **ents;
    int n = scandir(path, &ents, NULL, by_name);
    if (n < 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        failed++;
        return;
    }
    for (int i = 0; i < n; i++) {
        if (ents[i]->d_name[0] != '.') {
            char *p;
            if (asprintf(&p, "%s/%s", path, ents[i]->d_name) < 0) {
                fprintf(stderr, "replay: out of memory\n");
                exit(2);
            }
            run_path(p);
            free(p);
        }
        free(ents[i]);
    }
    free(ents);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s NAME DIR|FILE...\n", argv[0]);
        return 2;
    }
    for (int i = 2; i < argc; i++)
        run_path(argv[i]);
    printf("%s: %u passed, %u failed\n", argv[1], passed, failed);
    return failed ? 1 : 0;
}
