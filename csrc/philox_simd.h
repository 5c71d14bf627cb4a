/* Philox4x32-10 (Salmon, Moraes, Dror and Shaw, SC 2011) on SIMD lanes, one counter per
 * 32-bit lane, and the dropout loop built on it; shared by the AVX-512 and AVX2 files, which
 * define first:
 *   PV                   a vector of 32-bit lanes
 *   PV_MUL_EVEN(a, b)    the 64-bit products of the even 32-bit lanes of a and b
 *   PV_SRL64 / PV_SLL64  64-bit lane shifts by an immediate
 *   PV_BLEND_ODD(a, b)   a with its odd 32-bit lanes taken from b
 *   PV_XOR, PV_ADD32, PV_SET1 (a 32-bit value in every lane), PV_LANES (0, 1, 2, ...)
 *   PV_N                 lanes per vector (16 or 8)
 *   PV_DROP(x, y, keep, i, nl, word, t24, scale)
 *                        dropout of elements i .. i+nl-1 (nl <= PV_N) by the lanes of word
 * The rounds are those of st_philox4x32_10 in eltwise.c, lane by lane. */
#ifndef STRIATE_PHILOX_SIMD_H
#define STRIATE_PHILOX_SIMD_H

/* hi and lo 32 bits of a * m, lane by lane */
static inline void philox_mulhilo(PV a, PV m, PV *hi, PV *lo) {
    const PV ev = PV_MUL_EVEN(a, m), od = PV_MUL_EVEN(PV_SRL64(a, 32), m);
    *lo = PV_BLEND_ODD(ev, PV_SLL64(od, 32));
    *hi = PV_BLEND_ODD(PV_SRL64(ev, 32), od);
}

/* c: the four counter words of each lane in, the four output words out */
static inline void philox4x32_10_lanes(PV c[4], uint32_t k0, uint32_t k1) {
    const PV m0 = PV_SET1(ST_PHILOX_M0), m1 = PV_SET1(ST_PHILOX_M1);
    for (int round = 0; round < 10; ++round) {
        PV hi0, lo0, hi1, lo1;
        philox_mulhilo(c[0], m0, &hi0, &lo0);
        philox_mulhilo(c[2], m1, &hi1, &lo1);
        c[0] = PV_XOR(PV_XOR(hi1, c[1]), PV_SET1(k0));
        c[1] = lo1;
        c[2] = PV_XOR(PV_XOR(hi0, c[3]), PV_SET1(k1));
        c[3] = lo0;
        k0 += ST_PHILOX_W0;
        k1 += ST_PHILOX_W1;
    }
}

/* The groups [g0, g1) of 64 elements (st_dropout_f32's stream): counters 16 g + l in the
 * lanes (16 / PV_N vectors), word w of counter l deciding element 64 g + 16 w + l. */
static void philox_dropout_run(const float *x, int64_t n, int64_t g0, int64_t g1,
                               uint32_t t24, float scale, uint32_t k0, uint32_t k1, float *y,
                               uint8_t *keep) {
    for (int64_t g = g0; g < g1; ++g) {
        const uint64_t first = (uint64_t)g * 16u; /* low word + l never carries: l < 16 */
        for (int h = 0; h < 16 / PV_N; ++h) {
            PV c[4] = {PV_ADD32(PV_SET1((uint32_t)first + (uint32_t)(h * PV_N)), PV_LANES),
                       PV_SET1((uint32_t)(first >> 32)), PV_SET1(0u), PV_SET1(0u)};
            philox4x32_10_lanes(c, k0, k1);
            for (int w = 0; w < 4; ++w) {
                const int64_t i = g * 64 + 16 * w + h * PV_N;
                if (i >= n) break;
                const int64_t nl = n - i < PV_N ? n - i : PV_N;
                PV_DROP(x, y, keep, i, nl, c[w], t24, scale);
            }
        }
    }
}

#endif
