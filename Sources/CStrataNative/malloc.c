#include "strata_native.h"

#if defined(__GLIBC__)
#include <malloc.h>
void strata_tune_malloc(int mmap_threshold, int trim_threshold) {
    mallopt(M_MMAP_THRESHOLD, mmap_threshold);
    mallopt(M_TRIM_THRESHOLD, trim_threshold);
}

int strata_release_free_memory(void) {
    return malloc_trim(0);
}
#else
void strata_tune_malloc(int mmap_threshold, int trim_threshold) {
    (void)mmap_threshold;
    (void)trim_threshold;
}

int strata_release_free_memory(void) {
    return 0;
}
#endif
