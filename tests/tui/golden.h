/*
 * golden.h: compare a view's text rendering with its golden file.
 */
#ifndef NC_TEST_GOLDEN_H
#define NC_TEST_GOLDEN_H

/* Compares text with golden/NAME.txt (a cmocka failure showing both when
 * they differ), or rewrites the file when NC_UPDATE_GOLDEN is set. */
void nc_golden(const char *name, const char *text);

#endif
