/*
 * privdrop: setgroups/setgid/setuid, checked (see privdrop.h).
 */
#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "log.h"

int privdrop_to(const char *user)
{
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        log_errorx("user %s: no such user", user);
        return -1;
    }
    if (getuid() == pw->pw_uid && geteuid() == pw->pw_uid)
        return 0; /* already that user: nothing to drop */
    if (geteuid() != 0) {
        log_errorx("user %s: the proxy runs as uid %ld and cannot switch users (start it as root, "
                   "or leave `user` out)", user, (long)geteuid());
        return -1;
    }
    /* Groups first: once the uid is gone, they cannot be changed. */
    gid_t gid = pw->pw_gid;
    if (setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid(pw->pw_uid) < 0) {
        log_error("user %s: switching to uid %ld gid %ld", user, (long)pw->pw_uid, (long)gid);
        return -1;
    }
    if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid || getgid() != gid || getegid() != gid ||
        (pw->pw_uid != 0 && setuid(0) == 0)) {
        log_errorx("user %s: the switch did not hold", user);
        return -1;
    }
    log_info("running as user %s (uid %ld, gid %ld)", user, (long)pw->pw_uid, (long)gid);
    return 0;
}
