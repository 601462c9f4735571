// Queue<T> under kill -9: two producer and two consumer processes, any of
// them killed at any moment and restarted.
//
// Accounting across deaths:
// - a producer records `next` after every push; a restarted one skips the
//   sequence its predecessor may have been pushing and records it as
//   uncertain;
// - a consumer pops straight into a landing slot in the control segment, so
//   an element popped by a process that is killed before it could count it
//   is still found and counted by the driver;
// - a consumer killed between claiming a cell and freeing it leaves the
//   element in the cell, and a producer killed between claiming and
//   publishing leaves the queue stalled from there (both documented in
//   queue.hpp); so the soak runs in epochs: at the end of each (or as soon as
//   the queue stalls) every process is killed, the driver reads the cells
//   that still hold published elements, counts them, and starts a new queue.
// In the end every sequence below a producer's `next` must have been counted
// exactly once, except the uncertain ones.
#include "soak.hpp"

#include "segment/segment_header.hpp"
#include "sync/sync_segment.hpp"

#include <algorithm>
#include <cstring>
#include <thread>

namespace shmkit::soak {
namespace {

constexpr int k_producers = 2;
constexpr int k_consumers = 2;
constexpr std::uint64_t k_max_sequence = std::uint64_t{1} << 21;
constexpr std::size_t k_max_uncertain = 8192;
constexpr std::size_t k_queue_capacity = 64;
constexpr auto k_wait = std::chrono::milliseconds(50);
constexpr auto k_epoch = std::chrono::seconds(3);
constexpr auto k_stall = std::chrono::seconds(1);
constexpr std::uint32_t k_found_in_cell = 0xffffffffu;  // owner of elements read from the cells

struct Element {
  std::uint32_t producer;
  std::uint32_t incarnation;
  std::uint64_t sequence;
  std::uint64_t sum;
};

struct Landing {
  std::atomic<std::uint32_t> state;  // 0 idle, 1 popping into `element`, 2 popped
  std::atomic<std::uint32_t> consumer;
  Element element;
};

struct QueueControl {
  Figures figures;  // heartbeat[p]: producer p; [k_producers + c]: consumer c
  std::atomic<std::uint64_t> next[k_producers];
  std::atomic<std::uint64_t> uncertain_count[k_producers];
  std::atomic<std::uint64_t> uncertain[k_producers][k_max_uncertain];
  std::atomic<std::uint64_t> popped;         // progress, for stall detection
  std::atomic<std::uint64_t> from_landings;  // counted by the driver for a killed consumer
  std::atomic<std::uint64_t> from_cells;     // read from the cells at the end of an epoch
  Landing landing[k_consumers];
  // Who counted each element: 0 nobody, else a consumer id or k_found_in_cell.
  std::atomic<std::uint32_t> owner[k_producers][k_max_sequence];
};

std::uint64_t element_sum(std::uint32_t producer, std::uint64_t sequence) {
  const std::uint64_t key[2] = {producer, sequence};
  return checksum(key, sizeof key, 0x51);
}

bool valid(const Element& e) {
  return e.producer < k_producers && e.sequence < k_max_sequence &&
         e.sum == element_sum(e.producer, e.sequence);
}

// Counts `e` for `owner`. A second count by anyone else is a duplicate; the
// same owner counting again (a consumer that counted, then was killed before
// it could say so) is not.
void claim(QueueControl& c, const Element& e, std::uint32_t owner, bool quiet_if_taken) {
  if (!valid(e)) {
    c.figures.corrupt.fetch_add(1);
    std::fprintf(stderr, "soak: queue: a corrupt element (producer %u, sequence %llu)\n",
                 e.producer, static_cast<unsigned long long>(e.sequence));
    return;
  }
  std::uint32_t expected = 0;
  if (c.owner[e.producer][e.sequence].compare_exchange_strong(expected, owner)) {
    c.figures.checked.fetch_add(1);
    c.popped.fetch_add(1);
    return;
  }
  if (expected == owner || quiet_if_taken) return;
  c.figures.duplicated.fetch_add(1);
  std::fprintf(stderr, "soak: queue: element %u/%llu delivered twice\n", e.producer,
               static_cast<unsigned long long>(e.sequence));
}

Queue<Element> open_queue(Figures& figures, std::atomic<std::uint64_t>& heartbeat,
                          const std::string& name) {
  const auto give_up = Clock::now() + std::chrono::seconds(3);
  for (;;) {
    std::error_code ec;
    auto queue = Queue<Element>::open(name, {}, ec);
    if (ec == errc::not_found) queue = Queue<Element>::create(name, k_queue_capacity, {}, ec);
    if (!ec) return queue;
    heartbeat.fetch_add(1);
    if (Clock::now() > give_up) {
      report_error(figures, "queue", "cannot open: " + ec.message());
      std::exit(3);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// The driver's view of a dead consumer's landing slot.
void recover_landing(QueueControl& c, int consumer) {
  Landing& l = c.landing[consumer];
  const std::uint32_t state = l.state.load();
  // Popping: the element is whole if the pop's copy finished, else it is
  // still in its cell; popped: it is whole.
  if (state == 2 || (state == 1 && valid(l.element))) {
    const std::uint64_t before = c.figures.checked.load();
    claim(c, l.element, l.consumer.load(), false);
    if (c.figures.checked.load() != before) c.from_landings.fetch_add(1);
  }
  l.state.store(0);
}

// Reads every cell of a queue nobody uses any more; counts the elements that
// were published and never freed (not popped, or popped by a process that
// was killed before it freed the cell).
void count_cells(QueueControl& c, const std::string& name) {
  SegmentOptions raw;
  raw.raw = true;
  std::error_code ec;
  auto bytes = NamedSharedMemory::open(name, raw, ec);
  if (ec) return;  // never created: killed before anyone made it
  // The layout of src/messaging/queue_core.cpp: a control block after the
  // header and the sync preamble, on the next cache line, then the cells.
  const std::size_t shared_at = detail::k_header_size + 64;
  const std::size_t cells_at = shared_at + 5 * 64;
  const auto* base = static_cast<const unsigned char*>(bytes.data());
  std::uint64_t layout[3];
  if (bytes.size() < cells_at) return;
  std::memcpy(layout, base + shared_at, sizeof layout);
  const std::size_t cell_size = 8 + sizeof(Element);
  if (layout[0] != k_queue_capacity || layout[1] != cell_size || layout[2] != sizeof(Element) ||
      bytes.size() < cells_at + k_queue_capacity * cell_size) {
    report_error(c.figures, "queue driver",
                 "the queue's layout is not the one tests/soak/soak_queue.cpp reads: update it");
    return;
  }
  for (std::size_t i = 0; i < k_queue_capacity; ++i) {
    std::uint64_t sequence;
    Element e;
    std::memcpy(&sequence, base + cells_at + i * cell_size, 8);
    std::memcpy(&e, base + cells_at + i * cell_size + 8, sizeof e);
    const bool published = ((sequence - i - 1) & (k_queue_capacity - 1)) == 0;
    if (!published) continue;
    const std::uint64_t before = c.figures.checked.load();
    claim(c, e, k_found_in_cell, true);
    if (c.figures.checked.load() != before) c.from_cells.fetch_add(1);
  }
}

}  // namespace

// args: queue control producer-index incarnation
SHMKIT_SOAK_ROLE(queue_producer) {
  auto control = open_control(args.at(1));
  auto& c = *static_cast<QueueControl*>(control.data());
  const auto p = static_cast<std::uint32_t>(std::stoul(args.at(2)));
  const std::uint64_t me = incarnation(args);
  Queue<Element> queue = open_queue(c.figures, c.figures.heartbeat[p], args.at(0));
  if (me > 0) {
    const std::uint64_t skipped = c.next[p].load();
    const std::uint64_t n = c.uncertain_count[p].load();
    if (n >= k_max_uncertain) return 4;
    c.uncertain[p][n].store(skipped);
    c.uncertain_count[p].store(n + 1);
    c.next[p].store(skipped + 1);
  }
  std::uint64_t sequence = c.next[p].load();
  for (;;) {
    c.figures.heartbeat[p].fetch_add(1);
    if (sequence >= k_max_sequence) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    const Element e{p, static_cast<std::uint32_t>(me), sequence, element_sum(p, sequence)};
    std::error_code ec;
    const Deadline deadline = deadline_after(k_wait);
    const bool pushed = bounded_wait(c.figures, deadline, "push_until",
                                     [&] { return queue.push_until(e, deadline, ec); });
    if (ec) report_error(c.figures, "queue producer", ec.message());
    if (pushed) c.next[p].store(++sequence);
  }
}

// args: queue control consumer-index incarnation
SHMKIT_SOAK_ROLE(queue_consumer) {
  auto control = open_control(args.at(1));
  auto& c = *static_cast<QueueControl*>(control.data());
  const auto index = static_cast<std::uint32_t>(std::stoul(args.at(2)));
  const auto me = static_cast<std::uint32_t>(((index + 1) << 24) | (incarnation(args) + 1));
  std::atomic<std::uint64_t>& beat = c.figures.heartbeat[k_producers + index];
  Queue<Element> queue = open_queue(c.figures, beat, args.at(0));
  // Pops go straight into the landing slot in shared memory, through the
  // engine under Queue<T>::pop (which returns a copy): the driver then finds
  // every element a killed consumer had taken.
  std::error_code open_ec;
  detail::QueueCore core = detail::QueueCore::open(
      args.at(0), detail::QueueOpen::open, 0, {sizeof(Element), alignof(Element), 0}, {}, &open_ec);
  if (open_ec) {
    report_error(c.figures, "queue consumer", "cannot open: " + open_ec.message());
    return 3;
  }
  Landing& landing = c.landing[index];
  for (;;) {
    beat.fetch_add(1);
    landing.consumer.store(me);
    std::memset(&landing.element, 0, sizeof landing.element);
    landing.state.store(1);
    std::error_code ec;
    const Deadline deadline = deadline_after(k_wait);
    const bool popped = bounded_wait(c.figures, deadline, "pop_until",
                                     [&] { return core.pop(&landing.element, deadline, &ec); });
    if (ec) report_error(c.figures, "queue consumer", ec.message());
    if (!popped) {
      landing.state.store(0);
      continue;
    }
    landing.state.store(2);
    claim(c, landing.element, me, false);
    landing.state.store(0);
  }
}

SHMKIT_SOAK_SCENARIO(queue, 1) {
  Result result;
  const std::string control_name = prefix + "ctl";
  auto control = create_control(control_name, sizeof(QueueControl));
  auto& c = *static_cast<QueueControl*>(control.data());
  std::string queue_name;
  Cast cast(c.figures, result);
  for (int p = 0; p < k_producers; ++p) {
    cast.add("queue_producer", [&, p] {
      return std::vector<std::string>{queue_name, control_name, std::to_string(p)};
    });
  }
  for (int i = 0; i < k_consumers; ++i) {
    cast.add("queue_consumer", [&, i] {
      return std::vector<std::string>{queue_name, control_name, std::to_string(i)};
    });
  }

  const auto end = Clock::now() + budget.duration;
  for (int epoch = 0; Clock::now() < end && result.kills < budget.max_kills; ++epoch) {
    queue_name = prefix + "q" + std::to_string(epoch);
    cast.start_all();
    std::uint64_t seen = c.popped.load();
    auto progress_at = Clock::now();
    bool stalled = false;
    const Budget epoch_budget{
        std::min(std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()),
                 std::chrono::duration_cast<std::chrono::milliseconds>(k_epoch)),
        budget.max_kills, budget.random};
    cast.run(
        epoch_budget, {1, 1, 1, 1},
        [&] {
          const std::uint64_t now_popped = c.popped.load();
          if (now_popped != seen) {
            seen = now_popped;
            progress_at = Clock::now();
          }
          stalled = Clock::now() - progress_at > k_stall;
          return stalled;
        },
        [&](std::size_t slot) {
          if (slot >= k_producers) recover_landing(c, static_cast<int>(slot - k_producers));
        });
    if (stalled) {
      result.stalls += 1;
      if (verbose()) std::fprintf(stderr, "soak: queue %s stalled\n", queue_name.c_str());
    }
    cast.kill_all();
    for (int i = 0; i < k_consumers; ++i) recover_landing(c, i);
    count_cells(c, queue_name);
    std::error_code ec;
    Queue<Element>::remove(queue_name, {}, ec);
  }

  collect(c.figures, result);
  if (verbose()) {
    std::fprintf(stderr,
                 "soak: queue: %llu elements counted for killed consumers, %llu read from "
                 "cells\n",
                 static_cast<unsigned long long>(c.from_landings.load()),
                 static_cast<unsigned long long>(c.from_cells.load()));
  }
  // Every committed element must have been counted, except the uncertain ones.
  for (int p = 0; p < k_producers; ++p) {
    std::vector<std::uint64_t> uncertain;
    const std::uint64_t n = std::min<std::uint64_t>(c.uncertain_count[p].load(), k_max_uncertain);
    for (std::uint64_t i = 0; i < n; ++i) uncertain.push_back(c.uncertain[p][i].load());
    std::sort(uncertain.begin(), uncertain.end());
    const std::uint64_t next = std::min(c.next[p].load(), k_max_sequence);
    for (std::uint64_t s = 0; s < next; ++s) {
      if (c.owner[p][s].load() != 0 || std::binary_search(uncertain.begin(), uncertain.end(), s)) {
        continue;
      }
      if (result.lost++ < 5) {
        std::fprintf(stderr, "soak: queue: element %d/%llu was pushed and never popped\n", p,
                     static_cast<unsigned long long>(s));
      }
    }
  }
  result.left_behind = clean_and_list(prefix, control_name);
  control.close();
  NamedSharedMemory::remove(control_name);
  return result;
}

}  // namespace shmkit::soak
