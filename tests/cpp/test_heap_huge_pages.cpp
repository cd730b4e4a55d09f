// The heap advised for huge pages (common/heap_huge_pages.h): a block from the grown heap lies
// in a mapping whose VmFlags carry "hg" (MADV_HUGEPAGE), once advise_heap_huge_pages has run.
#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "common/heap_huge_pages.h"

namespace {

// The VmFlags of the mapping holding `address` in /proc/self/smaps ("" if none).
std::string vm_flags_of(const void* address) {
  const auto a = reinterpret_cast<uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    uintptr_t from = 0, to = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> from >> dash >> to && dash == '-' && line.find(':') > line.find(' ')) {
      inside = a >= from && a < to;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}

bool transparent_huge_pages_available() {
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return !s.empty() && s.find("[never]") == std::string::npos;
}

}  // namespace

TEST(HeapHugePages, AGrownHeapIsAdvised) {
  if (!transparent_huge_pages_available()) GTEST_SKIP() << "no transparent huge pages here";
  // The engine's malloc settings (models/runtime.cpp): big blocks from the heap, never trimmed.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  facekit::reserve_heap_on_huge_pages(64ul << 20);
  void* block = std::malloc(8ul << 20);
  ASSERT_NE(block, nullptr);
  facekit::advise_heap_huge_pages();
  const std::string flags = vm_flags_of(static_cast<char*>(block) + (4ul << 20));
  std::free(block);
  ASSERT_FALSE(flags.empty());
  EXPECT_NE(flags.find(" hg"), std::string::npos) << flags;
}
