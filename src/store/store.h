/*
 * store.h: the student's progress, in SQLite.
 *
 * One database file, progress.db, in the data directory. It records where
 * the student is in each lesson (page and step), every checkpoint answer and
 * whether it was right, and which lessons are complete. Each change is its
 * own small transaction (WAL mode, synchronous=FULL), so a process killed at
 * any moment loses nothing already answered. The
 * schema carries a version number (PRAGMA user_version) and migrations.
 */
#ifndef NC_STORE_H
#define NC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct nc_store nc_store_t;

/* The data directory: --data-dir if given, else $NETCOURSE_HOME, else
 * $XDG_DATA_HOME/netcourse, else ~/.local/share/netcourse. Returns a heap
 * string (caller frees). */
char *nc_store_default_dir(const char *override);

/* Opens (creating the directory and database as needed) and migrates.
 * Returns NULL with one sentence in err on failure. */
nc_store_t *nc_store_open(const char *dir, char *err, size_t errlen);
void nc_store_close(nc_store_t *st);
/* The sentence describing the last failure of a call on st (borrowed; valid
 * until the next call). Added beside the original contract. */
const char *nc_store_error(const nc_store_t *st);

typedef struct nc_progress {
    int page;          /* last page read, 0-based */
    int step;          /* last step reached, 0-based */
    int answered;      /* checkpoints answered */
    int correct;       /* of those, answered right */
    bool run_seen;     /* a run has been watched to its end */
    bool completed;    /* run seen and every checkpoint answered */
    int64_t updated;   /* unix seconds; 0 if never opened */
} nc_progress_t;

int nc_store_set_position(nc_store_t *st, const char *lesson, int page, int step);
int nc_store_answer(nc_store_t *st, const char *lesson, const char *checkpoint,
                    const char *choice, bool correct);
int nc_store_run_seen(nc_store_t *st, const char *lesson);
/* Marks the lesson complete when the run was seen and ncheckpoints answers
 * are stored. */
int nc_store_update_completion(nc_store_t *st, const char *lesson, int ncheckpoints);
/* Fills *out (zeroes when the lesson was never opened). */
int nc_store_progress(nc_store_t *st, const char *lesson, nc_progress_t *out);
/* The answer stored for a checkpoint, or false. choice is copied to out. */
bool nc_store_get_answer(nc_store_t *st, const char *lesson, const char *checkpoint,
                         char *out, size_t outlen, bool *correct);
int nc_store_reset(nc_store_t *st);

/* A saved run kept in the data directory (see `netcourse runs`). */
typedef struct nc_store_saved {
    char *path;       /* absolute path of the .pcapng */
    char *lesson;     /* "" when unknown */
    int64_t saved_at; /* unix seconds */
    int64_t packets, events, bytes;
} nc_store_saved_t;

/* Indexes a saved run (replacing a row with the same path). Strings are
 * copied. Returns 0 or a negative code (nc_store_error says why). */
int nc_store_saved_add(nc_store_t *st, const nc_store_saved_t *r);
int nc_store_saved_remove(nc_store_t *st, const char *path);
/* Every indexed run, newest first, into a heap array the caller frees with
 * nc_store_saved_free. */
int nc_store_saved_list(nc_store_t *st, nc_store_saved_t **out, size_t *n);
void nc_store_saved_free(nc_store_saved_t *v, size_t n);
/* The data directory the store lives in (heap string; caller frees). */
char *nc_store_dir(const nc_store_t *st);

#endif
