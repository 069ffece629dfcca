/*
 * fuzz_lesson.c: libFuzzer harness for the lesson parser.
 *
 * The input is a whole lesson file. It is parsed with nc_lesson_parse(); a
 * lesson that parses is walked field by field (so every string it holds is
 * read and ASan sees any bad pointer) and freed. The bytes are also given,
 * NUL-terminated, to nc_link_parse(), the parser of the front matter's
 * "link:" value. The corpus holds the shipped lessons and broken variants.
 */
#include "core/link.h"
#include "lesson/lesson.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t nc_fuzz_len(const char *s)
{
    return s ? strlen(s) : 0;
}

static size_t nc_fuzz_walk(const nc_lesson_t *l)
{
    size_t n = nc_fuzz_len(l->id) + nc_fuzz_len(l->title) + nc_fuzz_len(l->summary) +
               nc_fuzz_len(l->part_title) + nc_fuzz_len(l->topology) + nc_fuzz_len(l->scenario);
    for (size_t i = 0; i < l->nfaults; i++)
        n += nc_fuzz_len(l->faults[i].spec) + nc_fuzz_len(l->faults[i].match) + l->faults[i].nth;
    for (size_t i = 0; i < l->npages; i++)
        n += nc_fuzz_len(l->pages[i].title) + nc_fuzz_len(l->pages[i].markdown);
    for (size_t i = 0; i < l->nsteps; i++)
        n += nc_fuzz_len(l->steps[i].id) + nc_fuzz_len(l->steps[i].until) +
             nc_fuzz_len(l->steps[i].text);
    for (size_t i = 0; i < l->ncheckpoints; i++) {
        const nc_checkpoint_t *c = &l->checkpoints[i];
        n += nc_fuzz_len(c->question) + nc_fuzz_len(c->before) + nc_fuzz_len(c->explain);
        for (size_t j = 0; j < c->nchoices; j++)
            n += nc_fuzz_len(c->choices[j].key) + nc_fuzz_len(c->choices[j].text) +
                 nc_fuzz_len(c->choices[j].match);
    }
    for (size_t i = 0; i < l->nnotes; i++)
        n += nc_fuzz_len(l->notes[i].match) + nc_fuzz_len(l->notes[i].text);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    nc_lesson_t *l = NULL;
    if (nc_lesson_parse("fuzz.md", (const char *)data, size, &l, err, sizeof err) == 0) {
        volatile size_t n = nc_fuzz_walk(l);
        (void)n;
        nc_lesson_free(l);
    }
    if (size < 4096) {
        char *spec = malloc(size + 1);
        memcpy(spec, data, size);
        spec[size] = '\0';
        nc_link_t link = {0};
        nc_link_parse(spec, &link, err, sizeof err);
        free(spec);
    }
    return 0;
}
