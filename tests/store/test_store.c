/*
 * test_store.c: the progress database (src/store).
 *
 * Each test works in a fresh directory under /tmp: open and migrate, the
 * position/answer/completion calls, persistence across reopening, the
 * durability of an answer when the process is killed right after it, and the
 * errors for an unwritable directory and a file that is not ours.
 */
#include "store/store.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *tmpdir(void)
{
    char *d = strdup("/tmp/nc-store-test-XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static void rmtree(const char *d)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'", d, d);
    assert_int_equal(system(cmd), 0);
}

static int64_t pragma_int(const char *dbpath, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

static void test_default_dir(void **state)
{
    char *d = nc_store_default_dir("/x/y");
    assert_string_equal(d, "/x/y");
    free(d);
    setenv("NETCOURSE_HOME", "/nc/home", 1);
    d = nc_store_default_dir(NULL);
    assert_string_equal(d, "/nc/home");
    free(d);
    unsetenv("NETCOURSE_HOME");
    setenv("XDG_DATA_HOME", "/xdg", 1);
    d = nc_store_default_dir(NULL);
    assert_string_equal(d, "/xdg/netcourse");
    free(d);
    unsetenv("XDG_DATA_HOME");
    setenv("HOME", "/home/student", 1);
    d = nc_store_default_dir("");
    assert_string_equal(d, "/home/student/.local/share/netcourse");
    free(d);
}

static void test_open_migrate(void **state)
{
    char *root = tmpdir();
    char dir[512], db[600], err[256] = "";
    snprintf(dir, sizeof dir, "%s/a/b/netcourse", root);
    nc_store_t *st = nc_store_open(dir, err, sizeof err);
    assert_non_null(st);
    struct stat sb;
    assert_int_equal(stat(dir, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    nc_store_close(st);
    snprintf(db, sizeof db, "%s/progress.db", dir);
    assert_int_equal(pragma_int(db, "PRAGMA user_version"), 2);
    assert_int_equal(pragma_int(db, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"), 1);
    assert_int_equal(pragma_int(db, "SELECT count(*) FROM sqlite_master WHERE name IN ('lessons','answers')"), 2);
    /* Opening again is a no-op migration. */
    st = nc_store_open(dir, err, sizeof err);
    assert_non_null(st);
    nc_store_close(st);
    assert_int_equal(pragma_int(db, "PRAGMA user_version"), 2);
    rmtree(root);
    free(root);
}

static void test_progress(void **state)
{
    char *dir = tmpdir();
    char err[256], choice[16];
    bool correct = false;
    nc_store_t *st = nc_store_open(dir, err, sizeof err);
    assert_non_null(st);

    nc_progress_t p;
    assert_int_equal(nc_store_progress(st, "tcp", &p), 0);
    assert_int_equal(p.updated, 0);
    assert_false(p.run_seen);

    assert_int_equal(nc_store_set_position(st, "tcp", 2, 3), 0);
    assert_int_equal(nc_store_answer(st, "tcp", "synack", "b", true), 0);
    assert_int_equal(nc_store_answer(st, "tcp", "fin", "a", false), 0);
    assert_int_equal(nc_store_progress(st, "tcp", &p), 0);
    assert_int_equal(p.page, 2);
    assert_int_equal(p.step, 3);
    assert_int_equal(p.answered, 2);
    assert_int_equal(p.correct, 1);
    assert_true(p.updated > 0);
    assert_false(p.completed);

    assert_true(nc_store_get_answer(st, "tcp", "synack", choice, sizeof choice, &correct));
    assert_string_equal(choice, "b");
    assert_true(correct);
    assert_false(nc_store_get_answer(st, "tcp", "nope", choice, sizeof choice, &correct));
    /* A new answer replaces the old one. */
    assert_int_equal(nc_store_answer(st, "tcp", "fin", "b", true), 0);
    assert_true(nc_store_get_answer(st, "tcp", "fin", choice, sizeof choice, &correct));
    assert_string_equal(choice, "b");
    assert_true(correct);

    /* Not complete until the run was seen and all checkpoints answered. */
    assert_int_equal(nc_store_update_completion(st, "tcp", 2), 0);
    assert_int_equal(nc_store_progress(st, "tcp", &p), 0);
    assert_false(p.completed);
    assert_int_equal(nc_store_run_seen(st, "tcp"), 0);
    assert_int_equal(nc_store_update_completion(st, "tcp", 3), 0);
    assert_int_equal(nc_store_progress(st, "tcp", &p), 0);
    assert_true(p.run_seen);
    assert_false(p.completed);
    assert_int_equal(nc_store_update_completion(st, "tcp", 2), 0);
    assert_int_equal(nc_store_progress(st, "tcp", &p), 0);
    assert_true(p.completed);
    assert_int_equal(p.page, 2);

    /* Other lessons are separate. */
    assert_int_equal(nc_store_progress(st, "udp", &p), 0);
    assert_int_equal(p.answered, 0);

    assert_int_equal(nc_store_reset(st), 0);
    assert_int_equal(nc_store_progress(st, "tcp", &p), 0);
    assert_int_equal(p.answered, 0);
    assert_false(p.completed);
    assert_int_equal(p.updated, 0);
    nc_store_close(st);
    rmtree(dir);
    free(dir);
}

static void test_reopen_persists(void **state)
{
    char *dir = tmpdir();
    char err[256], choice[16];
    bool correct = true;
    nc_store_t *st = nc_store_open(dir, err, sizeof err);
    assert_non_null(st);
    assert_int_equal(nc_store_set_position(st, "osi", 1, 4), 0);
    assert_int_equal(nc_store_answer(st, "osi", "first", "c", false), 0);
    assert_int_equal(nc_store_run_seen(st, "osi"), 0);
    nc_store_close(st);

    st = nc_store_open(dir, err, sizeof err);
    assert_non_null(st);
    nc_progress_t p;
    assert_int_equal(nc_store_progress(st, "osi", &p), 0);
    assert_int_equal(p.page, 1);
    assert_int_equal(p.step, 4);
    assert_int_equal(p.answered, 1);
    assert_int_equal(p.correct, 0);
    assert_true(p.run_seen);
    assert_true(nc_store_get_answer(st, "osi", "first", choice, sizeof choice, &correct));
    assert_string_equal(choice, "c");
    assert_false(correct);
    nc_store_close(st);
    rmtree(dir);
    free(dir);
}

/* The child answers and is killed the moment nc_store_answer returns: no
 * close, no checkpoint of the WAL, no atexit handlers. */
static void test_answer_survives_kill(void **state)
{
    char *dir = tmpdir();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char err[256];
        nc_store_t *st = nc_store_open(dir, err, sizeof err);
        if (!st)
            _exit(2);
        if (nc_store_answer(st, "tcp", "retransmit", "a", true) != 0)
            _exit(3);
        raise(SIGKILL);
        _exit(4);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);

    char err[256], choice[16];
    bool correct = false;
    nc_store_t *st = nc_store_open(dir, err, sizeof err);
    assert_non_null(st);
    assert_true(nc_store_get_answer(st, "tcp", "retransmit", choice, sizeof choice, &correct));
    assert_string_equal(choice, "a");
    assert_true(correct);
    nc_store_close(st);
    rmtree(dir);
    free(dir);
}

static void test_not_ours(void **state)
{
    char *dir = tmpdir();
    char path[512], err[256] = "";
    snprintf(path, sizeof path, "%s/progress.db", dir);

    /* Garbage bytes. */
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 4096; i++)
        fputc("not a database "[i % 15], f);
    fclose(f);
    assert_null(nc_store_open(dir, err, sizeof err));
    assert_non_null(strstr(err, "is not a netcourse progress database"));
    assert_non_null(strstr(err, path));

    /* A real SQLite database that belongs to something else. */
    unlink(path);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    err[0] = '\0';
    assert_null(nc_store_open(dir, err, sizeof err));
    assert_non_null(strstr(err, "is not a netcourse progress database"));

    /* A newer schema than this build knows. */
    unlink(path);
    nc_store_t *st = nc_store_open(dir, err, sizeof err);
    assert_non_null(st);
    nc_store_close(st);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_null(nc_store_open(dir, err, sizeof err));
    assert_non_null(strstr(err, "newer netcourse"));
    rmtree(dir);
    free(dir);
}

/* Returns 0 when both unwritable cases give their sentence. */
static int unwritable_checks(const char *dir)
{
    char sub[512], err[256] = "";
    snprintf(sub, sizeof sub, "%s/data", dir);
    if (nc_store_open(sub, err, sizeof err) || !strstr(err, "cannot create the data directory"))
        return 1;
    if (nc_store_open(dir, err, sizeof err) || !strstr(err, "is not writable"))
        return 2;
    return 0;
}

static void test_unwritable(void **state)
{
    char *dir = tmpdir();
    assert_int_equal(chmod(dir, 0555), 0);
    if (geteuid() != 0) {
        assert_int_equal(unwritable_checks(dir), 0);
    } else {
        /* Root writes anywhere: check as an unprivileged user instead. */
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            if (setgid(65534) < 0 || setuid(65534) < 0)
                _exit(9);
            _exit(unwritable_checks(dir));
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    rmtree(dir);
    free(dir);
}

static void test_not_a_directory(void **state)
{
    char *dir = tmpdir();
    char file[512], sub[600], err[256] = "";
    snprintf(file, sizeof file, "%s/file", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    assert_null(nc_store_open(file, err, sizeof err));
    assert_non_null(strstr(err, file));
    snprintf(sub, sizeof sub, "%s/file/data", dir);
    assert_null(nc_store_open(sub, err, sizeof err));
    assert_non_null(strstr(err, "cannot create the data directory"));
    rmtree(dir);
    free(dir);
}

static void test_saved_runs(void **state)
{
    char *root = tmpdir();
    char err[256] = "";
    nc_store_t *st = nc_store_open(root, err, sizeof err);
    assert_non_null(st);
    nc_store_saved_t a = {"/x/a.pcapng", "tcp", 100, 10, 20, 3000};
    nc_store_saved_t b = {"/x/b.pcapng", "udp", 200, 5, 9, 1000};
    assert_int_equal(nc_store_saved_add(st, &a), 0);
    assert_int_equal(nc_store_saved_add(st, &b), 0);
    a.bytes = 4000; /* same path: replaced, not doubled */
    assert_int_equal(nc_store_saved_add(st, &a), 0);
    nc_store_saved_t *v;
    size_t n;
    assert_int_equal(nc_store_saved_list(st, &v, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].path, "/x/b.pcapng"); /* newest first */
    assert_string_equal(v[1].lesson, "tcp");
    assert_int_equal(v[1].bytes, 4000);
    nc_store_saved_free(v, n);
    assert_int_equal(nc_store_saved_remove(st, "/x/b.pcapng"), 0);
    assert_int_equal(nc_store_saved_list(st, &v, &n), 0);
    assert_int_equal(n, 1);
    nc_store_saved_free(v, n);
    nc_store_close(st);
    rmtree(root);
    free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_dir),
        cmocka_unit_test(test_open_migrate),
        cmocka_unit_test(test_progress),
        cmocka_unit_test(test_reopen_persists),
        cmocka_unit_test(test_answer_survives_kill),
        cmocka_unit_test(test_not_ours),
        cmocka_unit_test(test_unwritable),
        cmocka_unit_test(test_not_a_directory),
        cmocka_unit_test(test_saved_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
