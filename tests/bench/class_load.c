/*
 * class_load.c: many headless students in one process, for the class
 * benchmark (class_bench.sh).
 *
 * usage: class_load HOST PORT CODE FINGERPRINT N [THREADS [light]]
 *
 * Starts N class clients (src/classroom/client.h) spread over THREADS
 * (default: the number of CPUs) libuv loops, each on its own thread, as
 * students would be on machines of their own; each loop starts its share a
 * few at a time so that joins never exceed the instructor's per-source
 * limit of unfinished handshakes. It records for every event every student
 * receives the delay from the instructor's send time (the "ts" the
 * instructor stamps on each event frame as it serializes it, right after
 * the event is published in its timeline) to the moment this student has
 * rebuilt the event in its own timeline. Both ends read CLOCK_REALTIME on
 * the same machine. With "light" the students only decrypt and read each
 * event frame's stamp (what the instructor and the network cost, without
 * the simulated students' own decoding competing for the same cores).
 * When the class says goodbye it prints one JSON line:
 * students welcomed, events delivered, p50/p99/max latency in ms.
 */
#include "classroom/client.h"
#include "core/clock.h"
#include "core/xmalloc.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <uv.h>

typedef struct load {
    uv_loop_t loop;
    uv_timer_t starter, watch;
    nc_class_client_opts_t o;
    nc_class_client_t **clients;
    int n, started, first; /* this loop's share: names from first */
    double *lat; /* ms */
    size_t nlat, caplat;
} load_t;

static void on_event(void *arg, const nc_event_t *ev, int64_t sent_ns)
{
    load_t *l = arg;
    if (l->nlat == l->caplat) {
        l->caplat = l->caplat ? 2 * l->caplat : 65536;
        l->lat = nc_xrealloc(l->lat, l->caplat * sizeof *l->lat);
    }
    l->lat[l->nlat++] = (double)(nc_clock_real_ns() - sent_ns) / 1e6;
}

static void on_start(uv_timer_t *t)
{
    load_t *l = t->data;
    for (int k = 0; k < 16 && l->started < l->n; k++) {
        char name[32];
        snprintf(name, sizeof name, "s%04d", l->first + l->started);
        nc_class_client_opts_t o = l->o;
        o.name = name;
        l->clients[l->started++] = nc_class_client_new(&l->loop, &o);
    }
    if (l->started == l->n)
        uv_timer_stop(t);
}

static void on_watch(uv_timer_t *t)
{
    load_t *l = t->data;
    if (l->started < l->n)
        return;
    for (int k = 0; k < l->n; k++)
        if (!nc_class_client_finished(l->clients[k], NULL, NULL, 0))
            return;
    uv_stop(&l->loop);
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void *load_thread(void *arg)
{
    load_t *l = arg;
    uv_run(&l->loop, UV_RUN_DEFAULT);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 6 || argc > 8) {
        fprintf(stderr, "usage: class_load HOST PORT CODE FINGERPRINT N [THREADS [light]]\n");
        return 2;
    }
    /* A refused or evicted connection must be a reconnect, not the end. */
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    int n = atoi(argv[5]);
    int nt = argc >= 7 ? atoi(argv[6]) : (int)sysconf(_SC_NPROCESSORS_ONLN);
    bool light = argc == 8 && strcmp(argv[7], "light") == 0;
    if (nt < 1)
        nt = 1;
    load_t *ls = nc_xcalloc((size_t)nt, sizeof *ls);
    pthread_t *th = nc_xcalloc((size_t)nt, sizeof *th);
    for (int t = 0; t < nt; t++) {
        load_t *l = &ls[t];
        l->first = n * t / nt;
        l->n = n * (t + 1) / nt - l->first;
        l->clients = nc_xcalloc((size_t)(l->n ? l->n : 1), sizeof *l->clients);
        l->o = (nc_class_client_opts_t){
            .host = argv[1],
            .port = atoi(argv[2]),
            .code = argv[3],
            .fingerprint = argv[4],
            .on_event = on_event,
            .receive_only = light,
            .arg = l,
        };
        uv_loop_init(&l->loop);
        uv_timer_init(&l->loop, &l->starter);
        uv_timer_init(&l->loop, &l->watch);
        l->starter.data = l->watch.data = l;
        uv_timer_start(&l->starter, on_start, (uint64_t)t * 5, 10);
        uv_timer_start(&l->watch, on_watch, 200, 200);
        pthread_create(&th[t], NULL, load_thread, l);
    }
    int welcomed = 0;
    size_t nlat = 0;
    for (int t = 0; t < nt; t++) {
        pthread_join(th[t], NULL);
        nlat += ls[t].nlat;
    }
    double *lat = nc_xcalloc(nlat ? nlat : 1, sizeof *lat);
    size_t at = 0;
    for (int t = 0; t < nt; t++) {
        load_t *l = &ls[t];
        for (int k = 0; k < l->n; k++) {
            int status = -1;
            nc_class_client_finished(l->clients[k], &status, NULL, 0);
            welcomed += status == 0;
            nc_class_client_free(l->clients[k]);
        }
        if (l->nlat)
            memcpy(lat + at, l->lat, l->nlat * sizeof *lat);
        at += l->nlat;
        free(l->lat);
        free(l->clients);
        uv_close((uv_handle_t *)&l->starter, NULL);
        uv_close((uv_handle_t *)&l->watch, NULL);
        uv_run(&l->loop, UV_RUN_DEFAULT);
        uv_loop_close(&l->loop);
    }
    qsort(lat, nlat, sizeof *lat, cmp);
    double p50 = nlat ? lat[nlat / 2] : 0;
    double p99 = nlat ? lat[(size_t)((double)nlat * 0.99)] : 0;
    double max = nlat ? lat[nlat - 1] : 0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
                 (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    printf("{\"students\":%d,\"threads\":%d,\"ended_cleanly\":%d,\"deliveries\":%zu,"
           "\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f,\"load_cpu_s\":%.2f}\n",
           n, nt, welcomed, nlat, p50, p99, max, cpu);
    free(lat);
    free(ls);
    free(th);
    return 0;
}
