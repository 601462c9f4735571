// Queue<T> with a struct as the message format:
//   producer_consumer produce NAME COUNT   pushes COUNT trades
//   producer_consumer consume NAME COUNT   pops COUNT trades and sums them
// Start any number of each; the queue is created by whoever comes first.
#include <shmkit/shmkit.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

// The message format, shared by every process: trivially copyable, with no
// pointers. Bump kTradeSchema when its meaning changes.
struct Trade {
  char symbol[8];
  std::int64_t quantity;
  double price;
};
constexpr std::uint64_t kTradeSchema = 1;

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: producer_consumer produce|consume NAME COUNT\n");
    return 2;
  }
  const std::string role = argv[1];
  const long count = std::stol(argv[3]);
  shmkit::QueueOptions format;
  format.schema_id = kTradeSchema;
  try {
    auto queue = shmkit::Queue<Trade>::open_or_create(argv[2], 1024, format);
    if (role == "produce") {
      for (long i = 0; i < count; ++i) {
        Trade trade{"SHMK", i + 1, 10.0 + static_cast<double>(i % 7)};
        queue.push(trade);
      }
      std::printf("producer: pushed %ld trades\n", count);
    } else {
      double notional = 0;
      for (long i = 0; i < count; ++i) {
        const auto trade = queue.pop_for(std::chrono::seconds(10));
        if (!trade) {
          std::fprintf(stderr, "consumer: no trade for 10 s\n");
          return 1;
        }
        notional += static_cast<double>(trade->quantity) * trade->price;
      }
      std::printf("consumer: popped %ld trades, notional %.2f\n", count, notional);
    }
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "producer_consumer: %s\n", e.what());
    return 1;
  }
  return 0;
}
