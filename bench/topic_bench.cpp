// Topic (publish/subscribe over a zero-copy pool) against Ring, in one run
// (issue 11):
// - round trip publisher -> subscriber -> back over two topics (ping, pong),
//   zero-copy (loan, write the first and last cache line, publish; the
//   receiver reads the first and last cache line of the sample in place) for
//   64 B, 4 KiB, 64 KiB, 1 MiB and 16 MiB, against Ring, busy, copying the
//   whole message both ways (send + receive into a buffer) at the same sizes;
//   also touching the first cache line only, which prices the mechanism alone;
// - fan-out: one publisher, N = 1, 2, 4, 8 forked subscribers (sleeping while
//   they wait), the time from publish until all N have received the 64-byte
//   sample;
// - one-way throughput in samples/s: Topic zero-copy against Ring copy
//   (busy) at the same sizes.
//
// Issue 11's latency target is rtt/topic_zero_copy/64 ÷ rtt/ring_busy_copy/64
// from one run: both rows are measured the same way (one forked echo child,
// the same pinning, WaitStrategy::busy on every handle, the same warm-up,
// each iteration one round trip timed on its own, p50 per repetition); they
// differ only in the transport (at 64 B touching the first and last line is
// touching the whole sample, as Ring's copy does).
//
// The parent and its peer are pinned to different CPUs when there are two;
// the fan-out subscribers all share the second CPU. Defaults (repetitions,
// min time, interleaving) are prepended to the command line; flags given
// explicitly win.
#include "bench_process.hpp"

#include <shmkit/shmkit.hpp>

#include <benchmark/benchmark.h>

#include <sys/mman.h>
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace {

using namespace shmkit::bench;

using Clock = std::chrono::steady_clock;

constexpr std::size_t k_sizes[] = {64, 4096, 65536, std::size_t{1} << 20, std::size_t{1} << 24};
constexpr std::size_t k_cache_line = 64;
constexpr std::uint64_t k_stop = ~std::uint64_t{0};

std::string bench_name(const char* what) {
  char text[25];
  std::snprintf(text, sizeof text, "btp-%s-%d", what, static_cast<int>(::getpid()));
  return text;
}

// What the zero-copy side writes and reads of a sample: its first cache line
// (the sequence number leads it) and, with `last`, its last one.
void write_ends(std::byte* data, std::size_t size, std::uint64_t sequence, bool last = true) {
  std::memcpy(data, &sequence, sizeof sequence);
  if (last && size > k_cache_line) std::memset(data + size - k_cache_line, 0x5a, k_cache_line);
}

std::uint64_t read_ends(const std::byte* data, std::size_t size, bool last = true) {
  std::uint64_t sequence;
  std::memcpy(&sequence, data, sizeof sequence);
  if (last && size > k_cache_line) {
    std::uint64_t last[k_cache_line / 8];
    std::memcpy(last, data + size - k_cache_line, k_cache_line);
    benchmark::DoNotOptimize(last);
  }
  return sequence;
}

// Few samples for large sizes, so that two topics of 16 MiB samples stay
// within a few hundred MiB.
std::size_t pool_samples(std::size_t size) {
  const std::size_t budget = std::size_t{128} << 20;
  return std::clamp<std::size_t>(budget / size, 4, 64);
}

shmkit::TopicConfig topic_config(std::size_t size, std::size_t subscribers) {
  shmkit::TopicConfig config;
  config.sample_size = size;
  config.sample_count = pool_samples(size);
  config.max_publishers = 1;
  config.max_subscribers = subscribers;
  config.max_queue_depth = std::min<std::size_t>(config.sample_count - 2, 16);
  return config;
}

// Topic options that every handle of these benchmarks uses.
template <typename Options>
Options topic_options(shmkit::WaitStrategy strategy) {
  Options options;
  options.wait = wait_with(strategy);
  return options;
}

// Ring capacity for messages of `size`: room for a few in flight.
std::size_t ring_capacity(std::size_t size) {
  return std::max<std::size_t>(std::size_t{1} << 20, 4 * size);
}

// ---- round trip -------------------------------------------------------------
// The parent sends, the child echoes; exchange() returns the sequence number
// that came back.

// TouchLast: both sides also write and read the sample's last cache line;
// without it only the first (what the mechanism itself costs at any size).
template <bool TouchLast>
class TopicPingPong {
 public:
  explicit TopicPingPong(std::size_t size) : size_(size) {
    const auto config = topic_config(size, 1);
    ping_topic_ = shmkit::Topic::create(ping_name_, config);
    pong_topic_ = shmkit::Topic::create(pong_name_, config);
    ping_ = shmkit::Publisher::open(ping_name_, publisher_options());
    pong_ = shmkit::Subscriber::open(pong_name_, subscriber_options());
  }
  TopicPingPong(const TopicPingPong&) = delete;
  TopicPingPong& operator=(const TopicPingPong&) = delete;
  ~TopicPingPong() {
    ping_ = shmkit::Publisher();
    pong_ = shmkit::Subscriber();
    ping_topic_.close();
    pong_topic_.close();
    std::error_code ignored;
    shmkit::Topic::remove(ping_name_, {}, ignored);
    shmkit::Topic::remove(pong_name_, {}, ignored);
  }

  void echo(Control& control) {
    auto in = shmkit::Subscriber::open(ping_name_, subscriber_options());
    auto out = shmkit::Publisher::open(pong_name_, publisher_options());
    control.ready.fetch_add(1, std::memory_order_release);
    for (;;) {
      std::uint64_t sequence;
      {
        const shmkit::Sample sample = in.receive();
        sequence = read_ends(sample.data(), sample.size(), TouchLast);
      }
      if (sequence == k_stop) return;
      shmkit::Loan loan = out.loan(size_);
      write_ends(loan.data(), size_, sequence, TouchLast);
      out.publish(std::move(loan));
    }
  }
  std::uint64_t exchange(std::uint64_t sequence) {
    shmkit::Loan loan = ping_.loan(size_);
    write_ends(loan.data(), size_, sequence, TouchLast);
    ping_.publish(std::move(loan));
    const shmkit::Sample sample = pong_.receive();
    return read_ends(sample.data(), sample.size(), TouchLast);
  }
  void stop() {
    shmkit::Loan loan = ping_.loan(size_);
    write_ends(loan.data(), size_, k_stop);
    ping_.publish(std::move(loan));
  }

 private:
  static shmkit::PublisherOptions publisher_options() {
    return topic_options<shmkit::PublisherOptions>(shmkit::WaitStrategy::busy);
  }
  static shmkit::SubscriberOptions subscriber_options() {
    auto options = topic_options<shmkit::SubscriberOptions>(shmkit::WaitStrategy::busy);
    options.overflow = shmkit::OverflowPolicy::block_publisher;
    return options;
  }

  std::size_t size_;
  const std::string ping_name_ = bench_name("tp");
  const std::string pong_name_ = bench_name("tq");
  shmkit::Topic ping_topic_;
  shmkit::Topic pong_topic_;
  shmkit::Publisher ping_;
  shmkit::Subscriber pong_;
};

// Ring, busy, copying: the whole message is copied into the ring and out of
// it into a buffer, both ways.
class RingPingPong {
 public:
  explicit RingPingPong(std::size_t size) : size_(size), message_(size), buffer_(size) {
    options_.wait = wait_with(shmkit::WaitStrategy::busy);
    ping_ = shmkit::RingProducer::create(ping_name_, ring_capacity(size), options_);
    pong_ = shmkit::RingConsumer::create(pong_name_, ring_capacity(size), options_);
  }
  RingPingPong(const RingPingPong&) = delete;
  RingPingPong& operator=(const RingPingPong&) = delete;
  ~RingPingPong() {
    ping_ = shmkit::RingProducer();
    pong_ = shmkit::RingConsumer();
    std::error_code ignored;
    shmkit::RingProducer::remove(ping_name_, {}, ignored);
    shmkit::RingProducer::remove(pong_name_, {}, ignored);
  }

  void echo(Control& control) {
    auto in = shmkit::RingConsumer::open(ping_name_, options_);
    auto out = shmkit::RingProducer::open(pong_name_, options_);
    control.ready.fetch_add(1, std::memory_order_release);
    for (;;) {
      const std::size_t got = in.receive(buffer_.data(), buffer_.size());
      std::uint64_t sequence;
      std::memcpy(&sequence, buffer_.data(), sizeof sequence);
      if (sequence == k_stop) return;
      out.send(buffer_.data(), got);
    }
  }
  std::uint64_t exchange(std::uint64_t sequence) {
    std::memcpy(message_.data(), &sequence, sizeof sequence);
    ping_.send(message_.data(), size_);
    pong_.receive(buffer_.data(), buffer_.size());
    std::memcpy(&sequence, buffer_.data(), sizeof sequence);
    return sequence;
  }
  void stop() {
    std::memcpy(message_.data(), &k_stop, sizeof k_stop);
    ping_.send(message_.data(), size_);
  }

 private:
  std::size_t size_;
  std::vector<std::byte> message_;
  std::vector<std::byte> buffer_;
  shmkit::RingOptions options_;
  const std::string ping_name_ = bench_name("rp");
  const std::string pong_name_ = bench_name("rq");
  shmkit::RingProducer ping_;
  shmkit::RingConsumer pong_;
};

template <typename Transport>
void round_trip_bench(benchmark::State& state, std::size_t size) {
  PeerRun<Transport> run;
  if (!run.start(
          state,
          [&](Transport& child_transport, Control& child_control) {
            child_transport.echo(child_control);
          },
          size))
    return;
  auto& transport = run.transport;
  std::vector<std::int64_t> samples(static_cast<std::size_t>(state.max_iterations));
  std::size_t taken = 0;
  bool echoed = true;
  try {
    std::uint64_t sequence = 0;
    // Warm up: fault in every sample of the pool (or the ring) on both sides.
    const std::size_t warm = std::max<std::size_t>(16, 2 * ring_capacity(size) / size);
    for (std::size_t i = 0; i < warm; ++i) transport->exchange(++sequence);
    auto last = Clock::now();
    for (auto _ : state) {
      ++sequence;
      echoed &= transport->exchange(sequence) == sequence;
      const auto now = Clock::now();
      samples[taken++] = std::chrono::duration_cast<std::chrono::nanoseconds>(now - last).count();
      last = now;
    }
    transport->stop();
    run.peers.join();
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  report_round_trips(state, samples, taken, echoed);
}

// ---- fan-out ------------------------------------------------------------------
// One publisher, N subscriber processes sleeping in the kernel while they
// wait (WaitStrategy::blocking: there are more of them than CPUs, and
// spinning subscribers sharing a CPU would take it from each other). Each
// receives the 64-byte sample, reads it and counts it in control.acks; the
// publisher spins until all N have.

void fan_out_bench(benchmark::State& state, std::size_t subscribers) {
  const Pinning pinning;
  Shared<Control> control;
  const std::string name = bench_name("fo");
  const auto wait = shmkit::WaitStrategy::blocking;
  shmkit::Topic topic;
  shmkit::Publisher publisher;
  try {
    auto config = topic_config(64, subscribers);
    config.sample_count = 16;
    config.max_queue_depth = 8;
    topic = shmkit::Topic::create(name, config);
    publisher = shmkit::Publisher::open(name, topic_options<shmkit::PublisherOptions>(wait));
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  struct Cleanup {
    const std::string& name;
    ~Cleanup() {
      std::error_code ignored;
      shmkit::Topic::remove(name, {}, ignored);
    }
  } cleanup{name};
  {
    Peers peers;
    try {
      for (std::size_t i = 0; i < subscribers; ++i) {
        peers.spawn(pinning, [&] {
          auto options = topic_options<shmkit::SubscriberOptions>(wait);
          options.overflow = shmkit::OverflowPolicy::block_publisher;
          auto in = shmkit::Subscriber::open(name, options);
          control->ready.fetch_add(1, std::memory_order_release);
          for (;;) {
            const shmkit::Sample sample = in.receive();
            const std::uint64_t sequence = read_ends(sample.data(), sample.size());
            control->acks.fetch_add(1, std::memory_order_acq_rel);
            if (sequence == k_stop) return;
          }
        });
      }
    } catch (const std::exception& e) {
      state.SkipWithError(e.what());
      return;
    }
    if (!peers.wait_ready(*control, static_cast<std::uint32_t>(subscribers))) {
      state.SkipWithError("a subscriber process failed to open");
      return;
    }
    std::uint64_t sequence = 0;
    std::uint64_t expected = 0;
    auto publish_and_wait = [&](std::uint64_t value) {
      shmkit::Loan loan = publisher.loan(64);
      write_ends(loan.data(), 64, value);
      publisher.publish(std::move(loan));
      expected += subscribers;
      while (control->acks.load(std::memory_order_acquire) < expected) relax();
    };
    try {
      for (int i = 0; i < 100; ++i) publish_and_wait(++sequence);
      for (auto _ : state) publish_and_wait(++sequence);
      publish_and_wait(k_stop);
      peers.join();
    } catch (const std::exception& e) {
      state.SkipWithError(e.what());
      return;
    }
  }
  publisher = shmkit::Publisher();
  topic.close();
  state.counters["subscribers"] = static_cast<double>(subscribers);
  state.SetItemsProcessed(state.iterations());
}

// ---- one-way throughput -------------------------------------------------------
// The parent produces, the child consumes; a sample or message whose sequence
// is k_stop ends the child, which counts it in control.acks.

class TopicStream {
 public:
  explicit TopicStream(std::size_t size) : size_(size) {
    topic_ = shmkit::Topic::create(name_, topic_config(size, 1));
    publisher_ = shmkit::Publisher::open(
        name_, topic_options<shmkit::PublisherOptions>(shmkit::WaitStrategy::busy));
  }
  TopicStream(const TopicStream&) = delete;
  TopicStream& operator=(const TopicStream&) = delete;
  ~TopicStream() {
    publisher_ = shmkit::Publisher();
    topic_.close();
    std::error_code ignored;
    shmkit::Topic::remove(name_, {}, ignored);
  }
  void send(std::uint64_t sequence) {
    shmkit::Loan loan = publisher_.loan(size_);
    write_ends(loan.data(), size_, sequence);
    publisher_.publish(std::move(loan));
  }
  void consume(Control& control) {
    auto options = topic_options<shmkit::SubscriberOptions>(shmkit::WaitStrategy::busy);
    options.overflow = shmkit::OverflowPolicy::block_publisher;
    auto in = shmkit::Subscriber::open(name_, options);
    control.ready.fetch_add(1, std::memory_order_release);
    for (;;) {
      const shmkit::Sample sample = in.receive();
      if (read_ends(sample.data(), sample.size()) == k_stop) {
        control.acks.fetch_add(1, std::memory_order_acq_rel);
        return;
      }
    }
  }

 private:
  std::size_t size_;
  const std::string name_ = bench_name("ts");
  shmkit::Topic topic_;
  shmkit::Publisher publisher_;
};

class RingStream {
 public:
  explicit RingStream(std::size_t size) : size_(size), message_(size), buffer_(size) {
    options_.wait = wait_with(shmkit::WaitStrategy::busy);
    ring_ = shmkit::RingProducer::create(name_, ring_capacity(size), options_);
  }
  RingStream(const RingStream&) = delete;
  RingStream& operator=(const RingStream&) = delete;
  ~RingStream() {
    ring_ = shmkit::RingProducer();
    std::error_code ignored;
    shmkit::RingProducer::remove(name_, {}, ignored);
  }
  void send(std::uint64_t sequence) {
    std::memcpy(message_.data(), &sequence, sizeof sequence);
    ring_.send(message_.data(), size_);
  }
  void consume(Control& control) {
    auto in = shmkit::RingConsumer::open(name_, options_);
    control.ready.fetch_add(1, std::memory_order_release);
    for (;;) {
      in.receive(buffer_.data(), buffer_.size());
      std::uint64_t sequence;
      std::memcpy(&sequence, buffer_.data(), sizeof sequence);
      if (sequence == k_stop) {
        control.acks.fetch_add(1, std::memory_order_acq_rel);
        return;
      }
    }
  }

 private:
  std::size_t size_;
  std::vector<std::byte> message_;
  std::vector<std::byte> buffer_;
  shmkit::RingOptions options_;
  const std::string name_ = bench_name("rs");
  shmkit::RingProducer ring_;
};

template <typename Stream>
void throughput_bench(benchmark::State& state, std::size_t size) {
  PeerRun<Stream> run;
  if (!run.start(
          state,
          [&](Stream& child_stream, Control& child_control) {
            child_stream.consume(child_control);
          },
          size))
    return;
  auto& control = run.control;
  auto& stream = run.transport;
  try {
    std::uint64_t sequence = 0;
    // Fault in the pool (or the ring) before the clock starts.
    const std::size_t warm = std::max<std::size_t>(16, 2 * ring_capacity(size) / size);
    for (std::size_t i = 0; i < warm; ++i) stream->send(++sequence);
    const auto start = Clock::now();
    for (auto _ : state) stream->send(++sequence);
    stream->send(k_stop);
    while (control->acks.load(std::memory_order_acquire) == 0) relax();
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - start).count());
    run.peers.join();
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(size));
  state.SetItemsProcessed(state.iterations());
}

// ---- registration -------------------------------------------------------------

void register_all() {
  // Size-major, so that what is compared runs close together in time.
  for (const std::size_t size : k_sizes) {
    const std::string n = std::to_string(size);
    benchmark::RegisterBenchmark(
        ("rtt/topic_zero_copy/" + n).c_str(),
        [size](benchmark::State& s) { round_trip_bench<TopicPingPong<true>>(s, size); })
        ->UseRealTime()
        ->Unit(benchmark::kNanosecond);
    benchmark::RegisterBenchmark(
        ("rtt/topic_first_line/" + n).c_str(),
        [size](benchmark::State& s) { round_trip_bench<TopicPingPong<false>>(s, size); })
        ->UseRealTime()
        ->Unit(benchmark::kNanosecond);
    benchmark::RegisterBenchmark(
        ("rtt/ring_busy_copy/" + n).c_str(),
        [size](benchmark::State& s) { round_trip_bench<RingPingPong>(s, size); })
        ->UseRealTime()
        ->Unit(benchmark::kNanosecond);
  }
  for (const std::size_t n : {std::size_t{1}, std::size_t{2}, std::size_t{4}, std::size_t{8}}) {
    benchmark::RegisterBenchmark(("fanout/topic/" + std::to_string(n)).c_str(),
                                 [n](benchmark::State& s) { fan_out_bench(s, n); })
        ->UseRealTime()
        ->Unit(benchmark::kNanosecond);
  }
  for (const std::size_t size : k_sizes) {
    const std::string n = std::to_string(size);
    benchmark::RegisterBenchmark(
        ("throughput/topic_zero_copy/" + n).c_str(),
        [size](benchmark::State& s) { throughput_bench<TopicStream>(s, size); })
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(
        ("throughput/ring_copy_busy/" + n).c_str(),
        [size](benchmark::State& s) { throughput_bench<RingStream>(s, size); })
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Fewer repetitions than bench_messaging: run_suite says why there are many.
  static char repetitions[] = "--benchmark_repetitions=5";
  return shmkit::bench::run_suite(argc, argv, repetitions, "children", register_all);
}
