/*
 * course.c: the whole course, every lesson file in one directory.
 *
 * A course is the list of lessons parsed from the *.md files of a directory
 * (README.md, which documents the format, excepted), sorted by their
 * "number". Files are read in name order so that errors are reported in the
 * same order on every machine. Two lessons may not share an id or a number.
 * The directory itself is found by nc_course_find_dir(), which tries the
 * places an installed or a just-built netcourse keeps its lessons.
 */
#include "lesson.h"

#include "lesson_priv.h"

#include "core/error.h"
#include "core/xmalloc.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int nc_strcmp_p(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int nc_lesson_cmp_number(const void *a, const void *b)
{
    const nc_lesson_t *x = *(nc_lesson_t *const *)a, *y = *(nc_lesson_t *const *)b;
    return (x->number > y->number) - (x->number < y->number);
}

static bool nc_is_lesson_name(const char *name)
{
    size_t n = strlen(name);
    return n > 3 && name[0] != '.' && strcmp(name + n - 3, ".md") == 0 &&
           strcmp(name, "README.md") != 0;
}

/* Lists the lesson file names of dir, sorted. Returns 0 or a negative code
 * with a sentence in err. */
static int nc_course_list(const char *dir, char ***names, size_t *count, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        int e = errno;
        snprintf(err, errlen, "%s: cannot open the lessons directory: %s", dir, strerror(e));
        return e == ENOENT ? NC_ENOENT : NC_EIO;
    }
    char **v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!nc_is_lesson_name(de->d_name))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            v = nc_xrealloc(v, cap * sizeof *v);
        }
        v[n++] = nc_xstrdup(de->d_name);
    }
    closedir(d);
    if (n)
        qsort(v, n, sizeof *v, nc_strcmp_p);
    *names = v;
    *count = n;
    return 0;
}

/* Checks that no two lessons (already sorted by number) share a number or
 * an id; the later file is the one reported. */
static int nc_course_check(const nc_course_t *c, char *err, size_t errlen)
{
    for (size_t i = 1; i < c->nlessons; i++) {
        const nc_lesson_t *a = c->lessons[i - 1], *b = c->lessons[i];
        if (a->number == b->number) {
            snprintf(err, errlen, "%s:%d: number %d is also used by %s", b->path,
                     nc_lesson_priv(b)->number_line, b->number, a->path);
            return NC_EEXIST;
        }
    }
    for (size_t i = 0; i < c->nlessons; i++) {
        for (size_t j = i + 1; j < c->nlessons; j++) {
            const nc_lesson_t *a = c->lessons[i], *b = c->lessons[j];
            if (strcmp(a->id, b->id) == 0) {
                snprintf(err, errlen, "%s:%d: id \"%s\" is also used by %s", b->path,
                         nc_lesson_priv(b)->id_line, b->id, a->path);
                return NC_EEXIST;
            }
        }
    }
    return 0;
}

int nc_course_load(const char *dir, nc_course_t **out, char *err, size_t errlen)
{
    *out = NULL;
    char **names;
    size_t count;
    int rc = nc_course_list(dir, &names, &count, err, errlen);
    if (rc < 0)
        return rc;
    nc_course_t *c = nc_xcalloc(1, sizeof *c);
    c->dir = nc_xstrdup(dir);
    c->lessons = nc_xcalloc(count ? count : 1, sizeof *c->lessons);
    for (size_t i = 0; i < count && rc == 0; i++) {
        size_t dl = strlen(dir);
        char *path = nc_xasprintf("%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", names[i]);
        nc_lesson_t *l;
        rc = nc_lesson_load(path, &l, err, errlen);
        if (rc == 0)
            c->lessons[c->nlessons++] = l;
        free(path);
    }
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
    if (rc == 0 && c->nlessons == 0) {
        snprintf(err, errlen, "%s: the directory holds no lessons", dir);
        rc = NC_ENOENT;
    }
    if (rc == 0) {
        qsort(c->lessons, c->nlessons, sizeof *c->lessons, nc_lesson_cmp_number);
        rc = nc_course_check(c, err, errlen);
    }
    if (rc < 0) {
        nc_course_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void nc_course_free(nc_course_t *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nlessons; i++)
        nc_lesson_free(c->lessons[i]);
    free(c->lessons);
    free(c->dir);
    free(c);
}

const nc_lesson_t *nc_course_find(const nc_course_t *c, const char *id)
{
    if (!c || !id)
        return NULL;
    for (size_t i = 0; i < c->nlessons; i++)
        if (strcmp(c->lessons[i]->id, id) == 0)
            return c->lessons[i];
    return NULL;
}

static bool nc_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* <directory of the running binary>/../share/netcourse/lessons, when the
 * binary can be found and that directory exists. */
static char *nc_course_dir_beside_exe(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    char *dir = nc_xasprintf("%s/../share/netcourse/lessons", exe);
    if (nc_is_dir(dir))
        return dir;
    free(dir);
    return NULL;
}

char *nc_course_find_dir(void)
{
    const char *env = getenv("NETCOURSE_LESSONS");
    if (env && *env)
        return nc_xstrdup(env); /* as given: a wrong path gets a clear error when loaded */
    char *dir = nc_course_dir_beside_exe();
    if (dir)
        return dir;
    static const char *const fixed[] = {
#ifdef NC_INSTALL_DATADIR
        NC_INSTALL_DATADIR "/lessons",
#endif
#ifdef NC_SOURCE_DIR
        NC_SOURCE_DIR "/lessons",
#endif
        NULL,
    };
    for (size_t i = 0; fixed[i]; i++)
        if (nc_is_dir(fixed[i]))
            return nc_xstrdup(fixed[i]);
    return NULL;
}
