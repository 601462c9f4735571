// NamedSemaphore: the input overwrites a live semaphore's segment, then the
// semaphore is opened, listed, posted and waited for with 1 ms deadlines.
#include "fuzz_support.hpp"

using namespace shmkit;
using namespace shmkit::fuzz;

namespace {

void use(NamedSemaphore& semaphore, bool system_clock) {
  if (!semaphore.is_open()) return;
  attempt("try_wait", [&] { (void)semaphore.try_wait(); });
  if (system_clock) {
    attempt("wait_until 1 ms",
            [&] { (void)semaphore.wait_until(std::chrono::system_clock::now() + k_short); });
  } else {
    attempt("wait_for 1 ms", [&] { (void)semaphore.wait_for(k_short); });
  }
  attempt("post", [&] { semaphore.post(); });
  attempt("post the maximum", [&] { semaphore.post(NamedSemaphore::k_max); });
  attempt("wait_for 1 ms after post", [&] { (void)semaphore.wait_for(k_short); });
  attempt("post, wait_until, error_code", [&] {
    std::error_code ec;
    semaphore.post(1, ec);
    (void)semaphore.wait_until(std::chrono::steady_clock::now() + k_short, ec);
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Input input(data, size);
  // mode: the initial count.
  const std::string name = next_name("p");
  const SyncOptions options{quick_options()};
  std::error_code ec;

  NamedSemaphore creator;
  attempt("create", [&] { creator = NamedSemaphore::create(name, input.mode(), options, ec); });
  if (creator.is_open()) {
    scribble(name, input, sync_state_offset());
    inspect(name, input);
    NamedSemaphore second;
    attempt("open", [&] { second = NamedSemaphore::open(name, options, ec); });
    use(second, false);
    NamedSemaphore third;
    attempt("open_or_create",
            [&] { third = NamedSemaphore::open_or_create(name, 1, options, ec); });
    use(third, true);
    use(creator, false);
    attempt("close", [&] {
      creator = NamedSemaphore();
      second = NamedSemaphore();
      third = NamedSemaphore();
    });
  }
  remove_all(name);
  return 0;
}
