/*
 * userns.c: entering a user namespace so that a normal user can build labs.
 *
 * As root there is nothing to do. Otherwise the process unshares a user
 * namespace (only possible while it has one thread, hence "first thing in
 * main"), maps its user and group to root inside it, and then proves that
 * the capabilities this gives really work by creating a throwaway network
 * namespace and bringing its lo up. Each way this can fail is named by the
 * sysctl that causes it, from a table, so the user gets one sentence with
 * the fix rather than an errno.
 */
#include "lab_impl.h"

#include "core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Kernel settings that forbid or cripple unprivileged user namespaces:
 * the file, the value that means "restricted", and the sentence. */
static const struct {
    const char *path;
    const char *bad;
    const char *text;
} restrictions[] = {
    {"/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1",
     "netcourse entered a user namespace but AppArmor denies it network privileges there "
     "(kernel.apparmor_restrict_unprivileged_userns=1, as on Ubuntu 23.10 and later); fix it "
     "with 'sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0', or an AppArmor "
     "profile for netcourse that grants 'userns,', or run netcourse as root."},
    {"/proc/sys/kernel/unprivileged_userns_clone", "0",
     "netcourse needs a user namespace to build its lab without root, but this kernel forbids "
     "them for normal users (kernel.unprivileged_userns_clone=0); enable them with 'sudo "
     "sysctl -w kernel.unprivileged_userns_clone=1', or run netcourse as root."},
    {"/proc/sys/user/max_user_namespaces", "0",
     "netcourse needs a user namespace to build its lab without root, but "
     "user.max_user_namespaces=0 allows none; raise it with 'sudo sysctl -w "
     "user.max_user_namespaces=15000', or run netcourse as root."},
};

static int read_word(const char *path, char *out, size_t outlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, out, outlen - 1);
    close(fd);
    if (n <= 0)
        return -1;
    out[n] = '\0';
    out[strcspn(out, " \n")] = '\0';
    return 0;
}

/* Writes the sentence of the first restriction in force, from entry first
 * of the table on (1 skips AppArmor, which never makes unshare fail);
 * returns 0 if none is in force. */
static int explain_restriction(size_t first, char *err, size_t errlen)
{
    for (size_t i = first; i < sizeof restrictions / sizeof restrictions[0]; i++) {
        char v[32];
        if (read_word(restrictions[i].path, v, sizeof v) == 0 &&
            strcmp(v, restrictions[i].bad) == 0) {
            snprintf(err, errlen, "%s", restrictions[i].text);
            return 1;
        }
    }
    return 0;
}

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = write(fd, text, strlen(text));
    int e = errno;
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -(n < 0 ? e : EIO);
}

int nc_lab_prepare(char *err, size_t errlen)
{
    if (geteuid() == 0)
        return 0;
    uid_t uid = geteuid();
    gid_t gid = getegid();
    if (unshare(CLONE_NEWUSER) != 0) {
        int e = errno;
        if (e == EINVAL) {
            snprintf(err, errlen,
                     "lab: nc_lab_prepare() must run before any thread starts (unshare: %s).",
                     strerror(e));
            return NC_EINVAL;
        }
        if (!explain_restriction(1, err, errlen))
            snprintf(err, errlen,
                     "netcourse cannot create a user namespace to build its lab without root "
                     "(%s); check the sysctls user.max_user_namespaces and "
                     "kernel.unprivileged_userns_clone, or run netcourse as root.",
                     strerror(e));
        return NC_EPERM;
    }
    char map[64];
    int rc = write_file("/proc/self/setgroups", "deny");
    if (rc == 0 || rc == -ENOENT) {
        snprintf(map, sizeof map, "0 %u 1", (unsigned)uid);
        rc = write_file("/proc/self/uid_map", map);
    }
    if (rc == 0) {
        snprintf(map, sizeof map, "0 %u 1", (unsigned)gid);
        rc = write_file("/proc/self/gid_map", map);
    }
    if (rc != 0) {
        if (!explain_restriction(0, err, errlen))
            snprintf(err, errlen,
                     "netcourse cannot map its user into its user namespace (%s); run it as "
                     "root.",
                     strerror(-rc));
        return NC_EPERM;
    }
    int fd;
    char why[256];
    rc = nc_netns_new(&fd, why, sizeof why);
    if (rc != 0) {
        if (!explain_restriction(0, err, errlen)) {
            if (rc == NC_EPERM)
                snprintf(err, errlen,
                         "netcourse entered a user namespace but is denied network privileges "
                         "there (%s); if AppArmor restricts user namespaces, set 'sudo sysctl "
                         "-w kernel.apparmor_restrict_unprivileged_userns=0' or grant 'userns,' "
                         "in a profile, or run netcourse as root.",
                         why);
            else
                snprintf(err, errlen, "%s", why);
        }
        return rc;
    }
    close(fd);
    return 0;
}
