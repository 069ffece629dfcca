/*
 * clock.c: clock_gettime wrappers.
 */
#include "clock.h"

#include <time.h>

static int64_t nc_clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t nc_clock_real_ns(void)
{
    return nc_clock_ns(CLOCK_REALTIME);
}

int64_t nc_clock_mono_ns(void)
{
    return nc_clock_ns(CLOCK_MONOTONIC);
}
