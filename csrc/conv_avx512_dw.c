/* Direct depthwise inner loops compiled with AVX-512 flags (see conv_dw_impl.h). */
#define DW_NAME(f) f##_avx512
#include "conv_dw_impl.h"
