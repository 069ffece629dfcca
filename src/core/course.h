/*
 * course.h: the lesson model.
 *
 * A lesson is what src/lesson parses out of one lessons/NAME.md file: front
 * matter (id, title, part, topology, scenario, link conditions, scripted
 * faults), Markdown pages for the reader, and the run's script: steps that
 * cut the timeline into parts, checkpoints that ask the student to predict
 * what the run will show next, and notes that the lesson attaches to the
 * events that match them. Matchers are kept as source text (see match.h);
 * the runner compiles them. All strings are owned by the lesson.
 */
#ifndef NC_COURSE_H
#define NC_COURSE_H

#include <stddef.h>
#include <stdint.h>

/* Link conditions the wire applies in both directions. */
typedef struct nc_link {
    int64_t delay_ns;  /* one-way delay */
    double loss;       /* 0..1, seeded random loss */
    uint64_t rate_bps; /* bits per second; 0 = unlimited */
} nc_link_t;

/* A scripted fault: "drop 3rd packet from=client tcp.len>0". */
typedef struct nc_fault {
    char *spec;     /* the text as written, for messages and notes */
    char *action;   /* "drop" */
    unsigned nth;   /* 1-based: act on the nth matching packet, once */
    char *match;    /* matcher source, evaluated on the decoded packet */
    int line;
} nc_fault_t;

typedef struct nc_page {
    char *title;    /* the page's "# " heading */
    char *markdown; /* the page body (Markdown; fenced run blocks removed) */
    int line;
} nc_page_t;

/* A step ends at the first event (after the previous step ended) that
 * matches `until`; the last step may have until == NULL (end of run). */
typedef struct nc_step {
    char *id;
    char *title;
    char *until;
    char *text; /* what to look for during this step (one paragraph) */
    int line;
} nc_step_t;

typedef enum {
    NC_CHOICE_WHEN,  /* the target event itself matches `match` */
    NC_CHOICE_LATER, /* an event of the window after the target matches (ref = target) */
    NC_CHOICE_NEVER, /* no event of the window after the target matches (ref = target) */
    NC_CHOICE_OTHERWISE
} nc_choice_rule_t;

typedef struct nc_choice {
    char *key;  /* "a", "b", ... */
    char *text;
    nc_choice_rule_t rule;
    char *match;   /* NULL for OTHERWISE */
    char *explain; /* "explain_a": shown when this choice is the run's answer, or NULL */
} nc_choice_t;

/* Where a checkpoint's evidence window closes; the choices are decided
 * then, and only then. */
typedef enum {
    NC_WINDOW_TARGET, /* at the target itself (only `when`/`otherwise` choices) */
    NC_WINDOW_UNTIL,  /* at the first event after the target matching window_until */
    NC_WINDOW_STEP,   /* at the end of the step in progress at the target */
    NC_WINDOW_RUN,    /* at the end of the run */
} nc_window_t;

/* A checkpoint waits (after an event matching `after`, when given) for the
 * first event matching `before` or `reveal`, and is asked just before it is
 * shown; its target is the first event matching `before` from then on. The
 * choices are decided when the window closes. Checkpoints are asked one at
 * a time: one that cannot be asked when its moment comes is skipped. */
typedef struct nc_checkpoint {
    char *id;
    char *question;
    char *before;
    char *after;   /* premise event that must have been shown first, or NULL */
    char *reveal;  /* events that would give the answer away, or NULL */
    char *premise; /* one sentence: what must hold for the question to make sense, or NULL */
    nc_window_t window;
    char *window_until; /* matcher source for NC_WINDOW_UNTIL, else NULL */
    char *explain; /* shown after the answer is revealed; {path} reads the run */
    nc_choice_t *choices;
    size_t nchoices;
    int line;
} nc_checkpoint_t;

/* A note the lesson attaches to events matching `match` (the first one
 * only, unless `every`). */
typedef struct nc_lesson_note {
    char *match;
    char *text;
    int every;
    int line;
} nc_lesson_note_t;

/* One option of a program statement: key=value (a key may repeat). */
typedef struct nc_prog_opt {
    char *key;
    char *value;
} nc_prog_opt_t;

/* One statement of a program block: a verb, its arguments and options,
 * and for `repeat` the indented statements under it. See lessons/README.md
 * for the language; src/lesson/program.c parses it, src/scenario/program.c
 * runs it. */
typedef struct nc_prog_stmt {
    char *verb;
    char **args;
    size_t nargs;
    nc_prog_opt_t *opts;
    size_t nopts;
    struct nc_prog_stmt *body;
    size_t nbody;
    int line;
} nc_prog_stmt_t;

/* A `program` block: a named program that runs on one lab host. */
typedef struct nc_program {
    char *name;
    char *host;
    nc_prog_stmt_t *stmts;
    size_t nstmts;
    int line;
} nc_program_t;

/* One way of a comparison: its label in the table, and the program that
 * does the work that way. */
typedef struct nc_compare_way {
    char *label;
    char *program;
} nc_compare_way_t;

/* A `compare` block: programs that do the same work different ways, to be
 * measured against each other at the end of the run (scenario/compare.c). */
#define NC_COMPARE_MAX_WAYS 6

typedef struct nc_compare {
    char *id;
    char *title;
    nc_compare_way_t *ways;
    size_t nways;
    int line;
} nc_compare_t;

typedef struct nc_lesson {
    char *path; /* the file it came from */
    char *id;
    char *title;
    char *summary;  /* one line for the course map */
    int part;       /* 1-based part number */
    char *part_title;
    int number;     /* position in the catalogue */
    char *topology; /* "local" or "pair" */
    char *scenario; /* scenario name in the registry, or NULL with programs */
    nc_link_t link;
    nc_fault_t *faults;
    size_t nfaults;
    nc_page_t *pages;
    size_t npages;
    nc_step_t *steps;
    size_t nsteps;
    nc_checkpoint_t *checkpoints;
    size_t ncheckpoints;
    nc_lesson_note_t *notes;
    size_t nnotes;
    nc_program_t *programs; /* the lesson's own programs (program blocks) */
    size_t nprograms;
    nc_compare_t *compares; /* compared at the end of the run */
    size_t ncompares;
} nc_lesson_t;

typedef struct nc_course {
    char *dir;
    nc_lesson_t **lessons; /* sorted by number */
    size_t nlessons;
} nc_course_t;

/* Returns the lesson with this id, or NULL (borrowed). */
const nc_lesson_t *nc_course_find(const nc_course_t *c, const char *id);

#endif
