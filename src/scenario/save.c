/*
 * save.c: saved runs from live runs, and the kept-runs directory.
 *
 * The metadata of a saved run comes from the run itself: the lesson, seed
 * and link override it was started with, the lab's capture ports (the
 * pcapng interface names) and its hosts' addresses (so that a replay names
 * them as the live run did). The directory DATA/runs/ holds one file per
 * run, named after the time and the lesson; the store's saved_runs table
 * is its index, and the cap is applied over the indexed files only, so a
 * file the user put there is never removed.
 */
#include "save.h"

#include "../core/error.h"
#include "../core/xmalloc.h"
#include "../decrypt/keylog.h"
#include "../lab/lab.h"
#include "../runfile/runfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int nc_save_run(nc_run_t *r, const char *path, char *err, size_t errlen)
{
    nc_lab_t *lab = nc_run_lab(r);
    const char *ifaces[8];
    const char *addrs[8], *names[8];
    nc_runfile_meta_t m = {
        .lesson = nc_run_lesson(r)->id,
        .seed = nc_run_seed(r),
        .link = nc_run_link(r),
        .t0_ns = nc_timeline_t0(nc_run_timeline(r)),
        .ifaces = ifaces,
        .host_addrs = addrs,
        .host_names = names,
    };
    for (uint32_t i = 0; lab && i < 8; i++) {
        const char *n = nc_lab_iface_name(lab, i);
        if (n == NULL)
            break;
        ifaces[m.nifaces++] = n;
    }
    for (size_t i = 0; lab && i < nc_lab_host_count(lab) && m.nhosts < 8; i++) {
        const char *name = nc_lab_host_name(lab, i);
        const char *addr = nc_lab_host_addr(lab, name);
        if (addr) {
            addrs[m.nhosts] = addr;
            names[m.nhosts++] = name;
        }
    }
    /* The programs' TLS secrets, so that Wireshark decrypts the run too. */
    char *secrets = NULL;
    size_t slen = 0;
    nc_keylog_text(nc_run_keylog(r), &secrets, &slen);
    m.secrets = secrets;
    m.secrets_len = slen;
    int rc = nc_runfile_save(path, nc_run_timeline(r), &m, err, errlen);
    free(secrets);
    return rc;
}

uint64_t nc_save_cap(void)
{
    const char *env = getenv("NETCOURSE_RUNS_MAX_MB");
    uint64_t mb = NC_SAVE_CAP_MB;
    if (env && *env) {
        char *end;
        unsigned long long v = strtoull(env, &end, 10);
        if (*end == '\0')
            mb = v;
    }
    return mb * 1024 * 1024;
}

int nc_save_trim(nc_store_t *st, uint64_t cap)
{
    nc_store_saved_t *v;
    size_t n;
    if (nc_store_saved_list(st, &v, &n) < 0)
        return 0;
    uint64_t total = 0;
    int removed = 0;
    for (size_t i = 0; i < n; i++) {
        struct stat sb;
        if (stat(v[i].path, &sb) != 0) {
            nc_store_saved_remove(st, v[i].path);
            continue;
        }
        total += (uint64_t)sb.st_size;
        /* The newest run stays even when it alone is over the cap. */
        if (i > 0 && total > cap) {
            unlink(v[i].path);
            nc_store_saved_remove(st, v[i].path);
            removed++;
        }
    }
    nc_store_saved_free(v, n);
    return removed;
}

int nc_save_auto(nc_run_t *r, nc_store_t *st, char **path_out, char *err, size_t errlen)
{
    uint64_t cap = nc_save_cap();
    if (cap == 0)
        return 1;
    char *data = nc_store_dir(st);
    char *dir = nc_xasprintf("%s/runs", data);
    free(data);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        free(dir);
        return NC_ESYS;
    }
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H-%M-%S", &tm);
    const char *lesson = nc_run_lesson(r)->id;
    char *path = nc_xasprintf("%s/%s-%s.pcapng", dir, stamp, lesson);
    for (int k = 2; access(path, F_OK) == 0 && k < 1000; k++) {
        free(path);
        path = nc_xasprintf("%s/%s-%s-%d.pcapng", dir, stamp, lesson, k);
    }
    free(dir);
    int rc = nc_save_run(r, path, err, errlen);
    if (rc == 0) {
        nc_timeline_t *tl = nc_run_timeline(r);
        size_t events = nc_timeline_count(tl), packets = 0;
        for (size_t i = 0; i < events; i++)
            packets += nc_timeline_get(tl, i)->type == NC_EV_PACKET;
        struct stat sb;
        nc_store_saved_t row = {
            .path = path,
            .lesson = (char *)lesson,
            .saved_at = (int64_t)now,
            .packets = (int64_t)packets,
            .events = (int64_t)events,
            .bytes = stat(path, &sb) == 0 ? (int64_t)sb.st_size : 0,
        };
        if (nc_store_saved_add(st, &row) < 0) {
            snprintf(err, errlen, "%s", nc_store_error(st));
            rc = NC_EIO;
        } else {
            nc_save_trim(st, cap);
        }
    }
    if (rc == 0 && path_out)
        *path_out = path;
    else
        free(path);
    return rc;
}
