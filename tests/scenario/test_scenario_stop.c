/*
 * test_scenario_stop.c: a stopped run stops its programs' waits.
 *
 * A program thread on a lab host waits on a one-shot signal that nobody
 * will set (the accept-queue server waiting for clients that a stopped run
 * never starts). Stopping the run must end that wait with NC_ESTOPPED: it
 * used to sit out its whole time-out, so a run restarted in its first half
 * second blocked the interface for the rest of the server's 5 s wait, and
 * the restarted accept-queue run took 7.5 s instead of 2.9 s. The wait here
 * is a minute long, so the result tells the two apart without timing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/timeline.h"
#include "lab/lab.h"
#include "scenario/scenario.h"

#include <semaphore.h>
#include <stdio.h>
#include <string.h>

typedef struct waiter {
    nc_scn_t *s;
    nc_scn_signal_t never; /* nobody sets it */
    sem_t waiting;
    int rc;
} waiter_t;

static void *waiter_main(void *arg)
{
    waiter_t *w = arg;
    sem_post(&w->waiting);
    w->rc = nc_scn_signal_wait(&w->never, 60000);
    return NULL;
}

static void test_stop_ends_signal_wait(void **state)
{
    nc_timeline_t *tl = nc_timeline_new(0);
    nc_lab_opts_t o = {.topology = "local", .tl = tl};
    char err[512] = "";
    nc_lab_t *lab = nc_lab_new(&o, err, sizeof err);
    if (!lab)
        fail_msg("nc_lab_new: %s", err);
    nc_scn_t s;
    memset(&s, 0, sizeof s);
    s.lab = lab;
    s.tl = tl;
    pthread_mutex_init(&s.lock, NULL);
    waiter_t w = {.s = &s, .rc = 1};
    nc_scn_signal_init(&w.never);
    sem_init(&w.waiting, 0, 0);
    assert_int_equal(nc_scn_spawn(&s, "server", waiter_main, &w), 0);
    sem_wait(&w.waiting);
    s.stop = 1;
    nc_scn_join(&s);
    assert_int_equal(w.rc, NC_ESTOPPED);
    /* A signal that is set still reads as set, stopped or not. */
    nc_scn_signal_set(&w.never);
    assert_int_equal(nc_scn_signal_wait(&w.never, 10), 0);
    nc_scn_signal_done(&w.never);
    sem_destroy(&w.waiting);
    pthread_mutex_destroy(&s.lock);
    nc_lab_free(lab);
    nc_timeline_free(tl);
}

int main(void)
{
    char err[512];
    if (nc_lab_prepare(err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stop_ends_signal_wait),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
