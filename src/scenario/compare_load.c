/*
 * compare_load.c: a saved run read back and measured, for `netcourse
 * compare`.
 *
 * Data model: the run is read through the runfile reader (replay.h) into a
 * timeline of its own, every event decoded whole (a lesson's run is a few
 * thousand events at most), measured with nc_compare_measure_run, and the
 * timeline freed: what stays is the nc_compare_run_t, its numbers and each
 * connection's packet times.
 */
#include "compare.h"

#include "../runfile/replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Splits arg into a path and a program: PATH@PROGRAM when arg is not
 * itself a file and has an @. */
static void nc_compare_split(const char *arg, char *path, size_t plen, char *prog, size_t glen)
{
    struct stat st;
    const char *at = strrchr(arg, '@');
    snprintf(path, plen, "%s", arg);
    prog[0] = '\0';
    if (stat(arg, &st) == 0 || !at || at[1] == '\0')
        return;
    snprintf(path, plen, "%.*s", (int)(at - arg), arg);
    snprintf(prog, glen, "%s", at + 1);
}

int nc_compare_load(const char *arg, nc_compare_run_t *run, char *err, size_t errlen)
{
    char path[4096], prog[64];
    memset(run, 0, sizeof *run);
    nc_compare_split(arg, path, sizeof path, prog, sizeof prog);
    nc_replay_t *r = nc_replay_open(path, err, errlen);
    if (r == NULL)
        return -1;
    if (nc_replay_info(r) == NULL) {
        snprintf(err, errlen, "%s is a capture, not a run saved by netcourse (save one with "
                              "`netcourse run LESSON --headless --save FILE`)", path);
        nc_replay_close(r);
        return -1;
    }
    nc_timeline_t *tl = nc_timeline_new(nc_replay_t0(r));
    nc_timeline_set_window(tl, 0);
    nc_evb_t b;
    nc_evb_init(&b);
    int rc;
    while ((rc = nc_replay_next(r, &b, err, errlen)) == 1)
        nc_timeline_add(tl, &b);
    nc_timeline_flush(tl, true);
    nc_evb_done(&b);
    nc_replay_close(r);
    if (rc == 0) {
        nc_compare_measure_run(tl, nc_timeline_count(tl), prog[0] ? prog : NULL, run);
        if (prog[0] && run->row.packets == 0) {
            snprintf(err, errlen, "%s has no program \"%s\" with a TCP connection", path, prog);
            nc_compare_run_done(run);
            rc = -1;
        }
    }
    nc_timeline_free(tl);
    if (rc < 0)
        return -1;
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    snprintf(run->name, sizeof run->name, "%.180s%s%s", base, prog[0] ? "@" : "", prog);
    return 0;
}
