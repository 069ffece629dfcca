/*
 * cmd_teach.c: `netcourse teach LESSON`: the instructor's side of a class.
 *
 * It opens a class (src/classroom/server.h) and shows its join code and
 * certificate fingerprint. In the interface the instructor drives the class
 * from the dashboard view. With --headless, commands come from --script FILE
 * or from stdin, one per line, and what happens is printed to stdout as
 * JSON Lines (PROTOCOL.md); the script may also wait: "wait students N",
 * "wait answers N", "wait results N", "wait run", "sleep MS". The class ends
 * with "quit", at the end of the script or of stdin, or on SIGINT/SIGTERM.
 */
#include "cli.h"

#include "../classroom/server.h"
#include "../core/clock.h"
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
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t nc_teach_interrupted;
static pthread_mutex_t nc_teach_out_lock = PTHREAD_MUTEX_INITIALIZER;

static void nc_teach_on_signal(int sig)
{
    nc_teach_interrupted = 1;
}

static void nc_teach_print(void *arg, const char *line)
{
    pthread_mutex_lock(&nc_teach_out_lock);
    fputs(line, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    pthread_mutex_unlock(&nc_teach_out_lock);
}

/* A class of hundreds needs hundreds of descriptors: raise the soft limit
 * to the hard one. */
static void nc_teach_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void nc_teach_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* "wait WHAT N": polls the class until it holds, or the class ends. */
static void nc_teach_wait(nc_class_server_t *s, const char *what, int n)
{
    int seen_run = -1;
    for (;;) {
        if (nc_teach_interrupted || nc_class_server_finished(s))
            return;
        nc_class_snapshot_t snap;
        nc_class_server_snapshot(s, &snap);
        int reported = 0;
        for (size_t k = 0; k < snap.nstudents; k++)
            reported += snap.students[k].reported;
        bool ok = false;
        if (strcmp(what, "students") == 0)
            ok = (int)snap.nconnected >= n;
        else if (strcmp(what, "answers") == 0)
            ok = snap.answered >= n;
        else if (strcmp(what, "results") == 0)
            ok = reported >= n;
        else if (strcmp(what, "run") == 0) {
            if (seen_run < 0)
                seen_run = snap.run;
            ok = snap.run > 0 && !snap.run_active;
        }
        nc_class_snapshot_done(&snap);
        if (ok)
            return;
        nc_teach_sleep_ms(20);
    }
}

/* Runs one line; returns false when it was "quit". */
static bool nc_teach_line(nc_class_server_t *s, char *line)
{
    line[strcspn(line, "\r\n")] = '\0';
    char word[32] = "", what[32] = "";
    int n = 0;
    int got = sscanf(line, "%31s %31s %d", word, what, &n);
    if (got >= 1 && strcmp(word, "wait") == 0) {
        nc_teach_wait(s, what, got >= 3 ? n : 1);
        return true;
    }
    if (got >= 2 && strcmp(word, "sleep") == 0) {
        nc_teach_sleep_ms(atoi(what));
        return true;
    }
    nc_class_server_command(s, line);
    return !(got >= 1 && strcmp(word, "quit") == 0);
}

static int nc_teach_headless(nc_class_server_t *s, const char *script)
{
    FILE *in = stdin;
    /* poll() sees the descriptor, not stdio's buffer: read unbuffered so
     * that no line waits in the buffer while poll says there is nothing. */
    setvbuf(stdin, NULL, _IONBF, 0);
    if (script && (in = fopen(script, "r")) == NULL) {
        nc_cli_error("cannot read the script %s: %s", script, strerror(errno));
        return NC_EXIT_USAGE;
    }
    char line[1024];
    bool more = true;
    while (more && !nc_teach_interrupted && !nc_class_server_finished(s)) {
        if (in == stdin) {
            struct pollfd p = {STDIN_FILENO, POLLIN, 0};
            int r = poll(&p, 1, 100);
            if (r == 0 || (r < 0 && errno == EINTR))
                continue;
        }
        if (!fgets(line, sizeof line, in))
            break;
        more = nc_teach_line(s, line);
    }
    if (in != stdin)
        fclose(in);
    if (!nc_class_server_finished(s))
        nc_class_server_command(s, "quit");
    for (int k = 0; k < 200 && !nc_class_server_finished(s); k++)
        nc_teach_sleep_ms(10);
    return nc_teach_interrupted ? NC_EXIT_INTERRUPTED : NC_EXIT_OK;
}

static void nc_teach_usage(FILE *out)
{
    fprintf(out, "usage: netcourse teach LESSON [--mode watch|lockstep] [--bind ADDR] [--port N]\n"
                 "                       [--headless] [--script FILE] [--seed N] [--link SPEC]\n"
                 "                       [--student-buffer KIB]\n");
}

static int nc_teach_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"mode", required_argument, NULL, 'm'},  {"bind", required_argument, NULL, 'b'},
        {"port", required_argument, NULL, 'p'},  {"headless", no_argument, NULL, 'H'},
        {"script", required_argument, NULL, 'S'}, {"seed", required_argument, NULL, 's'},
        {"link", required_argument, NULL, 'l'},  {"data-dir", required_argument, NULL, 'd'},
        {"student-buffer", required_argument, NULL, 'B'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    nc_class_server_opts_t so = {.mode = NC_CLASS_WATCH, .port = NC_CLASS_DEFAULT_PORT};
    bool headless = false;
    const char *script = NULL;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'm':
            if (strcmp(optarg, "watch") == 0)
                so.mode = NC_CLASS_WATCH;
            else if (strcmp(optarg, "lockstep") == 0)
                so.mode = NC_CLASS_LOCKSTEP;
            else {
                nc_cli_error("--mode is watch or lockstep, not \"%s\"", optarg);
                return NC_EXIT_USAGE;
            }
            break;
        case 'b':
            so.bind = optarg;
            break;
        case 'p': {
            long v = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || v < 0 || v > 65535) {
                nc_cli_error("--port takes a port number from 0 to 65535, not \"%s\"", optarg);
                return NC_EXIT_USAGE;
            }
            so.port = (int)v;
            break;
        }
        case 'B': {
            long v = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || v < 4 || v > 65536) {
                nc_cli_error("--student-buffer takes KiB from 4 to 65536, not \"%s\"", optarg);
                return NC_EXIT_USAGE;
            }
            so.out_limit = (size_t)v * 1024;
            break;
        }
        case 'H':
            headless = true;
            break;
        case 'S':
            script = optarg;
            break;
        case 's':
            if (!nc_cli_seed(optarg, &so.run.seed))
                return NC_EXIT_USAGE;
            break;
        case 'l':
            if (!nc_cli_link(optarg))
                return NC_EXIT_USAGE;
            so.run.link = optarg;
            break;
        case 'd':
            nc_cli_data_dir = optarg;
            break;
        case 'h':
            nc_teach_usage(stdout);
            return NC_EXIT_OK;
        default:
            nc_cli_error("teach: unknown option \"%s\"; see `netcourse teach --help`",
                         argv[optind - 1]);
            return NC_EXIT_USAGE;
        }
    }
    if (script && !headless) {
        nc_cli_error("--script goes with --headless");
        return NC_EXIT_USAGE;
    }
    nc_course_t *course;
    const nc_lesson_t *l;
    int status = nc_cli_lesson_arg("teach", argc, argv, optind, &course, &l);
    if (status != NC_EXIT_OK)
        return status;
    nc_teach_raise_nofile();
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = nc_teach_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    char *dir = nc_store_default_dir(nc_cli_data_dir);
    so.lesson = l;
    so.data_dir = dir;
    if (headless) {
        so.log = nc_teach_print;
    }
    char err[512];
    nc_class_server_t *s = nc_class_server_start(&so, err, sizeof err);
    if (!s) {
        nc_cli_error("%s", err);
        free(dir);
        nc_course_free(course);
        return NC_EXIT_FAIL;
    }
    int rc;
    if (headless) {
        fprintf(stderr,
                "netcourse: class \"%s\" open on port %d; join code %s\n"
                "netcourse: certificate fingerprint %s\n",
                l->id, nc_class_server_port(s), nc_class_server_code(s),
                nc_class_server_fingerprint(s));
        rc = nc_teach_headless(s, script);
    } else {
        nc_store_t *st = nc_cli_store("");
        nc_tui_opts_t to = {.course = course, .store = st, .start_lesson = l->id,
                            .teach = s};
        rc = nc_tui_main(&to, err, sizeof err) == 0 ? NC_EXIT_OK : NC_EXIT_FAIL;
        if (rc != NC_EXIT_OK)
            nc_cli_error("%s", err);
        if (st)
            nc_store_close(st);
    }
    nc_class_server_free(s);
    free(dir);
    nc_course_free(course);
    return rc;
}

const nc_cmd_t nc_cmd_teach = {
    .name = "teach",
    .args = "LESSON",
    .about = "teach a live class: students join with `netcourse join`",
    .needs_lab = true,
    .main = nc_teach_main,
};
