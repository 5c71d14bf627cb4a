/* striate runtime: CPU features, ISA selection, threads and the workspace cache.
 * Pure C99; no Python headers. */
#ifndef STRIATE_RUNTIME_H
#define STRIATE_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes returned by every kernel entry point. */
#define ST_OK 0
#define ST_ENOMEM 1
#define ST_EINVAL 2

/* Instruction-set paths, oldest first. */
enum { ST_ARCH_GENERIC = 0, ST_ARCH_AVX2 = 1, ST_ARCH_AVX512 = 2, ST_ARCH_COUNT = 3 };

int st_cpu_supports(int arch);      /* 1 if this CPU (and OS) can run the path */
/* 1 on CPUs that run 512-bit operations as two 256-bit halves (AMD family 19h: Zen 4), where
 * kernels tuned for 256-bit vectors may win */
int st_cpu_avx512_split(void);
/* L1 data cache size in bytes (32 KiB when the OS does not tell) */
long st_cpu_l1d_bytes(void);
int st_arch_best(void);             /* newest supported path */
int st_arch_get(void);              /* path in use */
int st_arch_set(int arch);          /* ST_OK, or ST_EINVAL if unsupported */
const char *st_arch_name(int arch); /* "generic", "avx2", "avx512" */
int st_arch_from_name(const char *name); /* -1 if unknown */

/* Multiply-add throughput of `threads` threads on an ISA path, in GFLOP/s, measured for about
 * `seconds` by loops of independent vector FMAs (the portable path: a multiply and an add);
 * -1 for an unsupported path, threads outside [1, ST_FMA_PEAK_MAX_THREADS] or seconds <= 0. */
#define ST_FMA_PEAK_MAX_THREADS 1024
double st_fma_peak_gflops(int arch, int threads, double seconds);

int st_openmp_enabled(void);        /* built with OpenMP */
int st_get_num_threads(void);
void st_set_num_threads(int n);

/* Per-thread workspace cache.  st_workspace(slot, bytes) returns a 64-byte-aligned buffer of
 * at least `bytes` owned by the calling thread and reused across calls (it only grows); NULL
 * when out of memory.  Slots let one kernel hold several buffers at once.  The cache is
 * bounded by what the largest call needed; st_empty_cache() frees every thread's buffers and
 * must not run concurrently with a kernel. */
enum { ST_WS_PACK_A = 0, ST_WS_PACK_B = 1, ST_WS_COL = 2, ST_WS_AUX = 3, ST_WS_AUX2 = 4,
       ST_WS_SLOTS = 5 };
void *st_workspace(int slot, size_t bytes);
void st_empty_cache(void);
size_t st_cache_bytes(void);        /* bytes held by all threads' workspaces */

/* Caching allocator for large array buffers (memcache.c): blocks of at least
 * ST_MC_MIN_BYTES are kept when freed (up to a limit, in size classes with at most 1/8
 * slack) and reused, so repeated large allocations cost no page faults; smaller ones go to
 * malloc.  Python installs it as NumPy's data allocator (striate.set_array_cache). */
#define ST_MC_MIN_BYTES ((size_t)1 << 20)
/* default limit: a quarter of the physical memory (this when it cannot be read) */
#define ST_MC_FALLBACK_LIMIT ((size_t)2 << 30)
void *st_mc_malloc(size_t n);
/* posix_memalign(64) that, for blocks of at least ST_HUGE_BYTES, aligns to 2 MiB and asks for
 * transparent huge pages (as NumPy's own allocator does): one TLB entry per 2 MiB instead of
 * per 4 KiB for the multi-MB operands the kernels stream.  Free with free(); NULL when out of
 * memory. */
#define ST_HUGE_BYTES ((size_t)4 << 20)
void *st_alloc_aligned(size_t bytes);
void *st_mc_calloc(size_t count, size_t elsize);
void *st_mc_realloc(void *p, size_t n);
void st_mc_free(void *p);
void st_mc_empty(void);                 /* free every cached block */
size_t st_mc_set_limit(size_t bytes);   /* most bytes kept cached; returns the old limit */
void st_mc_stats(size_t *cached, size_t *limit, uint64_t *hits, uint64_t *misses);

#ifdef __cplusplus
}
#endif
#endif
