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
 *
 * Data model of the log: the class thread never writes to stdout itself
 * (a reader that stops reading would stall the class). It appends each
 * line to a bounded queue, nc_teach_log.q, and a writer thread swaps the
 * queue out and prints it. Lines that find the queue full are dropped and
 * counted, and the count is printed as {"class":"log_dropped","lines":N}
 * as soon as there is room again.
 */
#include "cli.h"

#include "../classroom/server.h"
#include "../core/buf.h"
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

enum { NC_TEACH_LOG_MAX = 4 * 1024 * 1024 };

static volatile sig_atomic_t nc_teach_interrupted;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    nc_buf_t q;             /* lines waiting for the writer */
    unsigned long dropped;  /* lines that found q full, not yet reported */
    bool stop;
    pthread_t thread;
} nc_teach_log = {.lock = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void nc_teach_on_signal(int sig)
{
    nc_teach_interrupted = 1;
}

/* The server's log callback, on the class thread: never blocks on I/O. */
static void nc_teach_print(void *arg, const char *line)
{
    size_t n = strlen(line);
    pthread_mutex_lock(&nc_teach_log.lock);
    if (nc_teach_log.q.len + n + 1 > NC_TEACH_LOG_MAX) {
        nc_teach_log.dropped++;
    } else {
        nc_buf_append(&nc_teach_log.q, line, n);
        nc_buf_putc(&nc_teach_log.q, '\n');
        pthread_cond_signal(&nc_teach_log.cv);
    }
    pthread_mutex_unlock(&nc_teach_log.lock);
}

/* Writes all of p to stdout's descriptor. Not through stdio: a write that
 * blocks must not hold stdout's FILE lock, which glibc also takes when
 * another thread reads stdin (it flushes line-buffered streams), and the
 * commands come from stdin. */
static void nc_teach_write_all(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDOUT_FILENO, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void *nc_teach_writer(void *arg)
{
    nc_buf_t out;
    nc_buf_init(&out);
    pthread_mutex_lock(&nc_teach_log.lock);
    for (;;) {
        while (!nc_teach_log.q.len && !nc_teach_log.dropped && !nc_teach_log.stop)
            pthread_cond_wait(&nc_teach_log.cv, &nc_teach_log.lock);
        if (!nc_teach_log.q.len && !nc_teach_log.dropped)
            break;
        nc_buf_t q = nc_teach_log.q;
        nc_teach_log.q = out;
        nc_buf_reset(&nc_teach_log.q);
        unsigned long dropped = nc_teach_log.dropped;
        nc_teach_log.dropped = 0;
        pthread_mutex_unlock(&nc_teach_log.lock);
        nc_teach_write_all(q.data, q.len);
        if (dropped) {
            char note[160];
            int n = snprintf(note, sizeof note,
                             "{\"class\":\"log_dropped\",\"lines\":%lu,\"text\":\"the log "
                             "was not read fast enough; lines were left out\"}\n",
                             dropped);
            nc_teach_write_all(note, (size_t)n);
        }
        out = q;
        pthread_mutex_lock(&nc_teach_log.lock);
    }
    pthread_mutex_unlock(&nc_teach_log.lock);
    nc_buf_done(&out);
    return NULL;
}

static void nc_teach_log_start(void)
{
    nc_buf_init(&nc_teach_log.q);
    pthread_create(&nc_teach_log.thread, NULL, nc_teach_writer, NULL);
}

/* Prints what is queued, then stops the writer. */
static void nc_teach_log_stop(void)
{
    pthread_mutex_lock(&nc_teach_log.lock);
    nc_teach_log.stop = true;
    pthread_cond_signal(&nc_teach_log.cv);
    pthread_mutex_unlock(&nc_teach_log.lock);
    pthread_join(nc_teach_log.thread, NULL);
    nc_buf_done(&nc_teach_log.q);
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

/* A whole number from lo to hi for option opt, or one sentence and false. */
static bool nc_teach_number(const char *opt, const char *what, const char *arg, long lo, long hi,
                            long *out)
{
    char *end;
    long v = strtol(arg, &end, 10);
    if (*arg == '\0' || *end != '\0' || v < lo || v > hi) {
        nc_cli_error("%s takes %s from %ld to %ld, not \"%s\"", opt, what, lo, hi, arg);
        return false;
    }
    *out = v;
    return true;
}

static void nc_teach_usage(FILE *out)
{
    fprintf(out, "usage: netcourse teach LESSON [--mode watch|lockstep] [--bind ADDR] [--port N]\n"
                 "                       [--headless] [--script FILE] [--seed N] [--link SPEC]\n"
                 "                       [--student-buffer KIB] [--per-address N]\n"
                 "                       [--idle-timeout SECONDS]\n");
}

static int nc_teach_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"mode", required_argument, NULL, 'm'},  {"bind", required_argument, NULL, 'b'},
        {"port", required_argument, NULL, 'p'},  {"headless", no_argument, NULL, 'H'},
        {"script", required_argument, NULL, 'S'}, {"seed", required_argument, NULL, 's'},
        {"link", required_argument, NULL, 'l'},  {"data-dir", required_argument, NULL, 'd'},
        {"student-buffer", required_argument, NULL, 'B'},
        {"per-address", required_argument, NULL, 'A'},
        {"idle-timeout", required_argument, NULL, 'I'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    nc_class_server_opts_t so = {.mode = NC_CLASS_WATCH, .port = NC_CLASS_DEFAULT_PORT};
    bool headless = false;
    const char *script = NULL;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        long v;
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
        case 'p':
            if (!nc_teach_number("--port", "a port number", optarg, 0, 65535, &v))
                return NC_EXIT_USAGE;
            so.port = (int)v;
            break;
        case 'B':
            if (!nc_teach_number("--student-buffer", "KiB", optarg, 4, 65536, &v))
                return NC_EXIT_USAGE;
            so.out_limit = (size_t)v * 1024;
            break;
        case 'A':
            if (!nc_teach_number("--per-address", "a number of students", optarg, 1, 65535, &v))
                return NC_EXIT_USAGE;
            so.max_per_address = (int)v;
            break;
        case 'I':
            if (!nc_teach_number("--idle-timeout", "seconds (students ping every 5)", optarg, 6,
                                 3600, &v))
                return NC_EXIT_USAGE;
            so.idle_timeout_ms = (int)v * 1000;
            break;
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
        nc_teach_log_start();
    }
    char err[512];
    nc_class_server_t *s = nc_class_server_start(&so, err, sizeof err);
    if (!s) {
        if (headless)
            nc_teach_log_stop();
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
    if (headless)
        nc_teach_log_stop();
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
