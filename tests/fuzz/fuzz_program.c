/*
 * fuzz_program.c: libFuzzer harness for the parser of program blocks.
 *
 * The input is the body of one program block (what lies between the
 * ```program fence and its close). It is parsed with nc_program_parse(); a
 * program that parses is walked statement by statement, repeats included,
 * so ASan sees any bad pointer, and freed. The corpus holds the programs of
 * the shipped lessons and of the web fixture, and broken variants.
 */
#include "lesson/program.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t nc_fuzz_stmts(const nc_prog_stmt_t *st, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        total += strlen(st[i].verb) + (size_t)st[i].line;
        for (size_t k = 0; k < st[i].nargs; k++)
            total += strlen(st[i].args[k]);
        for (size_t k = 0; k < st[i].nopts; k++)
            total += strlen(st[i].opts[k].key) + strlen(st[i].opts[k].value);
        total += nc_fuzz_stmts(st[i].body, st[i].nbody);
    }
    return total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nc_program_t pg;
    char err[512];
    if (nc_program_parse("fuzz.md", (const char *)data, size, 1, &pg, err, sizeof err) == 0) {
        volatile size_t sink = nc_fuzz_stmts(pg.stmts, pg.nstmts) + strlen(pg.name) +
                               strlen(pg.host);
        (void)sink;
        nc_program_done(&pg);
    } else if (strlen(err) == 0 || strncmp(err, "fuzz.md:", 8) != 0) {
        abort(); /* every error names its file and line */
    }
    return 0;
}
