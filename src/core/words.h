/*
 * words.h: small pieces of English for sentences built around numbers.
 *
 * The timeline's sentences are made with printf from counts the run
 * measured ("4 threads", "a 84-byte page"), and a count of one or a number
 * read with a vowel sound ("an 84-byte page", "an 8-byte header") needs
 * other words. These helpers pick them; they return static strings and
 * keep no state.
 */
#ifndef NC_WORDS_H
#define NC_WORDS_H

/* Returns one when n is 1 (or -1), many otherwise: nc_words_plural(n,
 * "thread", "threads"). Returns one of its arguments (borrowed). */
const char *nc_words_plural(long long n, const char *one, const char *many);

/* Returns "a" or "an": the article for n read aloud in English as a
 * number ("an 8-byte header", "an 11-byte", "an 84-byte", "an 800-byte",
 * "an 18000-byte"; "a 1-byte", "a 100-byte"). Negative numbers ("minus
 * ...") take "a". The string is static. */
const char *nc_words_article(long long n);

#endif
