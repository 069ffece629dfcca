/*
 * netns.c: network namespaces, and threads that live in them.
 *
 * A namespace is held by an fd to its nsfs file; it lives as long as that fd,
 * a thread inside it or a socket made in it. It is created by a short-lived
 * thread that unshares its own network namespace (which moves only that
 * thread) and opens /proc/thread-self/ns/net. Code runs inside a namespace on
 * a thread that setns()es into it first. The calling thread never moves:
 * inside a user namespace, setns() back to the original network namespace is
 * refused (EPERM), because that one belongs to the initial user namespace.
 * Per-namespace sysctls are files under /proc/sys/net that show the
 * namespace of the thread that opens them, so they too are written from a
 * thread inside.
 */
#include "lab_impl.h"

#include "core/error.h"
#include "core/xmalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct create_job {
    int parent; /* namespace to create from, or -1: the caller's */
    int fd;
    int rc;
    char err[256];
} create_job_t;

/* Per-namespace sysctls applied to every lab namespace, with why. */
static const struct {
    const char *path;
    const char *value;
} ns_sysctls[] = {
    /* No IPv6: no router solicitations, ND or MLD reports in the lesson. */
    {"net/ipv6/conf/all/disable_ipv6", "1"},
    {"net/ipv6/conf/default/disable_ipv6", "1"},
};

static void *create_main(void *arg)
{
    create_job_t *j = arg;
    if (j->parent >= 0 && setns(j->parent, CLONE_NEWNET) != 0) {
        j->rc = NC_ESYS;
        snprintf(j->err, sizeof j->err, "lab: cannot enter the lab's parent namespace: %s.",
                 strerror(errno));
        return NULL;
    }
    if (unshare(CLONE_NEWNET) != 0) {
        int e = errno;
        j->rc = e == EPERM ? NC_EPERM : NC_ESYS;
        snprintf(j->err, sizeof j->err, "lab: cannot create a network namespace: %s.",
                 strerror(e));
        return NULL;
    }
    j->fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (j->fd < 0) {
        j->rc = NC_ESYS;
        snprintf(j->err, sizeof j->err, "lab: cannot open the new network namespace: %s.",
                 strerror(errno));
        return NULL;
    }
    for (size_t i = 0; i < sizeof ns_sysctls / sizeof ns_sysctls[0]; i++) {
        /* A kernel built without IPv6 has no such files: nothing to silence. */
        char path[128];
        snprintf(path, sizeof path, "/proc/sys/%s", ns_sysctls[i].path);
        if (access(path, F_OK) != 0)
            continue;
        j->rc = nc_netns_sysctl(ns_sysctls[i].path, ns_sysctls[i].value, j->err, sizeof j->err);
        if (j->rc != 0)
            return NULL;
    }
    j->rc = nc_netlink_link_up("lo", j->err, sizeof j->err);
    return NULL;
}

int nc_netns_new(int *fd, char *err, size_t errlen)
{
    return nc_netns_new_in(-1, fd, err, errlen);
}

int nc_netns_new_in(int parent, int *fd, char *err, size_t errlen)
{
    create_job_t j = {.parent = parent, .fd = -1};
    pthread_t t;
    if (pthread_create(&t, NULL, create_main, &j) != 0) {
        snprintf(err, errlen, "lab: cannot start a thread.");
        return NC_ESYS;
    }
    pthread_join(t, NULL);
    if (j.rc != 0) {
        if (j.fd >= 0)
            close(j.fd);
        snprintf(err, errlen, "%s", j.err);
        return j.rc;
    }
    *fd = j.fd;
    return 0;
}

typedef struct call_job {
    int netns;
    int (*fn)(void *);
    void *arg;
    int rc;
} call_job_t;

static void *call_main(void *arg)
{
    call_job_t *j = arg;
    if (setns(j->netns, CLONE_NEWNET) != 0)
        j->rc = NC_ESYS;
    else
        j->rc = j->fn(j->arg);
    return NULL;
}

int nc_netns_call(int netns, int (*fn)(void *), void *arg)
{
    call_job_t j = {.netns = netns, .fn = fn, .arg = arg};
    pthread_t t;
    if (pthread_create(&t, NULL, call_main, &j) != 0)
        return NC_ESYS;
    pthread_join(t, NULL);
    return j.rc;
}

typedef struct spawn_job {
    int netns;
    void *(*fn)(void *);
    void *arg;
    int rc;
    sem_t entered;
} spawn_job_t;

static void *spawn_main(void *arg)
{
    spawn_job_t *j = arg;
    void *(*fn)(void *) = j->fn;
    void *fn_arg = j->arg;
    int ok = setns(j->netns, CLONE_NEWNET) == 0;
    j->rc = ok ? 0 : NC_ESYS;
    /* After this post the job belongs to the spawner again. */
    sem_post(&j->entered);
    return ok ? fn(fn_arg) : NULL;
}

int nc_netns_spawn(int netns, void *(*fn)(void *), void *arg, pthread_t *thread)
{
    spawn_job_t j = {.netns = netns, .fn = fn, .arg = arg};
    sem_init(&j.entered, 0, 0);
    pthread_t t;
    if (pthread_create(&t, NULL, spawn_main, &j) != 0) {
        sem_destroy(&j.entered);
        return NC_ESYS;
    }
    while (sem_wait(&j.entered) != 0 && errno == EINTR)
        ;
    sem_destroy(&j.entered);
    if (j.rc != 0) {
        pthread_join(t, NULL);
        return j.rc;
    }
    *thread = t;
    return 0;
}

int nc_netns_sysctl(const char *path, const char *value, char *err, size_t errlen)
{
    char full[256];
    snprintf(full, sizeof full, "/proc/sys/%s", path);
    int fd = open(full, O_WRONLY | O_CLOEXEC);
    ssize_t n = -1;
    if (fd >= 0) {
        n = write(fd, value, strlen(value));
        int e = errno;
        close(fd);
        errno = e;
    }
    if (n < 0) {
        int e = errno;
        snprintf(err, errlen, "lab: cannot set %s to %s: %s.", full, value, strerror(e));
        return e == EPERM || e == EACCES ? NC_EPERM : NC_ESYS;
    }
    return 0;
}
