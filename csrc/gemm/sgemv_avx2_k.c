/* SGEMV kernels compiled with avx2 flags (see sgemv_impl.h). */
#define GV_NAME(f) f##_avx2
#include "sgemv_impl.h"
