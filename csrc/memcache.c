/* A caching allocator for large array buffers (see striate/runtime.h, st_mc_*).
 *
 * glibc hands freed multi-MB blocks back to the operating system (mmap'd blocks always, heap
 * tops past the trim threshold), so a training step that allocates its activations afresh
 * pays a page fault and a page clear per 4 KiB on every step.  Blocks of at least
 * ST_MC_MIN_BYTES are therefore kept, when freed, in free lists by size class (eight classes
 * per power of two, so at most 1/8 of a block is slack) and handed out again; the total kept
 * is bounded by a limit, and st_mc_empty() frees them all.  Smaller requests go to malloc.
 * Every block carries a header in front of the data (its class, capacity and requested
 * size), so free and realloc need no outside bookkeeping.  Large blocks are 64-byte aligned.
 * Thread-safe (a spin lock around the free lists; a critical section is a few loads). */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/mman.h>

#include "striate/runtime.h"

#define MC_HDR_LARGE 64 /* keeps the data 64-byte aligned */
#define MC_HDR_SMALL 16 /* keeps malloc's 16-byte alignment */
#define MC_MAGIC_LARGE 0x5354524941544531ull
#define MC_MAGIC_SMALL 0x5354524941544530ull
#define MC_CLASSES (64 * 8)
#define ST_MC_MAX_BYTES ((size_t)1 << 60) /* larger requests fail (NULL), as malloc's would */

/* A small block's header is only its first two fields (magic, cap = requested bytes); the
 * other two exist in large blocks' 64-byte headers only. */
typedef struct mc_hdr {
    uint64_t magic;
    size_t cap;           /* usable bytes */
    size_t size;          /* requested bytes (large blocks) */
    struct mc_hdr *next;  /* free-list link while cached (large blocks) */
} mc_hdr;

static mc_hdr *g_free[MC_CLASSES];
static size_t g_cached = 0, g_limit = 0;
static int g_limit_known = 0; /* the default limit is read on first use */
static uint64_t g_hits = 0, g_misses = 0;
static atomic_flag g_lock = ATOMIC_FLAG_INIT;

/* a child forked while another thread held the lock must not wait for it forever */
static void after_fork_child(void) { atomic_flag_clear_explicit(&g_lock, memory_order_release); }

static void lock(void) {
    while (atomic_flag_test_and_set_explicit(&g_lock, memory_order_acquire)) {
    }
    if (!g_limit_known) { /* first use: the default limit, a quarter of the physical memory */
        pthread_atfork(NULL, NULL, after_fork_child);
        long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
        g_limit = pages > 0 && page > 0 ? (size_t)pages * (size_t)page / 4
                                        : ST_MC_FALLBACK_LIMIT;
        g_limit_known = 1;
    }
}
static void unlock(void) { atomic_flag_clear_explicit(&g_lock, memory_order_release); }

/* size class of n >= ST_MC_MIN_BYTES: n rounded up to an eighth of its power of two */
static int mc_class(size_t n, size_t *cap) {
    int k = 63 - __builtin_clzll((unsigned long long)(n - 1)); /* 2^k < n <= 2^(k+1) */
    const size_t step = (size_t)1 << (k - 3); /* n >= ST_MC_MIN_BYTES, so k >= 3 */
    const size_t base = (size_t)1 << k;
    size_t s = (n - base + step - 1) / step; /* 1..8 */
    if (s < 1) s = 1;
    *cap = base + s * step;
    return k * 8 + (int)(s - 1);
}

void *st_alloc_aligned(size_t bytes) {
    void *p = NULL;
    const int huge = bytes >= ST_HUGE_BYTES;
    if (posix_memalign(&p, huge ? (size_t)2 << 20 : 64, bytes) != 0) return NULL;
#ifdef MADV_HUGEPAGE
    if (huge) madvise(p, bytes & ~(size_t)4095, MADV_HUGEPAGE); /* advice only: may fail */
#endif
    return p;
}

static void *large_new(size_t cap) {
    void *raw = st_alloc_aligned(cap + MC_HDR_LARGE);
    if (!raw) {
        st_mc_empty(); /* give the cached blocks back and try once more */
        raw = st_alloc_aligned(cap + MC_HDR_LARGE);
    }
    return raw;
}

void *st_mc_malloc(size_t n) {
    if (n < ST_MC_MIN_BYTES) {
        mc_hdr *h = (mc_hdr *)malloc(n + MC_HDR_SMALL);
        if (!h) return NULL;
        h->magic = MC_MAGIC_SMALL;
        h->cap = n;
        return (char *)h + MC_HDR_SMALL;
    }
    if (n > ST_MC_MAX_BYTES) return NULL; /* its size class would overflow size_t */
    size_t cap;
    const int c = mc_class(n, &cap);
    mc_hdr *h = NULL;
    lock();
    if (g_free[c]) {
        h = g_free[c];
        g_free[c] = h->next;
        g_cached -= cap;
        ++g_hits;
    } else {
        ++g_misses;
    }
    unlock();
    if (!h) {
        h = (mc_hdr *)large_new(cap);
        if (!h) return NULL;
        h->magic = MC_MAGIC_LARGE;
        h->cap = cap;
    }
    h->size = n;
    h->next = NULL;
    /* the tag just before the data says "large" (a small block's header sits there) */
    *(uint64_t *)((char *)h + MC_HDR_LARGE - MC_HDR_SMALL) = MC_MAGIC_LARGE;
    return (char *)h + MC_HDR_LARGE;
}

static mc_hdr *header(void *p) {
    mc_hdr *h = (mc_hdr *)((char *)p - MC_HDR_SMALL);
    return h->magic == MC_MAGIC_SMALL ? h : (mc_hdr *)((char *)p - MC_HDR_LARGE);
}

void st_mc_free(void *p) {
    if (!p) return;
    mc_hdr *h = header(p);
    if (h->magic == MC_MAGIC_SMALL) {
        free(h);
        return;
    }
    size_t cap;
    const int c = mc_class(h->cap, &cap);
    int keep = 0;
    lock();
    if (g_cached + h->cap <= g_limit) {
        h->next = g_free[c];
        g_free[c] = h;
        g_cached += h->cap;
        keep = 1;
    }
    unlock();
    if (!keep) free(h);
}

void *st_mc_calloc(size_t count, size_t elsize) {
    if (elsize && count > SIZE_MAX / elsize) return NULL;
    const size_t n = count * elsize;
    if (n < ST_MC_MIN_BYTES) {
        mc_hdr *h = (mc_hdr *)calloc(1, n + MC_HDR_SMALL);
        if (!h) return NULL;
        h->magic = MC_MAGIC_SMALL;
        h->cap = n;
        return (char *)h + MC_HDR_SMALL;
    }
    void *p = st_mc_malloc(n);
    if (p) memset(p, 0, n);
    return p;
}

void *st_mc_realloc(void *p, size_t n) {
    if (!p) return st_mc_malloc(n);
    mc_hdr *h = header(p);
    if (h->magic == MC_MAGIC_LARGE && n <= h->cap && n >= ST_MC_MIN_BYTES) {
        h->size = n;
        return p;
    }
    void *q = st_mc_malloc(n);
    if (!q) return NULL;
    const size_t old = h->magic == MC_MAGIC_SMALL ? h->cap : h->size;
    memcpy(q, p, old < n ? old : n);
    st_mc_free(p);
    return q;
}

void st_mc_empty(void) {
    mc_hdr *lists[MC_CLASSES];
    lock();
    memcpy(lists, g_free, sizeof(lists));
    memset(g_free, 0, sizeof(g_free));
    g_cached = 0;
    unlock();
    for (int c = 0; c < MC_CLASSES; ++c)
        for (mc_hdr *h = lists[c]; h;) {
            mc_hdr *next = h->next;
            free(h);
            h = next;
        }
}

size_t st_mc_set_limit(size_t bytes) {
    lock();
    const size_t old = g_limit;
    g_limit = bytes;
    const int over = g_cached > g_limit;
    unlock();
    if (over) st_mc_empty();
    return old;
}

void st_mc_stats(size_t *cached, size_t *limit, uint64_t *hits, uint64_t *misses) {
    lock();
    *cached = g_cached;
    *limit = g_limit;
    *hits = g_hits;
    *misses = g_misses;
    unlock();
}
