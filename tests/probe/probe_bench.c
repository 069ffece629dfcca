/*
 * probe_bench.c: what the probe costs. Not a test: it prints figures.
 *
 * It builds a local lab holding a listener and N established connections
 * (2N + 1 sockets), runs the probe for a few seconds as a run would, and
 * prints the samples per second it achieved and the CPU time of its thread
 * (per sample, and as a share of one core). For comparison it then runs
 * `ss -tin` inside the lab namespace as many times as the probe sampled in
 * one second, and prints the CPU time and wall time that cost.
 *
 *   probe_bench [CONNECTIONS [SECONDS]]     (defaults: 50 connections, 3 s)
 */
#include "core/timeline.h"
#include "lab/lab.h"
#include "probe/probe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAXC 1000

typedef struct setup {
    int n;
    int fds[2 * MAXC + 1];
    int nfds;
} setup_t;

static void *make_sockets(void *arg)
{
    setup_t *s = arg;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(7200)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (bind(l, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(l, 4096) != 0)
        return NULL;
    s->fds[s->nfds++] = l;
    for (int k = 0; k < s->n; k++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(c, (struct sockaddr *)&sa, sizeof sa) != 0)
            break;
        s->fds[s->nfds++] = c;
        s->fds[s->nfds++] = accept(l, NULL, NULL);
    }
    return NULL;
}

typedef struct ss_job {
    int runs;
    double wall_s, cpu_s;
} ss_job_t;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double rusage_s(const struct rusage *r)
{
    return (double)(r->ru_utime.tv_sec + r->ru_stime.tv_sec) +
           (double)(r->ru_utime.tv_usec + r->ru_stime.tv_usec) / 1e6;
}

/* Runs ss -tin job->runs times from a thread inside the lab namespace. */
static void *run_ss(void *arg)
{
    ss_job_t *j = arg;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    char *argv[] = {"ss", "-tin", NULL};
    struct rusage before, after;
    getrusage(RUSAGE_CHILDREN, &before);
    double t0 = now_s();
    for (int k = 0; k < j->runs; k++) {
        pid_t pid;
        if (posix_spawnp(&pid, "ss", &fa, NULL, argv, environ) != 0) {
            j->runs = k;
            break;
        }
        waitpid(pid, NULL, 0);
    }
    j->wall_s = now_s() - t0;
    getrusage(RUSAGE_CHILDREN, &after);
    j->cpu_s = rusage_s(&after) - rusage_s(&before);
    posix_spawn_file_actions_destroy(&fa);
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 50;
    double secs = argc > 2 ? atof(argv[2]) : 3.0;
    if (n < 0 || n > MAXC || secs <= 0) {
        fprintf(stderr, "usage: probe_bench [CONNECTIONS (0-%d) [SECONDS]]\n", MAXC);
        return 2;
    }
    char err[256];
    if (nc_lab_prepare(err, sizeof err) != 0) {
        fprintf(stderr, "probe_bench: %s\n", err);
        return 1;
    }
    nc_lab_opts_t o = {.topology = "local"};
    nc_lab_t *lab = nc_lab_new(&o, err, sizeof err);
    if (!lab) {
        fprintf(stderr, "probe_bench: %s\n", err);
        return 1;
    }
    setup_t *s = calloc(1, sizeof *s);
    s->n = n;
    pthread_t t;
    nc_lab_spawn(lab, "server", make_sockets, s, &t);
    pthread_join(t, NULL);
    nc_timeline_t *tl = nc_timeline_new(0);
    nc_probe_t *p = nc_probe_start(&(nc_probe_opts_t){.lab = lab, .tl = tl}, err, sizeof err);
    if (!p) {
        fprintf(stderr, "probe_bench: %s\n", err);
        return 1;
    }
    struct timespec ts = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
    nanosleep(&ts, NULL);
    nc_probe_stop(p);
    nc_probe_stats_t st;
    nc_probe_stats(p, &st);
    double wall = (double)st.wall_ns / 1e9, cpu = (double)st.cpu_ns / 1e9;
    double rate = (double)st.samples / wall;
    double per = cpu / (double)(st.samples ? st.samples : 1);
    printf("sockets watched: %d (1 listener, %d connections, both ends)\n", s->nfds, n);
    printf("probe: %llu samples in %.2f s = %.0f samples/s; %llu state events, %llu errors\n",
           (unsigned long long)st.samples, wall, rate, (unsigned long long)st.events,
           (unsigned long long)st.errors);
    printf("probe: CPU %.1f ms = %.2f%% of one core; %.1f us per sample\n", cpu * 1e3,
           100.0 * cpu / wall, per * 1e6);
    ss_job_t j = {.runs = (int)(rate + 0.5)};
    nc_lab_spawn(lab, "server", run_ss, &j, &t);
    pthread_join(t, NULL);
    if (j.runs > 0) {
        double ss_per = j.cpu_s / j.runs;
        printf("ss -tin, run %d times (one second of the probe's samples): %.2f s wall, "
               "CPU %.1f ms; %.0f us CPU per run = %.0fx the probe's per sample\n",
               j.runs, j.wall_s, j.cpu_s * 1e3, ss_per * 1e6, per > 0 ? ss_per / per : 0);
    } else {
        printf("ss -tin could not be run (is iproute2 installed?)\n");
    }
    nc_probe_free(p);
    for (int k = 0; k < s->nfds; k++)
        close(s->fds[k]);
    nc_lab_free(lab);
    nc_timeline_free(tl);
    free(s);
    return 0;
}
