// Queue<T>: the input overwrites a live queue's segment (layout, positions,
// cells), then the queue is opened (with the right and a wrong type) and
// pushed and popped with 1 ms deadlines.
#include "fuzz_support.hpp"

using namespace shmkit;
using namespace shmkit::fuzz;

namespace {

struct Element {
  std::uint64_t id;
  std::uint32_t check;
  char text[12];
};

template <typename T>
void use(Queue<T>& queue) {
  if (!queue.is_open()) return;
  std::error_code ec;
  // Drain and fill with try_*, then one 1 ms wait each way: an empty and a
  // full queue (or whatever the damage makes of them).
  attempt("try_pop until empty", [&] {
    for (std::size_t i = 0; i <= queue.capacity() + 1; ++i) {
      if (!queue.try_pop(ec)) break;
    }
  });
  attempt("pop_until 1 ms", [&] { (void)queue.pop_until(deadline_after(k_short), ec); });
  const T value{};
  attempt("try_push until full", [&] {
    for (std::size_t i = 0; i <= queue.capacity() + 1; ++i) {
      if (!queue.try_push(value, ec)) break;
    }
  });
  attempt("push_for 1 ms", [&] { (void)queue.push_for(value, k_short); });
  attempt("try_pop", [&] { (void)queue.try_pop(); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Input input(data, size);
  // mode: bits 0-2 the capacity, bits 3-6 elements pushed first.
  const std::size_t capacity = std::size_t{2} << (input.mode() & 7);
  const unsigned pushed = (input.mode() >> 3) & 15;
  const std::string name = next_name("q");
  QueueOptions options;
  static_cast<ObjectOptions&>(options) = quick_options();
  std::error_code ec;

  Queue<Element> creator;
  attempt("create", [&] { creator = Queue<Element>::create(name, capacity, options, ec); });
  if (creator.is_open()) {
    attempt("fill", [&] {
      for (unsigned i = 0; i < pushed; ++i) (void)creator.try_push(Element{i, ~i, "fuzz"});
    });
    scribble(name, input, sync_state_offset());
    inspect(name, input);
    Queue<Element> second;
    attempt("open", [&] { second = Queue<Element>::open(name, options, ec); });
    use(second);
    Queue<std::uint64_t> other;
    attempt("open with another type",
            [&] { other = Queue<std::uint64_t>::open(name, options, ec); });
    use(other);
    Queue<Element> third;
    attempt("open_or_create",
            [&] { third = Queue<Element>::open_or_create(name, capacity, options); });
    use(third);
    use(creator);
    attempt("close", [&] {
      other = Queue<std::uint64_t>();
      creator = Queue<Element>();
      second = Queue<Element>();
      third = Queue<Element>();
    });
  }
  remove_all(name);
  return 0;
}
