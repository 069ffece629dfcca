/*
 * clock.h: the two clocks netcourse uses.
 *
 * Timeline times are CLOCK_REALTIME nanoseconds, because that is what the
 * kernel stamps captured packets with; durations and timeouts use
 * CLOCK_MONOTONIC.
 */
#ifndef NC_CLOCK_H
#define NC_CLOCK_H

#include <stdint.h>

int64_t nc_clock_real_ns(void);
int64_t nc_clock_mono_ns(void);

#endif
