// Topic: the input overwrites a live topic's control segment (config copy,
// lock, slots, queues, history, holders) or, for one input in two, its
// sample pool's preamble and sample headers; then a publisher and a
// subscriber use it (loan, publish, receive), subscribers attach and detach,
// a new publisher attaches, and the topic is inspected. Every call must give a
// clean error or succeed, with 1 ms deadlines.
#include "fuzz_support.hpp"

#include "messaging/topic_layout.hpp"
#include "segment/segment_header.hpp"

#include <shmkit/topic_status.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

using namespace shmkit;
using namespace shmkit::fuzz;

namespace {

template <typename To>
To topic_options(const ObjectOptions& from, const WaitOptions& wait) {
  To options;
  static_cast<ObjectOptions&>(options) = from;
  options.wait = wait;
  return options;
}

// Whatever the topic's memory holds, a sample handed out must fit the topic
// and every byte of it must be readable.
void check_sample(const Subscriber& subscriber, const Sample& sample) {
  if (!sample) return;
  if (sample.size() > subscriber.max_sample_size()) {
    std::fprintf(stderr, "fuzz: subscriber handed out a sample of %zu bytes; its largest is %zu\n",
                 sample.size(), subscriber.max_sample_size());
    std::abort();
  }
  unsigned sum = 0;
  for (std::size_t i = 0; i < sample.size(); ++i) sum += static_cast<unsigned>(sample.data()[i]);
  volatile unsigned sink = sum;
  (void)sink;
  volatile std::uint64_t sequence = sample.sequence();  // any value, never a fault
  (void)sequence;
}

void use(Publisher& publisher, std::uint8_t mode) {
  if (!publisher.is_open()) return;
  std::error_code ec;
  const std::size_t small = 1 + mode % 40;
  attempt("try_loan and drop", [&] { (void)publisher.try_loan(small, ec); });
  attempt("loan_for and publish_for", [&] {
    Loan loan = publisher.loan_for(small, k_short, ec);
    if (!loan) return;
    std::memset(loan.data(), 0x5a, loan.size());
    (void)publisher.publish_for(loan, k_short, ec);
  });
  attempt("loan too large", [&] { (void)publisher.try_loan(publisher.max_sample_size() + 1, ec); });
  attempt("try_loan, resize and try_publish", [&] {
    Loan loan = publisher.try_loan(publisher.max_sample_size(), ec);
    if (!loan) return;
    loan.resize(loan.size() / 2, ec);
    (void)publisher.try_publish(loan, ec);
  });
  attempt("publish_until", [&] {
    Loan loan = publisher.loan_until(small, deadline_after(k_short), ec);
    if (loan) (void)publisher.publish_until(loan, deadline_after(k_short), ec);
  });
  attempt("state", [&] {
    volatile std::size_t n = publisher.subscriber_count();
    volatile std::uint32_t g = publisher.generation();
    (void)n;
    (void)g;
  });
}

void use(Subscriber& subscriber) {
  if (!subscriber.is_open()) return;
  std::error_code ec;
  attempt("try_receive", [&] {
    const Sample sample = subscriber.try_receive(ec);
    check_sample(subscriber, sample);
  });
  attempt("receive_for 1 ms", [&] {
    const Sample sample = subscriber.receive_for(k_short, ec);
    check_sample(subscriber, sample);
  });
  attempt("receive_until, two held", [&] {
    const Sample first = subscriber.receive_until(deadline_after(k_short), ec);
    const Sample second = subscriber.try_receive(ec);
    check_sample(subscriber, first);
    check_sample(subscriber, second);
  });
  attempt("state", [&] {
    volatile std::uint64_t d = subscriber.dropped();
    volatile std::size_t q = subscriber.queue_depth();
    (void)d;
    (void)q;
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Input input(data, size);
  // mode: bit 0 the subscriber blocks the publisher, bit 1 late subscribers
  // ask for history, bit 2 busy waiting, bit 3 scribble the pool instead of
  // the control segment, bits 4-6 samples published first, bit 7 the
  // subscriber holds one received sample through the scribble.
  const bool block = input.flag(0);
  const bool history = input.flag(1);
  WaitOptions wait;
  if (input.flag(2)) wait.strategy = WaitStrategy::busy;
  const bool pool = input.flag(3);
  const int published = (input.mode() >> 4) & 7;
  const std::string name = next_name("t");
  const auto options = topic_options<TopicOptions>(quick_options(), wait);
  const auto publisher_options = topic_options<PublisherOptions>(quick_options(), wait);
  auto subscriber_options = topic_options<SubscriberOptions>(quick_options(), wait);
  subscriber_options.queue_depth = 3;
  subscriber_options.overflow =
      block ? OverflowPolicy::block_publisher : OverflowPolicy::drop_oldest;
  TopicConfig config;
  config.sample_size = 64 + input.mode() % 61;
  config.sample_count = 6;
  config.max_publishers = 2;
  config.max_subscribers = 3;
  config.max_queue_depth = 4;
  config.history = 2;
  std::error_code ec;

  Topic topic;
  attempt("create", [&] { topic = Topic::create(name, config, options, ec); });
  if (topic.is_open()) {
    Publisher publisher;
    Subscriber subscriber;
    attempt("open", [&] {
      publisher = Publisher::open(name, publisher_options, ec);
      subscriber = Subscriber::open(name, subscriber_options, ec);
    });
    Sample held;
    if (publisher.is_open() && subscriber.is_open()) {
      attempt("fill", [&] {
        const unsigned char bytes[32] = {0x11};
        for (int i = 0; i < published; ++i) {
          Loan loan = publisher.try_loan(8 + 3 * static_cast<std::size_t>(i), ec);
          if (!loan) break;
          std::memcpy(loan.data(), bytes, loan.size());
          (void)publisher.try_publish(loan, ec);
        }
        if (input.flag(7)) held = subscriber.try_receive(ec);
      });
    }
    if (pool) {
      scribble(name + detail::k_topic_pool_suffix, input, detail::k_header_size);
    } else {
      scribble(name, input, sync_state_offset());
    }
    inspect(name, input);
    attempt("inspect_topic", [&] { (void)inspect_topic(name, quick_options(), ec); });
    attempt("topic state", [&] {
      volatile std::size_t f = topic.free_samples();
      volatile std::size_t p = topic.publisher_count();
      volatile std::size_t s = topic.subscriber_count();
      (void)f;
      (void)p;
      (void)s;
    });
    use(publisher, input.mode());
    use(subscriber);
    check_sample(subscriber, held);
    // Attach: a late subscriber (history) and a second publisher; open the
    // topic again as a new process would.
    Subscriber late;
    attempt("attach a late subscriber", [&] {
      auto late_options = subscriber_options;
      late_options.history = history ? 2 : 0;
      late = Subscriber::open(name, late_options, ec);
    });
    use(late);
    Publisher second;
    attempt("attach a second publisher",
            [&] { second = Publisher::open(name, publisher_options, ec); });
    use(second, input.mode());
    use(late);
    attempt("open the topic", [&] {
      Topic again = Topic::open(name, options, ec);
      volatile std::size_t f = again.free_samples();
      (void)f;
    });
    // Detach: the subscriber with what it holds, then the first publisher;
    // the others go on.
    attempt("detach", [&] {
      held = Sample();
      subscriber.close();
      publisher.close();
    });
    use(second, input.mode());
    use(late);
    attempt("close all", [&] {
      late = Subscriber();
      second = Publisher();
      topic.close();
    });
  }
  remove_all(name);
  return 0;
}
