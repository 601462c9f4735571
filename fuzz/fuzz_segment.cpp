// NamedSharedMemory: the input overwrites a live segment's header (and the
// data after it), then the segment is opened, listed and used again.
#include "fuzz_support.hpp"

#include "segment/segment_header.hpp"

#include <cstring>

using namespace shmkit;
using namespace shmkit::fuzz;

namespace {

// Reads every byte size() promises, and writes the last one: a size() larger
// than the mapping faults here.
void touch(const NamedSharedMemory& shm) {
  const auto* bytes = static_cast<const volatile unsigned char*>(shm.data());
  unsigned sum = 0;
  for (std::size_t i = 0; i < shm.size(); ++i) sum += bytes[i];
  if (shm.access() == Access::read_write && shm.size() > 0) {
    static_cast<volatile unsigned char*>(shm.data())[shm.size() - 1] =
        static_cast<unsigned char>(sum);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Input input(data, size);
  // mode: bit 0 the backend, bit 1 reopen with another size, bit 2 map read-only too,
  // bits 3-7 the size.
  const Backend backend = input.flag(0) ? Backend::sysv : Backend::posix;
  const std::size_t length = 1 + static_cast<std::size_t>(input.mode() >> 3) * 131;
  const std::string name = next_name("s");
  const SegmentOptions options = quick_options(backend);
  std::error_code ec;

  NamedSharedMemory creator;
  attempt("create", [&] { creator = NamedSharedMemory::create(name, length, options, ec); });
  if (creator) {
    std::memset(creator.data(), 0xa5, creator.size());
    scribble(name, input, detail::k_header_size, backend);
    inspect(name, input, backend);
    attempt("open", [&] {
      auto again = NamedSharedMemory::open(name, options, ec);
      if (!again) return;
      touch(again);
      again.attached_processes();
    });
    attempt("open_or_create", [&] {
      const std::size_t asked = input.flag(1) ? length + 1 : length;
      auto again = NamedSharedMemory::open_or_create(name, asked, options, ec);
      if (again) touch(again);
    });
    if (input.flag(2)) {
      attempt("open read-only", [&] {
        SegmentOptions read_only = options;
        read_only.access = Access::read_only;
        auto again = NamedSharedMemory::open(name, read_only, ec);
        if (again) touch(again);
      });
    }
    attempt("creator's attached_processes", [&] { creator.attached_processes(); });
    touch(creator);
    attempt("close", [&] { creator.close(); });
  }
  remove_all(name, backend);
  return 0;
}
