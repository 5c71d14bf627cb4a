/* The 1-D Winograd F(4x4, 3x3) tile transforms on SIMD registers, one tile per lane, shared
 * by the AVX-512 and AVX2 kernels: the including file defines the vector type WV and the
 * operations WV_ADD, WV_SUB, WV_MUL, WV_FMADD (a * b + c), WV_FNMADD (c - a * b) and
 * WV_SET1 first.  The matrices are those of conv_winograd_impl.h:
 *   BT6  input   B^T (6x6)
 *   AT4  output  A^T (4x6)
 *   A6   dY      A   (6x4), the adjoint of the output transform */
#ifndef STRIATE_CONV_WINOGRAD_SIMD_H
#define STRIATE_CONV_WINOGRAD_SIMD_H

#define BT6(d0, d1, d2, d3, d4, d5, t)                                                       \
    do {                                                                                     \
        const WV s_four = WV_SET1(4.f), s_five = WV_SET1(5.f), s_two = WV_SET1(2.f);         \
        t[0] = WV_ADD(WV_FNMADD(s_five, d2, WV_MUL(s_four, d0)), d4);                        \
        t[1] = WV_FNMADD(s_four, WV_ADD(d1, d2), WV_ADD(d3, d4));                            \
        t[2] = WV_FMADD(s_four, WV_SUB(d1, d2), WV_SUB(d4, d3));                             \
        t[3] = WV_FMADD(s_two, WV_SUB(d3, d1), WV_SUB(d4, d2));                              \
        t[4] = WV_FMADD(s_two, WV_SUB(d1, d3), WV_SUB(d4, d2));                              \
        t[5] = WV_ADD(WV_FNMADD(s_five, d3, WV_MUL(s_four, d1)), d5);                        \
    } while (0)

#define AT4(m0, m1, m2, m3, m4, m5, t)                                                       \
    do {                                                                                     \
        const WV s_a = WV_ADD(m1, m2), s_b = WV_SUB(m1, m2);                                 \
        const WV s_c = WV_ADD(m3, m4), s_e = WV_SUB(m3, m4);                                 \
        t[0] = WV_ADD(WV_ADD(m0, s_a), s_c);                                                 \
        t[1] = WV_FMADD(WV_SET1(2.f), s_e, s_b);                                             \
        t[2] = WV_FMADD(WV_SET1(4.f), s_c, s_a);                                             \
        t[3] = WV_ADD(WV_FMADD(WV_SET1(8.f), s_e, s_b), m5);                                 \
    } while (0)

#define A6(o0, o1, o2, o3, t)                                                                \
    do {                                                                                     \
        const WV s_ev = WV_ADD(o0, o2), s_od = WV_ADD(o1, o3);                               \
        const WV s_ev4 = WV_FMADD(WV_SET1(4.f), o2, o0);                                     \
        const WV s_od2 = WV_FMADD(WV_SET1(8.f), o3, WV_MUL(WV_SET1(2.f), o1));               \
        t[0] = o0;                                                                           \
        t[1] = WV_ADD(s_ev, s_od);                                                           \
        t[2] = WV_SUB(s_ev, s_od);                                                           \
        t[3] = WV_ADD(s_ev4, s_od2);                                                         \
        t[4] = WV_SUB(s_ev4, s_od2);                                                         \
        t[5] = o3;                                                                           \
    } while (0)

#endif
