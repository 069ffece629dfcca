/*
 * cmd_join.c: `netcourse join HOST CODE`: a student's side of a class.
 *
 * It joins the instructor's class (src/classroom/client.h). In the
 * interface the lesson reader and the ladder follow the instructor. With
 * --headless it prints the followed timeline and what happens in the class
 * as JSON Lines, and answers checkpoints from --answers FILE (lines
 * "CHECKPOINT CHOICE"; "* CHOICE" answers any other) or, with --answers -,
 * from stdin, where the student's other commands also go: hand, hand down,
 * follow, unfollow, page N, bye. Exit status: 0 when the class ended
 * (one sentence on stderr says how), 1 when the instructor refused us
 * (wrong code, changed certificate) or the first connection failed (a
 * connection lost later is retried by itself).
 */
#include "cli.h"

#include "../classroom/client.h"
#include "../classroom/server.h"
#include "../lesson/lesson.h"
#include "../store/store.h"
#include "../tui/tui.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t nc_join_interrupted;

typedef struct nc_join_answers {
    pthread_mutex_t lock;
    char ids[64][64];
    char choices[64][8];
    int n;
} nc_join_answers_t;

static void nc_join_on_signal(int sig)
{
    nc_join_interrupted = 1;
}

static void nc_join_print(void *arg, const char *line)
{
    fputs(line, stdout);
    fputc('\n', stdout);
    fflush(stdout);
}

static bool nc_join_add(nc_join_answers_t *a, const char *line)
{
    char id[64], choice[8];
    if (sscanf(line, "%63s %7s", id, choice) != 2 || id[0] == '#')
        return false;
    pthread_mutex_lock(&a->lock);
    int k = 0;
    while (k < a->n && strcmp(a->ids[k], id) != 0)
        k++;
    if (k < 64) {
        snprintf(a->ids[k], sizeof a->ids[k], "%s", id);
        snprintf(a->choices[k], sizeof a->choices[k], "%s", choice);
        if (k == a->n)
            a->n++;
    }
    pthread_mutex_unlock(&a->lock);
    return true;
}

/* Called on the client's thread when a checkpoint opens. */
static const char *nc_join_pick(void *arg, const char *id)
{
    nc_join_answers_t *a = arg;
    static _Thread_local char pick[8];
    const char *found = NULL;
    pthread_mutex_lock(&a->lock);
    for (int k = 0; k < a->n; k++)
        if (strcmp(a->ids[k], id) == 0 || (!found && strcmp(a->ids[k], "*") == 0)) {
            snprintf(pick, sizeof pick, "%s", a->choices[k]);
            found = pick;
            if (strcmp(a->ids[k], id) == 0)
                break;
        }
    pthread_mutex_unlock(&a->lock);
    return found;
}

static void nc_join_usage(FILE *out)
{
    fprintf(out, "usage: netcourse join HOST CODE [--port N] [--name NAME] [--headless]\n"
                 "                      [--answers FILE|-] [--fingerprint FP] "
                 "[--trust-new-certificate]\n");
}

static void nc_join_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A line from stdin: "CHECKPOINT CHOICE" answers (now or when it opens);
 * anything else is a student command. */
static void nc_join_stdin_line(nc_class_client_t *c, nc_join_answers_t *a, char *line)
{
    line[strcspn(line, "\r\n")] = '\0';
    char word[32] = "";
    sscanf(line, "%31s", word);
    static const char *const cmds[] = {"hand", "follow", "unfollow", "page", "bye", "answer"};
    for (size_t k = 0; k < sizeof cmds / sizeof cmds[0]; k++)
        if (strcmp(word, cmds[k]) == 0) {
            nc_class_client_command(c, line);
            return;
        }
    if (!nc_join_add(a, line))
        return;
    nc_class_view_t v;
    nc_class_client_view(c, &v);
    char id[64];
    sscanf(line, "%63s", id);
    if (v.cp_open && strcmp(v.cp_id, id) == 0) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "answer %.512s", line);
        nc_class_client_command(c, cmd);
    }
}

/* How the class ended, in one sentence on stderr; the exit status. */
static int nc_join_end(int status, const char *err)
{
    if (status != 0) {
        nc_cli_error("%s", err);
        return NC_EXIT_FAIL;
    }
    if (err[0])
        fprintf(stderr, "netcourse: %s\n", err);
    return NC_EXIT_OK;
}

static int nc_join_headless(nc_class_client_t *c, nc_join_answers_t *a, bool from_stdin)
{
    char line[512];
    bool eof = false;
    /* poll() sees the descriptor, not stdio's buffer: read unbuffered so
     * that no line waits in the buffer while poll says there is nothing. */
    setvbuf(stdin, NULL, _IONBF, 0);
    int status = 0;
    char err[800] = "";
    while (!nc_class_client_finished(c, &status, err, sizeof err)) {
        if (nc_join_interrupted) {
            nc_class_client_command(c, "bye");
            for (int k = 0; k < 100 && !nc_class_client_finished(c, NULL, NULL, 0); k++)
                nc_join_sleep_ms(10);
            return NC_EXIT_INTERRUPTED;
        }
        if (!from_stdin || eof) {
            nc_join_sleep_ms(50);
            continue;
        }
        struct pollfd p = {STDIN_FILENO, POLLIN, 0};
        int r = poll(&p, 1, 50);
        if (r <= 0)
            continue;
        if (!fgets(line, sizeof line, stdin)) {
            eof = true;
            continue;
        }
        nc_join_stdin_line(c, a, line);
    }
    return nc_join_end(status, err);
}

static int nc_join_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'},
        {"name", required_argument, NULL, 'n'},
        {"headless", no_argument, NULL, 'H'},
        {"answers", required_argument, NULL, 'a'},
        {"fingerprint", required_argument, NULL, 'f'},
        {"trust-new-certificate", no_argument, NULL, 'T'},
        {"data-dir", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    nc_class_client_opts_t co = {.port = NC_CLASS_DEFAULT_PORT, .keep_token = true};
    bool headless = false;
    const char *answers = NULL;
    const char *user = getenv("USER");
    co.name = user && *user ? user : "student";
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'p': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || v < 1 || v > 65535) {
                nc_cli_error("--port takes a port number from 1 to 65535, not \"%s\"", optarg);
                return NC_EXIT_USAGE;
            }
            co.port = (int)v;
            break;
        }
        case 'n':
            co.name = optarg;
            break;
        case 'H':
            headless = true;
            break;
        case 'a':
            answers = optarg;
            break;
        case 'f':
            co.fingerprint = optarg;
            break;
        case 'T':
            co.trust_new_cert = true;
            break;
        case 'd':
            nc_cli_data_dir = optarg;
            break;
        case 'h':
            nc_join_usage(stdout);
            return NC_EXIT_OK;
        default:
            nc_cli_error("join: unknown option \"%s\"; see `netcourse join --help`",
                         argv[optind - 1]);
            return NC_EXIT_USAGE;
        }
    }
    if (argc - optind != 2) {
        nc_cli_error("join needs the instructor's address and the join code: "
                     "`netcourse join HOST CODE`");
        return NC_EXIT_USAGE;
    }
    if (strlen(co.name) == 0 || strlen(co.name) > 32) {
        nc_cli_error("--name takes 1 to 32 characters");
        return NC_EXIT_USAGE;
    }
    if (answers && !headless) {
        nc_cli_error("--answers goes with --headless");
        return NC_EXIT_USAGE;
    }
    nc_join_answers_t a;
    memset(&a, 0, sizeof a);
    pthread_mutex_init(&a.lock, NULL);
    bool from_stdin = answers && strcmp(answers, "-") == 0;
    if (answers && !from_stdin) {
        FILE *f = fopen(answers, "r");
        if (!f) {
            nc_cli_error("cannot read the answers %s: %s", answers, strerror(errno));
            return NC_EXIT_USAGE;
        }
        char line[256];
        while (fgets(line, sizeof line, f))
            nc_join_add(&a, line);
        fclose(f);
    }
    nc_course_t *course = nc_cli_course();
    if (course == NULL)
        return NC_EXIT_FAIL;
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = nc_join_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    char *dir = nc_store_default_dir(nc_cli_data_dir);
    co.host = argv[optind];
    co.code = argv[optind + 1];
    co.data_dir = dir;
    co.course = course;
    co.on_checkpoint = nc_join_pick;
    co.arg = &a;
    int rc;
    if (headless) {
        co.out = nc_join_print;
        nc_class_client_t *cl = nc_class_client_start(&co);
        rc = nc_join_headless(cl, &a, from_stdin);
        nc_class_client_free(cl);
    } else {
        co.on_checkpoint = NULL;
        nc_class_client_t *cl = nc_class_client_start(&co);
        nc_store_t *st = nc_cli_store("");
        char err[800];
        nc_tui_opts_t to = {.course = course, .store = st, .join = cl};
        rc = nc_tui_main(&to, err, sizeof err) == 0 ? NC_EXIT_OK : NC_EXIT_FAIL;
        if (rc != NC_EXIT_OK)
            nc_cli_error("%s", err);
        int status = 0;
        if (rc == NC_EXIT_OK && nc_class_client_finished(cl, &status, err, sizeof err))
            rc = nc_join_end(status, err);
        nc_class_client_free(cl);
        if (st)
            nc_store_close(st);
    }
    pthread_mutex_destroy(&a.lock);
    free(dir);
    nc_course_free(course);
    return rc;
}

const nc_cmd_t nc_cmd_join = {
    .name = "join",
    .args = "HOST CODE",
    .about = "join a live class as a student",
    .needs_lab = true,
    .main = nc_join_main,
};
