// NamedEvent: the input overwrites a live event's segment, then the event is
// opened, listed, set, reset and waited for with 1 ms deadlines.
#include "fuzz_support.hpp"

using namespace shmkit;
using namespace shmkit::fuzz;

namespace {

void use(NamedEvent& event, bool system_clock) {
  if (!event.is_open()) return;
  attempt("try_wait", [&] { (void)event.try_wait(); });
  if (system_clock) {
    attempt("wait_until 1 ms",
            [&] { (void)event.wait_until(std::chrono::system_clock::now() + k_short); });
  } else {
    attempt("wait_for 1 ms", [&] { (void)event.wait_for(k_short); });
  }
  attempt("set", [&] { event.set(); });
  attempt("wait_for 1 ms after set", [&] { (void)event.wait_for(k_short); });
  attempt("reset", [&] { event.reset(); });
  attempt("set, wait_for, reset, error_code", [&] {
    std::error_code ec;
    event.set(ec);
    (void)event.wait_for(k_short, ec);
    event.reset(ec);
  });
  attempt("try_wait after reset", [&] { (void)event.try_wait(); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Input input(data, size);
  // mode: bit 0 manual reset, bit 1 set before the input is written.
  const EventReset reset = input.flag(0) ? EventReset::manual_reset : EventReset::auto_reset;
  const std::string name = next_name("e");
  const SyncOptions options{quick_options()};
  std::error_code ec;

  NamedEvent creator;
  attempt("create", [&] { creator = NamedEvent::create(name, reset, options, ec); });
  if (creator.is_open()) {
    if (input.flag(1)) attempt("set", [&] { creator.set(); });
    scribble(name, input, sync_state_offset());
    inspect(name, input);
    NamedEvent second;
    attempt("open", [&] { second = NamedEvent::open(name, options, ec); });
    use(second, false);
    NamedEvent third;
    attempt("open_or_create",
            [&] { third = NamedEvent::open_or_create(name, EventReset::auto_reset, options, ec); });
    use(third, true);
    use(creator, false);
    attempt("close", [&] {
      creator = NamedEvent();
      second = NamedEvent();
      third = NamedEvent();
    });
  }
  remove_all(name);
  return 0;
}
