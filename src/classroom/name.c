/*
 * name.c: cleaning students' names (see name.h), with ICU.
 *
 * Data model: the name goes UTF-8 -> UTF-16 (ICU's strict conversion
 * refuses invalid UTF-8), is checked and its spaces folded code point by
 * code point into a second UTF-16 buffer, is normalised to NFC, and goes
 * back to UTF-8. The skeleton is ICU's spoof checker's, of the case-folded
 * name; the checker is made once and only read after.
 */
#include "name.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uspoof.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

enum { NC_NAME_U16 = 256 };

static pthread_once_t nc_name_once = PTHREAD_ONCE_INIT;
static USpoofChecker *nc_name_spoof;

static void nc_name_init(void)
{
    UErrorCode e = U_ZERO_ERROR;
    nc_name_spoof = uspoof_open(&e);
    if (U_FAILURE(e))
        nc_name_spoof = NULL;
}

void nc_class_name_init(void)
{
    char out[NC_CLASS_NAME_MAX + 1], skel[NC_CLASS_SKEL_MAX], why[16];
    nc_class_name_clean("ann", out, skel, why, sizeof why);
}

/* Why code point c may not be in a name, or NULL when it may. */
static const char *nc_name_refuse(UChar32 c)
{
    int8_t t = u_charType(c);
    if (t == U_CONTROL_CHAR)
        return "a control character";
    if (u_hasBinaryProperty(c, UCHAR_BIDI_CONTROL))
        return "a right-to-left or left-to-right control";
    if (u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT) || t == U_FORMAT_CHAR)
        return "an invisible character";
    if (t == U_LINE_SEPARATOR || t == U_PARAGRAPH_SEPARATOR)
        return "a line break";
    if (t == U_PRIVATE_USE_CHAR || t == U_UNASSIGNED || t == U_SURROGATE)
        return "a character with no agreed meaning";
    if (c == '"' || c == '\\' || c == '#')
        return "one of \", \\ and #";
    return NULL;
}

int nc_class_name_clean(const char *in, char out[NC_CLASS_NAME_MAX + 1],
                        char skel[NC_CLASS_SKEL_MAX], char *why, size_t whylen)
{
    pthread_once(&nc_name_once, nc_name_init);
    out[0] = skel[0] = '\0';
    UChar raw[NC_NAME_U16], folded[NC_NAME_U16], nfc[NC_NAME_U16];
    int32_t nraw = 0;
    UErrorCode e = U_ZERO_ERROR;
    size_t inlen = strlen(in);
    if (inlen > 4 * NC_CLASS_NAME_MAX) {
        snprintf(why, whylen, "a name is at most %d bytes", NC_CLASS_NAME_MAX);
        return -1;
    }
    u_strFromUTF8(raw, NC_NAME_U16, &nraw, in, (int32_t)inlen, &e);
    if (U_FAILURE(e)) {
        snprintf(why, whylen, "a name must be valid UTF-8");
        return -1;
    }
    /* Check each code point; spaces of every kind become one ' '. */
    int32_t n = 0;
    bool space = false;
    for (int32_t i = 0; i < nraw;) {
        UChar32 c;
        U16_NEXT(raw, i, nraw, c);
        const char *bad = nc_name_refuse(c);
        if (bad) {
            snprintf(why, whylen, "a name may not hold %s (U+%04X)", bad, (unsigned)c);
            return -1;
        }
        if (u_isUWhiteSpace(c)) {
            space = n > 0;
            continue;
        }
        if (space)
            folded[n++] = ' ';
        space = false;
        U16_APPEND_UNSAFE(folded, n, c);
    }
    if (n == 0) {
        snprintf(why, whylen, "a name needs at least one visible character");
        return -1;
    }
    const UNormalizer2 *nf = unorm2_getNFCInstance(&e);
    int32_t nn = U_SUCCESS(e) ? unorm2_normalize(nf, folded, n, nfc, NC_NAME_U16, &e) : 0;
    int32_t len = 0;
    if (U_SUCCESS(e))
        u_strToUTF8(out, NC_CLASS_NAME_MAX + 1, &len, nfc, nn, &e);
    if (U_FAILURE(e) || e == U_STRING_NOT_TERMINATED_WARNING || len > NC_CLASS_NAME_MAX) {
        out[0] = '\0';
        snprintf(why, whylen, "a name is at most %d bytes of UTF-8", NC_CLASS_NAME_MAX);
        return -1;
    }
    /* The skeleton of the case-folded name; without a spoof checker, the
     * folded name itself. */
    UChar fold[NC_NAME_U16];
    e = U_ZERO_ERROR;
    int32_t nf2 = u_strFoldCase(fold, NC_NAME_U16, nfc, nn, U_FOLD_CASE_DEFAULT, &e);
    UChar sk[NC_NAME_U16 * 2];
    int32_t nsk = 0;
    if (U_SUCCESS(e) && nc_name_spoof)
        nsk = uspoof_getSkeleton(nc_name_spoof, 0, fold, nf2, sk, NC_NAME_U16 * 2, &e);
    else if (U_SUCCESS(e)) {
        memcpy(sk, fold, (size_t)nf2 * sizeof *sk);
        nsk = nf2;
    }
    int32_t sl = 0;
    if (U_SUCCESS(e))
        u_strToUTF8(skel, NC_CLASS_SKEL_MAX, &sl, sk, nsk, &e);
    if (U_FAILURE(e) || e == U_STRING_NOT_TERMINATED_WARNING)
        snprintf(skel, NC_CLASS_SKEL_MAX, "%s", out);
    return 0;
}
