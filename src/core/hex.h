/*
 * hex.h: one hexadecimal digit's value.
 *
 * Several readers of untrusted text parse hex: JSON's \uXXXX escapes (the
 * class protocol, saved runs' metadata), HTTP/1 chunk sizes and key log
 * secrets. They share this one digit reader; each keeps its own rules for
 * how many digits make a number and what may follow them.
 */
#ifndef NC_HEX_H
#define NC_HEX_H

/* Returns the value (0-15) of the hex digit c, either case, or -1 when c
 * is not one. */
static inline int nc_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
