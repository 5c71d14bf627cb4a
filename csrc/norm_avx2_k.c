/* AVX2 primitives of the normalisation family: the plain loops of norm_body.inc, which the
 * compiler vectorises with this file's flags. */
#include <math.h>
#include <string.h>

#include "norm_isa.h"

#define ST_SFX avx2
#include "norm_body.inc"
