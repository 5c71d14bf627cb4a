/* Direct depthwise inner loops compiled with AVX2 + FMA flags (see conv_dw_impl.h). */
#define DW_NAME(f) f##_avx2
#include "conv_dw_impl.h"
