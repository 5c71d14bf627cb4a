/* CPU feature detection, ISA selection, threads and the per-thread workspace cache. */
#include "striate/runtime.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if STRIATE_OPENMP
#include <omp.h>
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
static uint64_t xgetbv0(void) {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}
static int detect(int arch) {
    unsigned a, b, c, d;
    if (arch == ST_ARCH_GENERIC) return 1;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int osxsave = (c >> 27) & 1, fma = (c >> 12) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx) return 0;
    uint64_t xcr0 = xgetbv0();
    if ((xcr0 & 0x6) != 0x6) return 0; /* SSE + AVX state */
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    int avx2 = (b >> 5) & 1;
    if (arch == ST_ARCH_AVX2) return avx2 && fma;
    int f = (b >> 16) & 1, dq = (b >> 17) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
    if (arch == ST_ARCH_AVX512)
        return avx2 && fma && f && dq && bw && vl && ((xcr0 & 0xe6) == 0xe6);
    return 0;
}

static int detect_avx512_split(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return 0;
    /* "AuthenticAMD" in ebx, edx, ecx */
    if (b != 0x68747541u || d != 0x69746e65u || c != 0x444d4163u) return 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const unsigned family = ((a >> 8) & 0xf) + ((a >> 20) & 0xff);
    return family == 0x19;
}
#else
static int detect(int arch) { return arch == ST_ARCH_GENERIC; }
static int detect_avx512_split(void) { return 0; }
#endif

long st_cpu_l1d_bytes(void) {
    static long bytes = -1;
    if (bytes < 0) {
        long v = -1;
#ifdef _SC_LEVEL1_DCACHE_SIZE
        v = sysconf(_SC_LEVEL1_DCACHE_SIZE);
#endif
        bytes = v > 0 ? v : 32L << 10;
    }
    return bytes;
}

int st_cpu_avx512_split(void) {
    static int split = -1;
    if (split < 0) split = detect_avx512_split();
    return split;
}

static int g_arch = -1;

int st_cpu_supports(int arch) {
    if (arch < 0 || arch >= ST_ARCH_COUNT) return 0;
    return detect(arch);
}

int st_arch_best(void) {
    for (int a = ST_ARCH_COUNT - 1; a > 0; --a)
        if (detect(a)) return a;
    return ST_ARCH_GENERIC;
}

int st_arch_get(void) {
    if (g_arch < 0) g_arch = st_arch_best();
    return g_arch;
}

int st_arch_set(int arch) {
    if (!st_cpu_supports(arch)) return ST_EINVAL;
    g_arch = arch;
    return ST_OK;
}

static const char *const ARCH_NAMES[ST_ARCH_COUNT] = {"generic", "avx2", "avx512"};

const char *st_arch_name(int arch) {
    return (arch >= 0 && arch < ST_ARCH_COUNT) ? ARCH_NAMES[arch] : "unknown";
}

int st_arch_from_name(const char *name) {
    for (int a = 0; a < ST_ARCH_COUNT; ++a)
        if (strcmp(name, ARCH_NAMES[a]) == 0) return a;
    return -1;
}

int st_openmp_enabled(void) { return STRIATE_OPENMP; }

int st_get_num_threads(void) {
#if STRIATE_OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

void st_set_num_threads(int n) {
#if STRIATE_OPENMP
    if (n > 0) omp_set_num_threads(n);
#else
    (void)n;
#endif
}

/* ---- FMA peak probe --------------------------------------------------------------------- */

/* The portable form: GCC/Clang vectors of 4 floats, a multiply and an add (baseline flags have
 * no FMA), as the generic micro-kernel compiles. */
typedef float st_v4f __attribute__((vector_size(16)));
#define PK_NAME st_fma_loop_generic
#define PK_T st_v4f
#define PK_LANES 4
#define PK_SET1(x) ((st_v4f){(x), (x), (x), (x)})
#define PK_FMA(a, b, c) ((a) * (b) + (c))
#define PK_ADD(a, b) ((a) + (b))
#include "fma_peak_impl.h"

double st_fma_loop_avx2(int64_t iters);
double st_fma_loop_avx512(int64_t iters);

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

double st_fma_peak_gflops(int arch, int threads, double seconds) {
    if (!st_cpu_supports(arch) || threads < 1 || threads > ST_FMA_PEAK_MAX_THREADS ||
        !(seconds > 0.0))
        return -1.0;
    double (*loop)(int64_t) = arch == ST_ARCH_AVX512 ? st_fma_loop_avx512
                              : arch == ST_ARCH_AVX2 ? st_fma_loop_avx2
                                                     : st_fma_loop_generic;
    /* rounds per timing check: enough for about 1 ms */
    int64_t chunk = 1 << 10;
    for (;;) {
        const double t0 = now_seconds();
        loop(chunk);
        if (now_seconds() - t0 >= 1e-3 || chunk >= ((int64_t)1 << 40)) break;
        chunk *= 2;
    }
    double flops = 0.0;
    const double start = now_seconds();
#pragma omp parallel num_threads(threads) reduction(+ : flops)
    {
        do {
            flops += loop(chunk);
        } while (now_seconds() - start < seconds);
    }
    return flops / (now_seconds() - start) / 1e9;
}

/* ---- workspace cache ------------------------------------------------------------------- */

typedef struct ws_block {
    void *buf[ST_WS_SLOTS];
    size_t size[ST_WS_SLOTS];
    struct ws_block *next;
} ws_block;

static pthread_mutex_t g_ws_lock = PTHREAD_MUTEX_INITIALIZER;
static ws_block *g_ws_head = NULL;
static _Thread_local ws_block *t_ws = NULL;

void *st_workspace(int slot, size_t bytes) {
    if (slot < 0 || slot >= ST_WS_SLOTS) return NULL;
    ws_block *b = t_ws;
    if (!b) {
        b = (ws_block *)calloc(1, sizeof(ws_block));
        if (!b) return NULL;
        pthread_mutex_lock(&g_ws_lock);
        b->next = g_ws_head;
        g_ws_head = b;
        pthread_mutex_unlock(&g_ws_lock);
        t_ws = b;
    }
    if (bytes == 0) bytes = 64;
    if (b->size[slot] < bytes) {
        size_t want = (bytes + 4095) & ~(size_t)4095;
        free(b->buf[slot]);
        b->buf[slot] = NULL;
        b->size[slot] = 0;
        void *p = st_alloc_aligned(want);
        if (!p) return NULL;
        b->buf[slot] = p;
        b->size[slot] = want;
    }
    return b->buf[slot];
}

void st_empty_cache(void) {
    pthread_mutex_lock(&g_ws_lock);
    for (ws_block *b = g_ws_head; b; b = b->next)
        for (int s = 0; s < ST_WS_SLOTS; ++s) {
            free(b->buf[s]);
            b->buf[s] = NULL;
            b->size[s] = 0;
        }
    pthread_mutex_unlock(&g_ws_lock);
}

size_t st_cache_bytes(void) {
    size_t total = 0;
    pthread_mutex_lock(&g_ws_lock);
    for (ws_block *b = g_ws_head; b; b = b->next)
        for (int s = 0; s < ST_WS_SLOTS; ++s) total += b->size[s];
    pthread_mutex_unlock(&g_ws_lock);
    return total;
}
