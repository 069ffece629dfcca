/*
 * sysctl.c: the running kernel's settings, read where a lesson runs.
 *
 * Lesson pages must not state a kernel-dependent number (how long a client
 * waits before resending a SYN, what a full accept queue does) as if every
 * kernel did the same. So a scenario reads the settings that decide what
 * its run will show and reports them as an app event ("sysctl") at the
 * start, and the timeline says what this kernel does.
 *
 * Per-namespace settings live under /proc/sys/net and show the network
 * namespace of the thread that opens them: read from a program thread
 * (nc_scn_spawn puts it inside its host), they are the lab's own values.
 */
#include "scenario.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int nc_scn_sysctl_read(const char *name, long *value)
{
    char path[256];
    int n = snprintf(path, sizeof path, "/proc/sys/%s", name);
    if (n < 0 || (size_t)n >= sizeof path)
        return -ENAMETOOLONG;
    for (char *p = path + strlen("/proc/sys/"); *p; p++)
        if (*p == '.')
            *p = '/';
    FILE *f = fopen(path, "re");
    if (!f)
        return -errno;
    char line[64];
    char *end = NULL;
    long v = 0;
    int range = 0;
    if (fgets(line, sizeof line, f)) {
        errno = 0;
        v = strtol(line, &end, 10);
        range = errno;
    }
    fclose(f);
    if (end == NULL || end == line || range != 0)
        return -EINVAL;
    *value = v;
    return 0;
}

size_t nc_scn_sysctl_read_all(nc_scn_sysctl_t *v, size_t n, nc_scn_kv_t *kv)
{
    size_t nkv = 0;
    for (size_t k = 0; k < n; k++) {
        if (nc_scn_sysctl_read(v[k].name, &v[k].value) != 0) {
            v[k].value = -1;
            continue;
        }
        const char *dot = strrchr(v[k].name, '.');
        kv[nkv++] = NC_KV_I(dot ? dot + 1 : v[k].name, v[k].value);
    }
    return nkv;
}
