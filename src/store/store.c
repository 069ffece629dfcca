/*
 * store.c: the student's progress in one SQLite database, progress.db.
 *
 * Three tables. saved_runs indexes the runs kept as files (path, lesson,
 * when, how big). lessons holds one row per lesson the student opened: the page
 * and step they reached, whether a run was watched to its end, whether the
 * lesson is complete, and when the row last changed (unix seconds). answers
 * holds one row per answered checkpoint (the latest answer wins).
 *
 * The schema's version is PRAGMA user_version: nc_store_migrations[v] is the
 * SQL that takes a database from version v to v + 1, so a schema change is
 * a new string at the end of that array, never an edit of an old one. The
 * file is also stamped with an application_id, which is how a database
 * that belongs to something else is told apart from a new, empty one.
 *
 * Durability: WAL journal with synchronous=FULL, so every change is on disk
 * when its function returns and a process killed right after answering
 * loses nothing. Each public call is one short transaction; busy_timeout
 * lets a second netcourse process (a shell, `netcourse progress`) wait for
 * the lock instead of failing.
 */
#include "store.h"

#include "core/error.h"
#include "core/xmalloc.h"

#include <errno.h>
#include <pwd.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* "ncpr" in ASCII: marks a netcourse progress database. */
#define NC_STORE_APP_ID 0x6e637072

struct nc_store {
    sqlite3 *db;
    char *path;
    char err[256];
};

static const char *const nc_store_migrations[] = {
    /* 0 -> 1: the first schema. */
    "CREATE TABLE lessons ("
    "  id TEXT PRIMARY KEY,"
    "  page INTEGER NOT NULL DEFAULT 0,"
    "  step INTEGER NOT NULL DEFAULT 0,"
    "  run_seen INTEGER NOT NULL DEFAULT 0,"
    "  completed INTEGER NOT NULL DEFAULT 0,"
    "  updated INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE answers ("
    "  lesson TEXT NOT NULL,"
    "  checkpoint TEXT NOT NULL,"
    "  choice TEXT NOT NULL,"
    "  correct INTEGER NOT NULL,"
    "  answered_at INTEGER NOT NULL,"
    "  PRIMARY KEY (lesson, checkpoint));",
    /* 1 -> 2: the index of saved runs (files under DATA/runs/). */
    "CREATE TABLE saved_runs ("
    "  path TEXT PRIMARY KEY,"
    "  lesson TEXT NOT NULL DEFAULT '',"
    "  saved_at INTEGER NOT NULL,"
    "  packets INTEGER NOT NULL DEFAULT 0,"
    "  events INTEGER NOT NULL DEFAULT 0,"
    "  bytes INTEGER NOT NULL DEFAULT 0);",
};

#define NC_STORE_VERSION ((int)(sizeof nc_store_migrations / sizeof nc_store_migrations[0]))

char *nc_store_default_dir(const char *override)
{
    if (override && *override)
        return nc_xstrdup(override);
    const char *home = getenv("NETCOURSE_HOME");
    if (home && *home)
        return nc_xstrdup(home);
    const char *xdg = getenv("XDG_DATA_HOME");
    if (xdg && *xdg == '/')
        return nc_xasprintf("%s/netcourse", xdg);
    home = getenv("HOME");
    if (!home || !*home) {
        struct passwd *pw = getpwuid(getuid());
        home = pw && pw->pw_dir ? pw->pw_dir : "/tmp";
    }
    return nc_xasprintf("%s/.local/share/netcourse", home);
}

/* mkdir -p with mode 0700 for every directory it creates. */
static int nc_store_mkdirs(const char *dir, char *err, size_t errlen)
{
    char *p = nc_xstrdup(dir);
    int rc = 0;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0700) < 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create the data directory %s: %s", p, strerror(errno));
            rc = NC_ESYS;
            break;
        }
        *s = c;
        if (c == '\0')
            break;
    }
    free(p);
    if (rc == 0) {
        struct stat st;
        if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
            snprintf(err, errlen, "the data directory %s is not a directory", dir);
            rc = NC_ESYS;
        } else if (access(dir, W_OK | X_OK) < 0) {
            snprintf(err, errlen, "the data directory %s is not writable", dir);
            rc = NC_EPERM;
        }
    }
    return rc;
}

/* Records a failure of the last SQLite call in st->err and returns a code. */
static int nc_store_fail(nc_store_t *st, const char *what)
{
    int code = sqlite3_extended_errcode(st->db) & 0xff;
    if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
        snprintf(st->err, sizeof st->err, "%s is not a netcourse progress database", st->path);
    else
        snprintf(st->err, sizeof st->err, "%s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
    return code == SQLITE_BUSY ? NC_ETIMEDOUT : NC_EIO;
}

static int nc_store_exec(nc_store_t *st, const char *sql)
{
    if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return nc_store_fail(st, sql);
    return 0;
}

/* Runs a one-integer query ("PRAGMA user_version"). */
static int nc_store_int(nc_store_t *st, const char *sql, int64_t *out)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
        return nc_store_fail(st, sql);
    int rc = sqlite3_step(s);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return nc_store_fail(st, sql);
    return 0;
}

/* Applies the migrations the file lacks, in one transaction. */
static int nc_store_migrate(nc_store_t *st)
{
    int rc = nc_store_exec(st, "BEGIN IMMEDIATE");
    if (rc < 0)
        return rc;
    int64_t version, app, tables;
    if ((rc = nc_store_int(st, "PRAGMA user_version", &version)) < 0 ||
        (rc = nc_store_int(st, "PRAGMA application_id", &app)) < 0 ||
        (rc = nc_store_int(st, "SELECT count(*) FROM sqlite_master", &tables)) < 0)
        goto fail;
    if ((app != 0 && app != NC_STORE_APP_ID) || (app == 0 && tables > 0)) {
        snprintf(st->err, sizeof st->err, "%s is not a netcourse progress database", st->path);
        rc = NC_EBADDATA;
        goto fail;
    }
    if (version > NC_STORE_VERSION) {
        snprintf(st->err, sizeof st->err,
                 "%s was written by a newer netcourse (schema %lld; this one knows %d)", st->path,
                 (long long)version, NC_STORE_VERSION);
        rc = NC_EUNSUPP;
        goto fail;
    }
    for (int64_t v = version; v < NC_STORE_VERSION; v++)
        if ((rc = nc_store_exec(st, nc_store_migrations[v])) < 0)
            goto fail;
    char sql[96];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d; PRAGMA application_id = %d",
             NC_STORE_VERSION, NC_STORE_APP_ID);
    if ((rc = nc_store_exec(st, sql)) < 0)
        goto fail;
    return nc_store_exec(st, "COMMIT");
fail:
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

nc_store_t *nc_store_open(const char *dir, char *err, size_t errlen)
{
    if (nc_store_mkdirs(dir, err, errlen) < 0)
        return NULL;
    nc_store_t *st = nc_xcalloc(1, sizeof *st);
    st->path = nc_xasprintf("%s/progress.db", dir);
    int rc = sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", st->path,
                 st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
        nc_store_close(st);
        return NULL;
    }
    sqlite3_busy_timeout(st->db, 5000);
    sqlite3_stmt *s;
    int wal = 0;
    if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &s, NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW)
            wal = sqlite3_stricmp((const char *)sqlite3_column_text(s, 0), "wal") == 0;
        sqlite3_finalize(s);
    }
    if (!wal) {
        nc_store_fail(st, "cannot switch to WAL mode");
    } else if (nc_store_exec(st, "PRAGMA synchronous=FULL") == 0 && nc_store_migrate(st) == 0) {
        return st;
    }
    snprintf(err, errlen, "%s", st->err);
    nc_store_close(st);
    return NULL;
}

void nc_store_close(nc_store_t *st)
{
    if (!st)
        return;
    sqlite3_close(st->db);
    free(st->path);
    free(st);
}

const char *nc_store_error(const nc_store_t *st)
{
    return st && st->err[0] ? st->err : "no error";
}

/*
 * Runs one statement with its parameters, described by a format string:
 * 's' text, 'i' int, 'I' int64. Returns 0 or a negative code.
 */
static int nc_store_run(nc_store_t *st, const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
        return nc_store_fail(st, "prepare");
    va_list ap;
    va_start(ap, fmt);
    for (int i = 0; fmt[i]; i++) {
        if (fmt[i] == 's')
            sqlite3_bind_text(s, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
        else if (fmt[i] == 'i')
            sqlite3_bind_int(s, i + 1, va_arg(ap, int));
        else
            sqlite3_bind_int64(s, i + 1, va_arg(ap, int64_t));
    }
    va_end(ap);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return nc_store_fail(st, "write");
    return 0;
}

static int64_t nc_store_now(void)
{
    return (int64_t)time(NULL);
}

/* The upsert that makes sure a lesson has a row and touches it. */
#define NC_STORE_TOUCH                                                                  \
    "INSERT INTO lessons (id, updated) VALUES (?1, ?2) "                               \
    "ON CONFLICT (id) DO UPDATE SET updated = excluded.updated"

int nc_store_set_position(nc_store_t *st, const char *lesson, int page, int step)
{
    return nc_store_run(st,
                        "INSERT INTO lessons (id, page, step, updated) VALUES (?1, ?2, ?3, ?4) "
                        "ON CONFLICT (id) DO UPDATE SET page = excluded.page, "
                        "step = excluded.step, updated = excluded.updated",
                        "siiI", lesson, page, step, nc_store_now());
}

int nc_store_answer(nc_store_t *st, const char *lesson, const char *checkpoint,
                    const char *choice, bool correct)
{
    int rc = nc_store_exec(st, "BEGIN IMMEDIATE");
    if (rc < 0)
        return rc;
    int64_t now = nc_store_now();
    rc = nc_store_run(st,
                      "INSERT OR REPLACE INTO answers (lesson, checkpoint, choice, correct, answered_at) "
                      "VALUES (?1, ?2, ?3, ?4, ?5)",
                      "sssiI", lesson, checkpoint, choice, correct ? 1 : 0, now);
    if (rc == 0)
        rc = nc_store_run(st, NC_STORE_TOUCH, "sI", lesson, now);
    if (rc == 0)
        return nc_store_exec(st, "COMMIT");
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int nc_store_run_seen(nc_store_t *st, const char *lesson)
{
    return nc_store_run(st,
                        "INSERT INTO lessons (id, run_seen, updated) VALUES (?1, 1, ?2) "
                        "ON CONFLICT (id) DO UPDATE SET run_seen = 1, updated = excluded.updated",
                        "sI", lesson, nc_store_now());
}

int nc_store_update_completion(nc_store_t *st, const char *lesson, int ncheckpoints)
{
    /* Completion is sticky: a lesson once complete stays complete. */
    return nc_store_run(st,
                        "UPDATE lessons SET completed = 1, updated = ?3 "
                        "WHERE id = ?1 AND completed = 0 AND run_seen = 1 AND "
                        "(SELECT count(*) FROM answers WHERE lesson = ?1) >= ?2",
                        "siI", lesson, ncheckpoints, nc_store_now());
}

int nc_store_progress(nc_store_t *st, const char *lesson, nc_progress_t *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT page, step, run_seen, completed, updated, "
                           "(SELECT count(*) FROM answers WHERE lesson = ?1), "
                           "(SELECT count(*) FROM answers WHERE lesson = ?1 AND correct) "
                           "FROM lessons WHERE id = ?1",
                           -1, &s, NULL) != SQLITE_OK)
        return nc_store_fail(st, "prepare");
    sqlite3_bind_text(s, 1, lesson, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        out->page = sqlite3_column_int(s, 0);
        out->step = sqlite3_column_int(s, 1);
        out->run_seen = sqlite3_column_int(s, 2) != 0;
        out->completed = sqlite3_column_int(s, 3) != 0;
        out->updated = sqlite3_column_int64(s, 4);
        out->answered = sqlite3_column_int(s, 5);
        out->correct = sqlite3_column_int(s, 6);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return nc_store_fail(st, "read");
    return 0;
}

bool nc_store_get_answer(nc_store_t *st, const char *lesson, const char *checkpoint, char *out,
                         size_t outlen, bool *correct)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT choice, correct FROM answers WHERE lesson = ?1 AND checkpoint = ?2",
                           -1, &s, NULL) != SQLITE_OK) {
        nc_store_fail(st, "prepare");
        return false;
    }
    sqlite3_bind_text(s, 1, lesson, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, checkpoint, -1, SQLITE_TRANSIENT);
    bool found = sqlite3_step(s) == SQLITE_ROW;
    if (found) {
        if (out && outlen)
            snprintf(out, outlen, "%s", (const char *)sqlite3_column_text(s, 0));
        if (correct)
            *correct = sqlite3_column_int(s, 1) != 0;
    }
    sqlite3_finalize(s);
    return found;
}

int nc_store_reset(nc_store_t *st)
{
    int rc = nc_store_exec(st, "BEGIN IMMEDIATE; DELETE FROM answers; DELETE FROM lessons; COMMIT");
    if (rc < 0)
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int nc_store_saved_add(nc_store_t *st, const nc_store_saved_t *r)
{
    return nc_store_run(st,
                        "INSERT OR REPLACE INTO saved_runs (path, lesson, saved_at, packets, events, "
                        "bytes) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        "ssIIII", r->path, r->lesson ? r->lesson : "", r->saved_at, r->packets,
                        r->events, r->bytes);
}

int nc_store_saved_remove(nc_store_t *st, const char *path)
{
    return nc_store_run(st, "DELETE FROM saved_runs WHERE path = ?1", "s", path);
}

int nc_store_saved_list(nc_store_t *st, nc_store_saved_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT path, lesson, saved_at, packets, events, bytes FROM saved_runs "
                           "ORDER BY saved_at DESC, path DESC",
                           -1, &s, NULL) != SQLITE_OK)
        return nc_store_fail(st, "prepare");
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *out = nc_xrealloc(*out, cap * sizeof **out);
        }
        nc_store_saved_t *r = &(*out)[(*n)++];
        r->path = nc_xstrdup((const char *)sqlite3_column_text(s, 0));
        r->lesson = nc_xstrdup((const char *)sqlite3_column_text(s, 1));
        r->saved_at = sqlite3_column_int64(s, 2);
        r->packets = sqlite3_column_int64(s, 3);
        r->events = sqlite3_column_int64(s, 4);
        r->bytes = sqlite3_column_int64(s, 5);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        nc_store_saved_free(*out, *n);
        *out = NULL;
        *n = 0;
        return nc_store_fail(st, "read");
    }
    return 0;
}

void nc_store_saved_free(nc_store_saved_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].path);
        free(v[i].lesson);
    }
    free(v);
}

char *nc_store_dir(const nc_store_t *st)
{
    const char *slash = strrchr(st->path, '/');
    return slash ? nc_xstrndup(st->path, (size_t)(slash - st->path)) : nc_xstrdup(".");
}
