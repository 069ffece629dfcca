/*
 * golden.c: snapshot comparison for the view tests: a rendering is compared
 * with tests/tui/golden/NAME.txt, or rewrites it when NC_UPDATE_GOLDEN is
 * set (to anything but 0).
 */
#include "golden.h"

#include "core/buf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

void nc_golden(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/golden/%s.txt", NC_TEST_DATA, name);
    const char *upd = getenv("NC_UPDATE_GOLDEN");
    if (upd && *upd && strcmp(upd, "0") != 0) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
        return;
    }
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("missing golden file %s (run with NC_UPDATE_GOLDEN=1)", path);
    nc_buf_t want;
    nc_buf_init(&want);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        nc_buf_append(&want, chunk, n);
    fclose(f);
    if (strcmp(nc_buf_cstr(&want), text) != 0) {
        fprintf(stderr, "--- %s (expected)\n%s--- got\n%s", path, nc_buf_cstr(&want), text);
        nc_buf_done(&want);
        fail_msg("%s differs from the rendering", name);
    }
    nc_buf_done(&want);
}
