/*
 * clock.h - the monotonic clock every layer measures with: deadlines,
 * pauses and ages must not jump when the wall clock is set.
 */
#ifndef HWCFS_CLOCK_H
#define HWCFS_CLOCK_H

#include <time.h>

/* Monotonic milliseconds. */
static inline long long clock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Monotonic seconds, with the fraction. */
static inline double clock_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
