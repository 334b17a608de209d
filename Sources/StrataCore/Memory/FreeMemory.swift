import CStrataNative

/// glibc keeps memory freed in the middle of its heaps (the records of a flushed head, a merge's
/// inputs, a large request's buffers) and returns only the top of a heap to the kernel, so the
/// collector's RSS stayed near its peak after the peak had passed (measured: 258 MiB after a
/// flush, 90 MiB after `malloc_trim`; docs/PERFORMANCE.md, "Resources (issue 11)").
public enum FreeMemory {
    /// Returns free heap pages to the kernel. It walks every arena under its lock, a few
    /// milliseconds for a heap of hundreds of MiB: call it after freeing much at once, off the
    /// request path. Returns true when memory was released.
    @discardableResult
    public static func release() -> Bool {
        strata_release_free_memory() == 1
    }

    /// Allocations of at least `mmapThreshold` bytes get their own mapping, returned to the
    /// kernel when freed; the heap's top is trimmed beyond `trimThreshold`. Setting them also
    /// stops glibc from raising the threshold to 32 MiB after the first large free, which keeps
    /// later large buffers in the heap.
    public static func tune(mmapThreshold: Int, trimThreshold: Int) {
        strata_tune_malloc(Int32(clamping: mmapThreshold), Int32(clamping: trimThreshold))
    }
}
