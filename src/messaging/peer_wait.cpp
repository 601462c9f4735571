#include "messaging/peer_wait.hpp"

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

std::atomic<std::chrono::steady_clock::rep> g_sleep_slice{
    std::chrono::steady_clock::duration(k_peer_check_interval).count()};

}  // namespace

std::chrono::steady_clock::duration sleep_slice() noexcept {
  return std::chrono::steady_clock::duration(g_sleep_slice.load(std::memory_order_relaxed));
}

void set_sleep_slice_for_testing(std::chrono::steady_clock::duration slice) noexcept {
  g_sleep_slice.store(slice.count(), std::memory_order_relaxed);
}

}  // namespace detail
SHMKIT_END_NAMESPACE
