/* SGEMV kernels compiled with avx512 flags (see sgemv_impl.h). */
#define GV_NAME(f) f##_avx512
#include "sgemv_impl.h"
