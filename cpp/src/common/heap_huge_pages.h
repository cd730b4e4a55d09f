#pragma once
// The process heap on transparent huge pages. Under this project's VM (PVM: the hypervisor keeps
// shadow page tables per process) a process that another one's work displaced pays a
// hypervisor exit for each 4 KB page it touches again: the one-face extract took 26-43 ms
// after each peer's call in bench/peers/run.py's loop against 7-9 back to back, with no page
// fault the guest could see; on 2 MB pages 10-20 ms (docs/BENCHMARKS.md, session 32). The system's
// setting is "madvise", so the heap is advised: every block the engine allocates comes from it
// (models/runtime.cpp: one arena, no mmap under 1 GB, no trimming).

namespace facekit {

/// Advises the heap, from its start to its current end, for huge pages (madvise
/// MADV_HUGEPAGE), once per growth: pages not yet touched are then faulted in 2 MB at a time.
/// Cheap when the heap has not grown (one comparison). Does nothing with FACEKIT_HUGE_PAGES=0.
void advise_heap_huge_pages();

/// Grows the heap by `bytes` of untouched memory and advises it, so that the blocks the engine
/// allocates next (its models' weights, its buffers) start on huge pages.
void reserve_heap_on_huge_pages(unsigned long bytes);

}  // namespace facekit
