#ifndef STRATA_NATIVE_H
#define STRATA_NATIVE_H

#include <stddef.h>
#include <stdint.h>

/// 1 when the CPU has the SSE 4.2 CRC32 instruction, else 0.
int strata_crc32c_hardware_available(void);

/// CRC-32C update over `length` bytes with the CPU instruction; `crc` is the running value
/// (already inverted by the caller). Only call when strata_crc32c_hardware_available() is 1.
uint32_t strata_crc32c_hardware(uint32_t crc, const void *data, size_t length);

/// Keeps allocations up to `mmap_threshold` bytes in the heap and trims it only beyond
/// `trim_threshold` (glibc mallopt); no-op elsewhere.
void strata_tune_malloc(int mmap_threshold, int trim_threshold);

/// Returns the heap's free pages to the kernel, in every arena (glibc malloc_trim(0)): glibc
/// only gives back the top of a heap, so memory freed in its middle stays in the process.
/// 1 when memory was released, 0 otherwise or elsewhere.
int strata_release_free_memory(void);

#endif
