/*
 * test_words.c: plurals and articles for the timeline's sentences with
 * counts ("1 thread", "an 84-byte page").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/words.h"

#include <string.h>

static void test_plural(void **state)
{
    (void)state;
    assert_string_equal(nc_words_plural(1, "thread", "threads"), "thread");
    assert_string_equal(nc_words_plural(-1, "byte", "bytes"), "byte");
    assert_string_equal(nc_words_plural(0, "thread", "threads"), "threads");
    assert_string_equal(nc_words_plural(2, "thread", "threads"), "threads");
    assert_string_equal(nc_words_plural(11, "thread", "threads"), "threads");
}

static void test_article(void **state)
{
    (void)state;
    static const struct {
        long long n;
        const char *article;
    } cases[] = {
        {0, "a"},      {1, "a"},      {7, "a"},       {8, "an"},       {9, "a"},
        {11, "an"},    {12, "a"},     {18, "an"},     {19, "a"},       {20, "a"},
        {79, "a"},     {80, "an"},    {84, "an"},     {89, "an"},      {90, "a"},
        {100, "a"},    {167, "a"},    {800, "an"},    {899, "an"},     {900, "a"},
        {1000, "a"},   {1100, "a"},   {8000, "an"},   {8192, "an"},    {11000, "an"},
        {18432, "an"}, {49152, "a"},  {84000, "an"},  {800000, "an"},  {8000000, "an"},
        {-8, "a"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (strcmp(nc_words_article(cases[i].n), cases[i].article) != 0)
            fail_msg("%lld: expected \"%s\", got \"%s\"", cases[i].n, cases[i].article,
                     nc_words_article(cases[i].n));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plural),
        cmocka_unit_test(test_article),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
