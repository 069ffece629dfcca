/*
 * words.c: plurals and articles for sentences with counts in them.
 *
 * The article depends on how a number is read aloud. Only the first word
 * matters, and it is the reading of the leading group of three digits
 * (84000 is "eighty-four thousand"). That group starts with a vowel sound
 * when it is 8 ("eight"), 11 ("eleven"), 18 ("eighteen"), 80 to 89
 * ("eighty...") or 800 to 899 ("eight hundred..."); every other number
 * starts with a consonant ("one", "two", "a hundred", "nine").
 */
#include "words.h"

#include <stdbool.h>

const char *nc_words_plural(long long n, const char *one, const char *many)
{
    return n == 1 || n == -1 ? one : many;
}

const char *nc_words_article(long long n)
{
    if (n < 0)
        return "a";
    unsigned long long lead = (unsigned long long)n;
    while (lead >= 1000)
        lead /= 1000;
    bool vowel = lead == 8 || lead == 11 || lead == 18 || (lead >= 80 && lead <= 89) ||
                 (lead >= 800 && lead <= 899);
    return vowel ? "an" : "a";
}
