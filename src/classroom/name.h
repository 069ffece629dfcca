/*
 * name.h: students' names, as the instructor keeps and shows them.
 *
 * A name arrives as whatever bytes a student sent. It is kept only if it
 * is valid UTF-8 with nothing that hides or disguises text: no control
 * characters (C0, C1, DEL), no bidirectional controls or overrides, no
 * invisible (default-ignorable or format) characters, no line separators,
 * no private-use or unassigned code points, and none of '"', '\\' and '#'
 * ('#' marks the number given to a repeated name). Spaces of any kind
 * become one ASCII space, the ends are trimmed, and the result is in
 * Unicode NFC, at most 32 bytes.
 *
 * Its skeleton (Unicode TS #39, after case folding) is what two names that
 * look alike share: "ann", "Ann" and "аnn" with a Cyrillic a all have the
 * skeleton of "ann". The roster gives a name whose skeleton is already
 * taken a number ("аnn#2"), so look-alikes are shown apart.
 */
#ifndef NC_CLASS_NAME_H
#define NC_CLASS_NAME_H

#include <stddef.h>

#define NC_CLASS_NAME_MAX 32
#define NC_CLASS_SKEL_MAX 200

/* Loads ICU's normalisation and confusables data now (tens of
 * milliseconds), so that the first join does not pay for it. */
void nc_class_name_init(void);

/* Cleans in into out (NC_CLASS_NAME_MAX + 1 bytes) and writes its skeleton
 * to skel (NC_CLASS_SKEL_MAX bytes). Returns 0, or -1 with one sentence in
 * why saying what is wrong with the name. */
int nc_class_name_clean(const char *in, char out[NC_CLASS_NAME_MAX + 1],
                        char skel[NC_CLASS_SKEL_MAX], char *why, size_t whylen);

#endif
