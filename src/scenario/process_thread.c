/*
 * process_thread.c: the process-thread lesson's programs ("local").
 *
 * The same load, four connections open at once, each sending "hello" and
 * reading one answer, is served by two servers in turn:
 *
 *   processes  port 7010: for each connection the server fork()s; the child
 *              process serves it and exits; the parent only accepts
 *   threads    port 7011: for each connection the server starts a thread
 *              (pthread_create) that serves it and ends
 *
 * Each answer names the PID and TID that served it. While all four
 * connections are open (the client holds its requests back until the
 * server has measured), the server reads the memory of each model from
 * /proc: VmRSS and Pss of every child process and of the parent, and
 * VmRSS and the thread count of the one threaded process. RSS counts every
 * page a process has mapped, including those it shares copy-on-write with
 * its parent, which Pss divides among the sharers.
 *
 * fork() from netcourse, a process with many threads: the child has one
 * thread, a copy of the parent's memory, and locks (malloc's, the
 * timeline's) that some other thread may have held at the moment of the
 * fork and that nobody will ever release in the child. So the child calls
 * only async-signal-safe functions: getpid, read, write, close and _exit.
 * Its answer is formatted by hand; it reports nothing to the timeline (the
 * parent reports the fork and the client the answer).
 */
#include "scenario.h"

#include "../core/words.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define PT_CONNS 4
#define PT_PORT_PROC 7010
#define PT_PORT_THREAD 7011

typedef struct pt_state {
    nc_scn_t *s;
    nc_scn_signal_t ready[2], measured[2];
} pt_state_t;

/* ---- memory from /proc ---- */

/* Reads the values in kB (or plain counts) of "Name:   123 kB" lines of a
 * /proc status-like file in one pass: out[k] gets the value of names[k],
 * or -1 when the file or the line is missing. */
static void pt_proc_fields(const char *path, const char *const *names, long *out, size_t n)
{
    for (size_t k = 0; k < n; k++)
        out[k] = -1;
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    char line[256];
    while (fgets(line, sizeof line, f))
        for (size_t k = 0; k < n; k++) {
            size_t len = strlen(names[k]);
            if (strncmp(line, names[k], len) == 0 && line[len] == ':')
                out[k] = strtol(line + len + 1, NULL, 10);
        }
    fclose(f);
}

/*
 * Reports the memory of one process. VmRSS and the thread count come from
 * /proc/PID/status; Pss and the split of resident pages into shared and
 * private ones from /proc/PID/smaps_rollup. A page is "shared" when
 * another process maps it too (right after fork(), nearly every page of a
 * child); "private" pages are this process's alone (those it wrote since).
 * shared_pct is the shared part of the rollup's Rss, read in the same pass
 * so both numbers describe the same moment.
 */
static void pt_memory(nc_scn_t *s, const char *model, int pid, const char *who, long *pss_sum)
{
    char status[64], rollup[64];
    snprintf(status, sizeof status, "/proc/%d/status", pid);
    snprintf(rollup, sizeof rollup, "/proc/%d/smaps_rollup", pid);
    static const char *const st_names[] = {"VmRSS", "Threads"};
    static const char *const ro_names[] = {"Rss",           "Pss",           "Shared_Clean",
                                           "Shared_Dirty",  "Private_Clean", "Private_Dirty"};
    long stv[2], ro[6];
    pt_proc_fields(status, st_names, stv, 2);
    pt_proc_fields(rollup, ro_names, ro, 6);
    long rss = stv[0], threads = stv[1], pss = ro[1];
    long shared = ro[2] >= 0 && ro[3] >= 0 ? ro[2] + ro[3] : -1;
    long priv = ro[4] >= 0 && ro[5] >= 0 ? ro[4] + ro[5] : -1;
    long shared_pct = ro[0] > 0 && shared >= 0 ? shared * 100 / ro[0] : -1;
    if (pss > 0)
        *pss_sum += pss;
    nc_scn_app_kv(s, "server", "memory",
                  (nc_scn_kv_t[]){NC_KV_S("model", model), NC_KV_I("pid", pid),
                                  NC_KV_I("rss_kb", rss), NC_KV_I("pss_kb", pss),
                                  NC_KV_I("shared_kb", shared), NC_KV_I("private_kb", priv),
                                  NC_KV_I("shared_pct", shared_pct), NC_KV_I("threads", threads)},
                  8,
                  "%s: %s (pid %d, %ld %s): VmRSS %ld kB, Pss %ld kB, private %ld kB "
                  "(%ld%% shared)",
                  model, who, pid, threads, nc_words_plural(threads, "thread", "threads"), rss, pss,
                  priv, shared_pct);
}

/* Reports what a model's processes cost together: the sum of their Pss,
 * each shared page counted once over all of them. */
static void pt_memory_sum(nc_scn_t *s, const char *model, int nproc, long pss_sum)
{
    nc_scn_app_kv(s, "server", "pss_sum",
                  (nc_scn_kv_t[]){NC_KV_S("model", model), NC_KV_I("processes", nproc),
                                  NC_KV_I("pss_kb", pss_sum)},
                  3, "%s: the %d %s together: Pss %ld kB", model, nproc,
                  nc_words_plural(nproc, "process", "processes"), pss_sum);
}

/* ---- the child process: async-signal-safe calls only ---- */

static size_t pt_utoa(char *out, unsigned long v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t k = 0; k < n; k++)
        out[k] = tmp[n - 1 - k];
    return n;
}

static void pt_child(int lfd, int fd)
{
    close(lfd);
    char buf[64];
    if (read(fd, buf, sizeof buf) > 0) {
        static const char head[] = "process pid ";
        size_t n = sizeof head - 1;
        memcpy(buf, head, n);
        n += pt_utoa(buf + n, (unsigned long)getpid());
        buf[n++] = '\n';
        if (write(fd, buf, n) < 0)
            _exit(1);
    }
    close(fd);
    _exit(0);
}

/* ---- the servers ---- */

static int pt_accept(nc_scn_t *s, int lfd, char *name, size_t namelen, int *peer_port)
{
    if (nc_scn_wait(s, lfd, POLLIN, 5000) <= 0)
        return -1;
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    nc_scn_call_begin("accept");
    int fd = accept4(lfd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
    if (fd >= 0) {
        nc_scn_peer_name(s, (struct sockaddr *)&peer, name, namelen);
        *peer_port = ntohs(peer.sin_port);
    }
    return fd;
}

static void pt_processes(pt_state_t *st)
{
    nc_scn_t *s = st->s;
    int lfd = nc_scn_socket(s, "server", PT_PORT_PROC, false);
    nc_scn_call_begin("listen");
    if (lfd < 0 || listen(lfd, 16) != 0)
        return;
    nc_scn_app_kv(s, "server", "listen",
                  (nc_scn_kv_t[]){NC_KV_S("model", "processes"), NC_KV_I("port", PT_PORT_PROC),
                                  NC_KV_I("pid", getpid())},
                  3, "processes: listen() on port %d; a new process per connection (pid %d "
                     "accepts)", PT_PORT_PROC, (int)getpid());
    nc_scn_signal_set(&st->ready[0]);
    int pids[PT_CONNS];
    int n = 0;
    for (; n < PT_CONNS && !s->stop; n++) {
        char name[64];
        int peer_port = 0;
        int fd = pt_accept(s, lfd, name, sizeof name, &peer_port);
        if (fd < 0) {
            nc_scn_fail(s, "processes: accept failed");
            break;
        }
        nc_scn_app_kv(s, "server", "accept",
                      (nc_scn_kv_t[]){NC_KV_S("model", "processes"),
                                      NC_KV_I("port", PT_PORT_PROC),
                                      NC_KV_I("peer_port", peer_port)},
                      3, "processes: accept() returned the connection from %s", name);
        pid_t pid = fork();
        if (pid == 0)
            pt_child(lfd, fd);
        close(fd);
        if (pid < 0) {
            nc_scn_fail(s, "processes: fork: %s", strerror(errno));
            break;
        }
        pids[n] = pid;
        nc_scn_app_kv(s, "server", "fork",
                      (nc_scn_kv_t[]){NC_KV_S("model", "processes"), NC_KV_I("pid", pid),
                                      NC_KV_I("peer_port", peer_port),
                                      NC_KV_S("peer", name)},
                      4, "processes: fork() made process %d to serve %s", (int)pid, name);
    }
    /* All children are alive, each waiting for its request: measure. */
    long pss_sum = 0;
    pt_memory(s, "processes", (int)getpid(), "the parent", &pss_sum);
    for (int k = 0; k < n; k++)
        pt_memory(s, "processes", pids[k], "a child", &pss_sum);
    pt_memory_sum(s, "processes", n + 1, pss_sum);
    nc_scn_signal_set(&st->measured[0]);
    for (int k = 0; k < n; k++) {
        int status = 0;
        waitpid(pids[k], &status, 0);
        nc_scn_app_kv(s, "server", "waitpid",
                      (nc_scn_kv_t[]){NC_KV_S("model", "processes"), NC_KV_I("pid", pids[k])},
                      2, "processes: waitpid(): process %d has exited (status %d)", pids[k],
                      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    close(lfd);
}

typedef struct pt_job {
    nc_scn_t *s;
    int fd;
    char peer[64];
} pt_job_t;

static void *pt_thread(void *arg)
{
    pt_job_t *j = arg;
    int tid = (int)gettid();
    nc_scn_app_kv(j->s, "server", "pthread_create",
                  (nc_scn_kv_t[]){NC_KV_S("model", "threads"), NC_KV_I("pid", getpid()),
                                  NC_KV_I("tid", tid), NC_KV_S("peer", j->peer)},
                  4, "threads: thread %d (in process %d) serves %s", tid, (int)getpid(), j->peer);
    char buf[64];
    if (nc_scn_wait(j->s, j->fd, POLLIN, 5000) > 0 && read(j->fd, buf, sizeof buf) > 0) {
        int n = snprintf(buf, sizeof buf, "thread tid %d pid %d\n", tid, (int)getpid());
        if (write(j->fd, buf, (size_t)n) != n)
            nc_scn_fail(j->s, "threads: write: %s", strerror(errno));
    }
    close(j->fd);
    return NULL;
}

static void pt_threads(pt_state_t *st)
{
    nc_scn_t *s = st->s;
    int lfd = nc_scn_socket(s, "server", PT_PORT_THREAD, false);
    nc_scn_call_begin("listen");
    if (lfd < 0 || listen(lfd, 16) != 0)
        return;
    nc_scn_app_kv(s, "server", "listen",
                  (nc_scn_kv_t[]){NC_KV_S("model", "threads"), NC_KV_I("port", PT_PORT_THREAD),
                                  NC_KV_I("pid", getpid())},
                  3, "threads: listen() on port %d; a new thread per connection",
                  PT_PORT_THREAD);
    nc_scn_signal_set(&st->ready[1]);
    pthread_t th[PT_CONNS];
    pt_job_t jobs[PT_CONNS];
    int n = 0;
    for (; n < PT_CONNS && !s->stop; n++) {
        int peer_port = 0;
        jobs[n].s = s;
        jobs[n].fd = pt_accept(s, lfd, jobs[n].peer, sizeof jobs[n].peer, &peer_port);
        if (jobs[n].fd < 0) {
            nc_scn_fail(s, "threads: accept failed");
            break;
        }
        nc_scn_app_kv(s, "server", "accept",
                      (nc_scn_kv_t[]){NC_KV_S("model", "threads"),
                                      NC_KV_I("port", PT_PORT_THREAD),
                                      NC_KV_I("peer_port", peer_port)},
                      3, "threads: accept() returned the connection from %s", jobs[n].peer);
        pthread_create(&th[n], NULL, pt_thread, &jobs[n]);
    }
    nc_scn_sleep_ms(20); /* every thread has started */
    long pss_sum = 0; /* one process: its own Pss is the model's total */
    pt_memory(s, "threads", (int)getpid(), "the one process", &pss_sum);
    nc_scn_signal_set(&st->measured[1]);
    for (int k = 0; k < n; k++)
        pthread_join(th[k], NULL);
    close(lfd);
}

static void *pt_server(void *arg)
{
    pt_state_t *st = arg;
    nc_scn_thread_name("server");
    pt_processes(st);
    if (!st->s->error)
        pt_threads(st);
    for (int k = 0; k < 2; k++) {
        nc_scn_signal_set(&st->ready[k]);
        nc_scn_signal_set(&st->measured[k]);
    }
    return NULL;
}

/* The load: PT_CONNS connections at once; the requests go out once the
 * server has measured; each answer names who served it. */
static void pt_load(pt_state_t *st, int model)
{
    nc_scn_t *s = st->s;
    const char *name = model == 0 ? "processes" : "threads";
    int port = model == 0 ? PT_PORT_PROC : PT_PORT_THREAD;
    if (nc_scn_signal_wait(&st->ready[model], 5000) != 0 || s->error)
        return;
    int fd[PT_CONNS];
    int n = 0;
    for (; n < PT_CONNS; n++) {
        fd[n] = nc_scn_socket(s, "client", 0, false);
        if (fd[n] < 0)
            break;
        if (nc_scn_connect(s, fd[n], "server", port) != 0) {
            nc_scn_fail(s, "client: cannot connect to port %d", port);
            close(fd[n]);
            break;
        }
    }
    nc_scn_signal_wait(&st->measured[model], 5000);
    for (int k = 0; k < n; k++) {
        char buf[64];
        ssize_t r = -1;
        if (write(fd[k], "hello\n", 6) == 6 && nc_scn_wait(s, fd[k], POLLIN, 3000) > 0)
            r = read(fd[k], buf, sizeof buf - 1);
        if (r > 0) {
            buf[r - 1] = '\0';
            long id = 0;
            if (sscanf(buf, "process pid %ld", &id) != 1)
                sscanf(buf, "thread tid %ld", &id);
            nc_scn_app_kv(s, "client", "read",
                          (nc_scn_kv_t[]){NC_KV_S("model", name),
                                          NC_KV_I("port", nc_scn_port(fd[k], false)),
                                          NC_KV_I(model == 0 ? "pid" : "tid", id)},
                          3, "%s: connection %d from port %d was served by %s", name, k + 1,
                          nc_scn_port(fd[k], false), buf);
        } else {
            nc_scn_fail(s, "client: no answer on port %d", port);
        }
        close(fd[k]);
    }
}

static void *pt_client(void *arg)
{
    pt_state_t *st = arg;
    nc_scn_thread_name("client");
    pt_load(st, 0);
    pt_load(st, 1);
    return NULL;
}

static int pt_run(nc_scn_t *s)
{
    pt_state_t *st = calloc(1, sizeof *st);
    st->s = s;
    for (int k = 0; k < 2; k++) {
        nc_scn_signal_init(&st->ready[k]);
        nc_scn_signal_init(&st->measured[k]);
    }
    if (nc_scn_spawn(s, "server", pt_server, st) == 0)
        nc_scn_spawn(s, "client", pt_client, st);
    int rc = nc_scn_join(s);
    for (int k = 0; k < 2; k++) {
        nc_scn_signal_done(&st->ready[k]);
        nc_scn_signal_done(&st->measured[k]);
    }
    free(st);
    return rc;
}

const nc_scenario_t nc_scenario_process_thread = {
    .name = "process-thread",
    .topology = "local",
    .about = "a process per connection and a thread per connection under the same load",
    .run = pt_run,
};
