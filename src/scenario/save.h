/*
 * save.h: keeping runs as files.
 *
 * A finished (or stopped) live run is written as a saved run (runfile.h):
 * to a path the user names (`run --save FILE`, the TUI's save key), and
 * automatically to DATA/runs/, where every run is kept and indexed in the
 * store until the directory's runs together pass a size cap; then the
 * oldest go first. The cap is NC_SAVE_CAP_MB MiB, or $NETCOURSE_RUNS_MAX_MB
 * (0 turns automatic saving off).
 */
#ifndef NC_SAVE_H
#define NC_SAVE_H

#include "run.h"

#include "../store/store.h"

#include <stddef.h>
#include <stdint.h>

#define NC_SAVE_CAP_MB 200

/* Writes the run's published events to path. Returns 0 or a negative code
 * with one sentence in err. */
int nc_save_run(nc_run_t *r, const char *path, char *err, size_t errlen);

/* The automatic cap in bytes (0: automatic saving is off). */
uint64_t nc_save_cap(void);

/*
 * Saves the run under DATA/runs/ (DATA = the store's directory), indexes it
 * in st and trims the directory to the cap. On success *path_out (if not
 * NULL) gets the file's path (heap; caller frees). Returns 0, 1 when
 * automatic saving is off, or a negative code with one sentence in err.
 */
int nc_save_auto(nc_run_t *r, nc_store_t *st, char **path_out, char *err, size_t errlen);

/* Drops index rows whose files are gone, then removes the oldest saved runs
 * until the rest fit in cap bytes. Returns how many runs were removed. */
int nc_save_trim(nc_store_t *st, uint64_t cap);

#endif
