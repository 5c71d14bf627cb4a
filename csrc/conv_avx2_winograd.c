/* Winograd F(4x4, 3x3) tile transforms compiled with avx2 flags (see conv_winograd_impl.h). */
#define WG_NAME(f) f##_avx2
#include "conv_winograd_impl.h"
