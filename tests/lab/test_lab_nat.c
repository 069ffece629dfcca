/*
 * test_lab_nat.c: the NAT box's table and rewriting without namespaces.
 *
 * Frames are built by hand (Ethernet, IPv4, UDP or TCP, with correct
 * checksums), passed through nc_nat_outbound/inbound, and checked: the
 * addresses and ports the NAT chose, checksums that a full recomputation
 * agrees with (the incremental fix-up must equal doing it from scratch),
 * each behaviour's filter, and expiry after the timeout.
 */
#include "lab/lab_impl.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

enum { ETH = 14, IP = 20 };

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t acc)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        acc += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        acc += (uint32_t)(p[n - 1] << 8);
    return acc;
}

static uint16_t fold(uint32_t acc)
{
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)~acc;
}

/* Recomputes both checksums of frame f (l4len bytes of transport). */
static void checksum(uint8_t *f, uint8_t proto, size_t l4len)
{
    uint8_t *ip = f + ETH, *l4 = ip + IP;
    ip[10] = ip[11] = 0;
    uint16_t c = fold(sum16(ip, IP, 0));
    ip[10] = (uint8_t)(c >> 8);
    ip[11] = (uint8_t)c;
    uint8_t *cs = l4 + (proto == 17 ? 6 : 16);
    cs[0] = cs[1] = 0;
    uint32_t acc = sum16(ip + 12, 8, 0) + proto + (uint32_t)l4len;
    c = fold(sum16(l4, l4len, acc));
    if (proto == 17 && c == 0)
        c = 0xffff;
    cs[0] = (uint8_t)(c >> 8);
    cs[1] = (uint8_t)c;
}

/* Whether both checksums of f verify. */
static bool verifies(const uint8_t *f, uint8_t proto, size_t l4len)
{
    const uint8_t *ip = f + ETH;
    if (fold(sum16(ip, IP, 0)) != 0)
        return false;
    uint32_t acc = sum16(ip + 12, 8, 0) + proto + (uint32_t)l4len;
    return fold(sum16(ip + IP, l4len, acc)) == 0;
}

static size_t frame(uint8_t *f, uint8_t proto, const char *src, uint16_t sport, const char *dst,
                    uint16_t dport)
{
    size_t l4len = proto == 17 ? 8 + 5 : 20 + 5;
    memset(f, 0, 128);
    f[12] = 0x08;
    uint8_t *ip = f + ETH, *l4 = ip + IP;
    ip[0] = 0x45;
    ip[2] = (uint8_t)((IP + l4len) >> 8);
    ip[3] = (uint8_t)(IP + l4len);
    ip[8] = 64;
    ip[9] = proto;
    inet_pton(AF_INET, src, ip + 12);
    inet_pton(AF_INET, dst, ip + 16);
    l4[0] = (uint8_t)(sport >> 8);
    l4[1] = (uint8_t)sport;
    l4[2] = (uint8_t)(dport >> 8);
    l4[3] = (uint8_t)dport;
    if (proto == 17) {
        l4[5] = (uint8_t)l4len;
        memcpy(l4 + 8, "hello", 5);
    } else {
        l4[12] = 0x50;
        l4[13] = 0x02;
        memcpy(l4 + 20, "hello", 5);
    }
    checksum(f, proto, l4len);
    return ETH + IP + l4len;
}

static void endpoint(const uint8_t *f, bool src, char *out)
{
    char a[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, f + ETH + (src ? 12 : 16), a, sizeof a);
    const uint8_t *p = f + ETH + IP + (src ? 0 : 2);
    snprintf(out, 40, "%s:%u", a, (unsigned)(p[0] << 8 | p[1]));
}

static nc_nat_t *nat(const char *kind)
{
    nc_nat_t *n = nc_nat_new(kind, "203.0.113.1", "192.168.1.0/24", 1000);
    assert_non_null(n);
    return n;
}

/* Out from inside1:5000 to dst:dport; returns the public endpoint. */
static void out(nc_nat_t *n, uint8_t proto, const char *dst, uint16_t dport, int64_t now,
                char *pub)
{
    uint8_t f[128];
    size_t len = frame(f, proto, "192.168.1.10", 5000, dst, dport);
    char what[200];
    nc_nat_change_t c;
    nc_nat_result_t r = nc_nat_outbound(n, f, (uint32_t)len, now, what, sizeof what, &c);
    assert_true(r == NC_NAT_NEW_MAPPING || r == NC_NAT_REWROTE);
    assert_true(verifies(f, proto, len - ETH - IP));
    endpoint(f, true, pub);
}

/* In from src:sport to the public port; returns whether it got in (and
 * then checks it now goes to inside1:5000 with good checksums). */
static bool in(nc_nat_t *n, uint8_t proto, const char *src, uint16_t sport, uint16_t port)
{
    uint8_t f[128];
    size_t len = frame(f, proto, src, sport, "203.0.113.1", port);
    char what[200];
    nc_nat_result_t r = nc_nat_inbound(n, f, (uint32_t)len, 0, what, sizeof what);
    if (r == NC_NAT_DROP)
        return false;
    assert_int_equal(r, NC_NAT_REWROTE);
    char to[40];
    endpoint(f, false, to);
    assert_string_equal(to, "192.168.1.10:5000");
    assert_true(verifies(f, proto, len - ETH - IP));
    return true;
}

static void test_kinds(void **state)
{
    static const struct {
        const char *kind;
        const char *second; /* the mapping toward 203.0.113.30:3479 */
        bool other_port, other_addr;
    } rows[] = {
        {"full-cone", "203.0.113.1:40000", true, true},
        {"address-restricted", "203.0.113.1:40000", true, false},
        {"port-restricted", "203.0.113.1:40000", false, false},
        {"symmetric", "203.0.113.1:40001", false, false},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        for (uint8_t proto = 6; proto <= 17; proto += 11) {
            nc_nat_t *n = nat(rows[i].kind);
            char pub[40];
            out(n, proto, "203.0.113.30", 3478, 0, pub);
            assert_string_equal(pub, "203.0.113.1:40000");
            out(n, proto, "203.0.113.30", 3479, 0, pub);
            assert_string_equal(pub, rows[i].second);
            assert_true(in(n, proto, "203.0.113.30", 3478, 40000));
            assert_int_equal(in(n, proto, "203.0.113.30", 3480, 40000), rows[i].other_port);
            assert_int_equal(in(n, proto, "203.0.113.20", 3478, 40000), rows[i].other_addr);
            assert_false(in(n, proto, "203.0.113.30", 3478, 41000)); /* no mapping */
            nc_nat_free(n);
        }
    }
}

static void test_expiry_and_table(void **state)
{
    nc_nat_t *n = nat("symmetric");
    char pub[40], table[512];
    out(n, 17, "203.0.113.30", 3478, 0, pub);
    out(n, 17, "203.0.113.30", 3479, 600, pub);
    nc_nat_table(n, table, sizeof table);
    assert_string_equal(table, "udp 192.168.1.10:5000 = 203.0.113.1:40000 for 203.0.113.30:3478\n"
                               "udp 192.168.1.10:5000 = 203.0.113.1:40001 for 203.0.113.30:3479");
    nc_nat_change_t c[4];
    assert_int_equal(nc_nat_expire(n, 999, c, 4), 0);
    assert_int_equal(nc_nat_expire(n, 1000, c, 4), 1);
    assert_string_equal(c[0].what, "expire");
    assert_string_equal(c[0].outside, "203.0.113.1:40000");
    assert_string_equal(c[0].remote, "203.0.113.30:3478");
    assert_int_equal(c[0].mappings, 1);
    assert_false(in(n, 17, "203.0.113.30", 3478, 40000));
    assert_int_equal(nc_nat_expire(n, 1600, c, 4), 1);
    nc_nat_table(n, table, sizeof table);
    assert_string_equal(table, "");
    nc_nat_free(n);
}

static void test_passes_and_drops(void **state)
{
    nc_nat_t *n = nat("full-cone");
    uint8_t f[128];
    char what[200];
    nc_nat_change_t c;
    /* The nat host's own traffic and outside-to-outside traffic pass. */
    size_t len = frame(f, 17, "203.0.113.1", 53, "203.0.113.30", 53);
    assert_int_equal(nc_nat_outbound(n, f, (uint32_t)len, 0, what, sizeof what, &c), NC_NAT_PASS);
    len = frame(f, 17, "203.0.113.20", 53, "203.0.113.30", 53);
    assert_int_equal(nc_nat_inbound(n, f, (uint32_t)len, 0, what, sizeof what), NC_NAT_PASS);
    /* An inside ICMP message may not leave untranslated. */
    len = frame(f, 17, "192.168.1.10", 1, "203.0.113.30", 1);
    f[ETH + 9] = 1;
    assert_int_equal(nc_nat_outbound(n, f, (uint32_t)len, 0, what, sizeof what, &c), NC_NAT_DROP);
    /* A UDP checksum of 0 (none) stays 0. */
    len = frame(f, 17, "192.168.1.10", 5000, "203.0.113.30", 3478);
    f[ETH + IP + 6] = f[ETH + IP + 7] = 0;
    assert_int_equal(nc_nat_outbound(n, f, (uint32_t)len, 0, what, sizeof what, &c),
                     NC_NAT_NEW_MAPPING);
    assert_int_equal(f[ETH + IP + 6] | f[ETH + IP + 7], 0);
    /* Short and unknown input. */
    assert_int_equal(nc_nat_outbound(n, f, 20, 0, what, sizeof what, &c), NC_NAT_PASS);
    assert_null(nc_nat_new("cone", "203.0.113.1", "192.168.1.0/24", 0));
    assert_null(nc_nat_new("symmetric", "x", "192.168.1.0/24", 0));
    nc_nat_free(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_expiry_and_table),
        cmocka_unit_test(test_passes_and_drops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
