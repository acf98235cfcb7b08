// Counts heap allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign) in a
// process it is preloaded into, and writes the total to $MALLOC_COUNT_FILE when the process exits.
// Used by tools/bench/allocs.sh (valgrind cannot load this toolchain's binaries).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

static atomic_ulong allocations;
static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);

// dlsym itself may call calloc before real_calloc is known: serve that from a static buffer.
static char bootstrap[4096];
static size_t bootstrap_used;
static int resolving;

static void resolve(void) {
    if (real_malloc || resolving) return;
    resolving = 1;
    real_calloc = dlsym(RTLD_NEXT, "calloc");
    real_malloc = dlsym(RTLD_NEXT, "malloc");
    real_realloc = dlsym(RTLD_NEXT, "realloc");
    real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
    real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
    real_memalign = dlsym(RTLD_NEXT, "memalign");
    resolving = 0;
}

static void count(void) { atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed); }

void *malloc(size_t size) { resolve(); count(); return real_malloc(size); }

void *calloc(size_t n, size_t size) {
    if (!real_calloc) {
        if (resolving) {
            size_t bytes = (n * size + 15) & ~(size_t)15;
            if (bootstrap_used + bytes > sizeof bootstrap) return NULL;
            void *p = bootstrap + bootstrap_used;
            bootstrap_used += bytes;
            return p;  // already zero
        }
        resolve();
    }
    count();
    return real_calloc(n, size);
}

void *realloc(void *p, size_t size) { resolve(); count(); return real_realloc(p, size); }
int posix_memalign(void **p, size_t alignment, size_t size) { resolve(); count(); return real_posix_memalign(p, alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { resolve(); count(); return real_aligned_alloc(alignment, size); }
void *memalign(size_t alignment, size_t size) { resolve(); count(); return real_memalign(alignment, size); }

void free(void *p) {
    static void (*real_free)(void *);
    if ((char *)p >= bootstrap && (char *)p < bootstrap + sizeof bootstrap) return;
    if (!real_free) real_free = dlsym(RTLD_NEXT, "free");
    real_free(p);
}

__attribute__((destructor)) static void report(void) {
    const char *path = getenv("MALLOC_COUNT_FILE");
    if (!path) return;
    FILE *file = fopen(path, "w");
    if (!file) return;
    fprintf(file, "%lu\n", (unsigned long)atomic_load(&allocations));
    fclose(file);
}
