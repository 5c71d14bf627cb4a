/* Row driver of the SIMD max-pool kernels, written once and included by pool_avx512_k.c and
 * pool_avx2_k.c: output rows outer (the input is read in order), blocks of VL output columns
 * inner; the first and last blocks, which may hang over the border, get their masks built
 * once per call.
 *
 * The includer defines VL, the block type max_block (with a field `checked`) and
 * max_block_init(b, g, xp, ow, n, checked), max_row_clean(b, g, xp, ih0, ki0, ki1, y, idx),
 * max_row_checked(...) of the same arguments, and
 *   MAXROWS_NAME        the function's name
 *   MAXROWS_GENERIC(g)  true where the generic kernel must run instead
 *   MAXROWS_SHIFT_LAST  1: a partial last block inside the border moves left to end at Wo
 *                       (its first columns are computed twice, alike), so the row needs no
 *                       masked loads and buffered stores; 0: it stays partial */
#include <math.h>

void MAXROWS_NAME(ST_MAXROWS_ARGS) {
    const int64_t Wo = g->Wo;
    if (MAXROWS_GENERIC(g)) {
        st_maxpool_rows_generic(g, xp, oh0, oh1, lo, hi, yp, ip);
        return;
    }
    const int64_t nb = (Wo + VL - 1) / VL;
    max_block edge[2], mid;
    for (int e = 0; e < 2 && e < nb; ++e) {
        int64_t ow = e == 0 ? 0 : (nb - 1) * VL;
        int64_t n = Wo - ow < VL ? Wo - ow : VL;
        if (MAXROWS_SHIFT_LAST && e == 1 && n < VL && Wo - VL >= lo && Wo <= hi) {
            ow = Wo - VL;
            n = VL;
        }
        max_block_init(&edge[e], g, xp, ow, n, !(ow >= lo && ow + n <= hi));
    }
    for (int64_t oh = oh0; oh < oh1; ++oh) {
        const int64_t ih0 = oh * g->sh - g->ph;
        int ki0, ki1;
        st_pool_row_taps(g, ih0, g->dh, &ki0, &ki1);
        if (ki0 >= ki1) { /* no window row inside the input (dilation only) */
            for (int64_t j = 0; j < Wo; ++j) {
                yp[oh * Wo + j] = -INFINITY;
                ip[oh * Wo + j] = -1;
            }
            continue;
        }
        for (int64_t j = 0; j < nb; ++j) {
            const max_block *b;
            if (j == 0) {
                b = &edge[0];
            } else if (j == nb - 1) {
                b = &edge[1];
            } else {
                const int64_t ow = j * VL;
                max_block_init(&mid, g, xp, ow, VL, !(ow >= lo && ow + VL <= hi));
                b = &mid;
            }
            if (b->checked)
                max_row_checked(b, g, xp, ih0, ki0, ki1, yp + oh * Wo, ip + oh * Wo);
            else
                max_row_clean(b, g, xp, ih0, ki0, ki1, yp + oh * Wo, ip + oh * Wo);
        }
    }
}

#undef MAXROWS_NAME
#undef MAXROWS_GENERIC
#undef MAXROWS_SHIFT_LAST
