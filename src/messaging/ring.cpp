#include <shmkit/ring.hpp>

#include "core/error_wrappers.hpp"
#include "messaging/ring_endpoint.hpp"
#include "messaging/ring_segment.hpp"
#include "segment/segment_options.hpp"

#include <shmkit/named_shared_memory.hpp>

#include <cstring>
#include <memory>
#include <optional>
#include <utility>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

// Opens the segment of ring `name` and takes one end of it.
template <typename Impl>
Impl* open_end(std::string_view name, std::size_t capacity, const RingOptions& options,
               OpenMode mode, Failure& failure) {
  if (!check_ring_name(name, "ring", failure)) return nullptr;
  std::string name_text(name);
  auto segment = std::make_shared<RingSegment>(open_ring_segment(
      name_text, ObjectKind::ring, 1, capacity, mode, segment_options_for(options), failure));
  if (failure) return nullptr;
  auto impl =
      std::make_unique<Impl>(std::move(segment), 0, std::move(name_text), options.wait, failure);
  if (failure) return nullptr;
  return impl.release();
}

bool remove_ring(std::string_view name, const RingOptions& options, Failure& failure) {
  return check_ring_name(name, "ring", failure) &&
         remove_ring_segment(std::string(name), 1, segment_options_for(options), failure);
}

bool ring_exists(std::string_view name, const RingOptions& options, Failure& failure) {
  if (!check_ring_name(name, "ring", failure)) return false;
  return NamedSharedMemory::exists(name, segment_options_for(options), failure.code);
}

const std::string& empty_name() noexcept {
  static const std::string empty;
  return empty;
}

}  // namespace
}  // namespace detail

using detail::Failure;
using detail::OpenMode;
using detail::RingConsumerImpl;
using detail::RingProducerImpl;

// ---- RingProducer -------------------------------------------------------------

RingProducer RingProducer::create(std::string_view name, std::size_t capacity,
                                  const RingOptions& options) {
  return RingProducer(detail::throwing([&](Failure& f) {
    return detail::open_end<RingProducerImpl>(name, capacity, options, OpenMode::create, f);
  }));
}
RingProducer RingProducer::create(std::string_view name, std::size_t capacity,
                                  const RingOptions& options, std::error_code& ec) noexcept {
  return RingProducer(detail::without_throwing(ec, [&](Failure& f) {
    return detail::open_end<RingProducerImpl>(name, capacity, options, OpenMode::create, f);
  }));
}
RingProducer RingProducer::open(std::string_view name, const RingOptions& options) {
  return RingProducer(detail::throwing([&](Failure& f) {
    return detail::open_end<RingProducerImpl>(name, 0, options, OpenMode::open, f);
  }));
}
RingProducer RingProducer::open(std::string_view name, const RingOptions& options,
                                std::error_code& ec) noexcept {
  return RingProducer(detail::without_throwing(ec, [&](Failure& f) {
    return detail::open_end<RingProducerImpl>(name, 0, options, OpenMode::open, f);
  }));
}
RingProducer RingProducer::open_or_create(std::string_view name, std::size_t capacity,
                                          const RingOptions& options) {
  return RingProducer(detail::throwing([&](Failure& f) {
    return detail::open_end<RingProducerImpl>(name, capacity, options, OpenMode::open_or_create, f);
  }));
}
RingProducer RingProducer::open_or_create(std::string_view name, std::size_t capacity,
                                          const RingOptions& options,
                                          std::error_code& ec) noexcept {
  return RingProducer(detail::without_throwing(ec, [&](Failure& f) {
    return detail::open_end<RingProducerImpl>(name, capacity, options, OpenMode::open_or_create, f);
  }));
}
bool RingProducer::remove(std::string_view name, const RingOptions& options) {
  return detail::throwing([&](Failure& f) { return detail::remove_ring(name, options, f); });
}
bool RingProducer::remove(std::string_view name, const RingOptions& options,
                          std::error_code& ec) noexcept {
  return detail::without_throwing(
      ec, [&](Failure& f) { return detail::remove_ring(name, options, f); });
}
bool RingProducer::exists(std::string_view name, const RingOptions& options) {
  return detail::throwing([&](Failure& f) { return detail::ring_exists(name, options, f); });
}
bool RingProducer::exists(std::string_view name, const RingOptions& options,
                          std::error_code& ec) noexcept {
  return detail::without_throwing(
      ec, [&](Failure& f) { return detail::ring_exists(name, options, f); });
}

RingProducer::RingProducer(RingProducer&& other) noexcept
    : impl_(std::exchange(other.impl_, nullptr)) {}
RingProducer& RingProducer::operator=(RingProducer&& other) noexcept {
  if (this != &other) {
    close();
    impl_ = std::exchange(other.impl_, nullptr);
  }
  return *this;
}
RingProducer::~RingProducer() {
  close();
}
void RingProducer::close() noexcept {
  delete std::exchange(impl_, nullptr);
}

ByteSpan RingProducer::reserve_at(std::size_t size, Deadline deadline, std::error_code* ec) {
  if (impl_ != nullptr) {
    ByteSpan span;
    if (impl_->core.try_reserve_fast(size, span) == detail::FastResult::done) {
      if (ec != nullptr) ec->clear();
      return span;
    }
  }
  return detail::reserve_general(impl_, size, deadline, ec);
}

void RingProducer::commit(std::size_t used) {
  if (impl_ != nullptr && impl_->core.try_commit_fast(used)) return;
  detail::throwing([&](Failure& f) {
    if (auto* impl = detail::checked_impl(impl_, "RingProducer", f))
      impl->core.commit(used, true, f);
  });
}
void RingProducer::commit(std::size_t used, std::error_code& ec) noexcept {
  if (impl_ != nullptr && impl_->core.try_commit_fast(used)) {
    ec.clear();
    return;
  }
  detail::without_throwing(ec, [&](Failure& f) {
    if (auto* impl = detail::checked_impl(impl_, "RingProducer", f))
      impl->core.commit(used, true, f);
  });
}
void RingProducer::commit() {
  if (impl_ != nullptr && impl_->core.try_commit_fast(impl_->core.reserved_size())) return;
  detail::throwing([&](Failure& f) {
    if (auto* impl = detail::checked_impl(impl_, "RingProducer", f)) {
      impl->core.commit(impl->core.reserved_size(), true, f);
    }
  });
}
void RingProducer::commit(std::error_code& ec) noexcept {
  if (impl_ != nullptr && impl_->core.try_commit_fast(impl_->core.reserved_size())) {
    ec.clear();
    return;
  }
  detail::without_throwing(ec, [&](Failure& f) {
    if (auto* impl = detail::checked_impl(impl_, "RingProducer", f)) {
      impl->core.commit(impl->core.reserved_size(), true, f);
    }
  });
}
void RingProducer::commit_deferred(std::size_t used) {
  detail::throwing([&](Failure& f) {
    if (auto* impl = detail::checked_impl(impl_, "RingProducer", f))
      impl->core.commit(used, false, f);
  });
}
void RingProducer::commit_deferred(std::size_t used, std::error_code& ec) noexcept {
  detail::without_throwing(ec, [&](Failure& f) {
    if (auto* impl = detail::checked_impl(impl_, "RingProducer", f))
      impl->core.commit(used, false, f);
  });
}
void RingProducer::flush() noexcept {
  if (impl_ != nullptr) impl_->core.publish();
}

bool RingProducer::send_at(const void* data, std::size_t size, Deadline deadline,
                           std::error_code* ec) {
  if (impl_ != nullptr && impl_->core.try_send_fast(data, size) == detail::FastResult::done) {
    if (ec != nullptr) ec->clear();
    return true;
  }
  return detail::send_general(impl_, data, size, deadline, ec);
}

std::size_t RingProducer::send_batch_at(const ConstByteSpan* messages, std::size_t count,
                                        Deadline deadline, std::error_code* ec) {
  return detail::run_reporting(ec, [&](Failure& f) -> std::size_t {
    auto* impl = detail::checked_impl(impl_, "RingProducer", f);
    if (impl == nullptr) return 0;
    auto& producer = impl->core;
    std::size_t sent = 0;
    for (; sent < count; ++sent) {
      ByteSpan span = producer.reserve(messages[sent].size, Deadline(), f);
      if (!span && !f) {
        producer.publish();  // let the consumer make room, then wait for it
        span = producer.reserve(messages[sent].size, deadline, f);
      }
      if (!span) break;
      if (messages[sent].size != 0) std::memcpy(span.data, messages[sent].data, span.size);
      producer.commit(span.size, false, f);
    }
    producer.publish();
    return sent;
  });
}

bool RingProducer::wait_for_peer_at(Deadline deadline, std::error_code* ec) {
  return detail::run_reporting(ec, [&](Failure& f) {
    auto* impl = detail::checked_impl(impl_, "RingProducer", f);
    return impl != nullptr && impl->core.await_peer(deadline);
  });
}

std::size_t RingProducer::capacity() const noexcept {
  return impl_ != nullptr ? impl_->segment->capacity : 0;
}
std::size_t RingProducer::max_message_size() const noexcept {
  return impl_ != nullptr ? impl_->core.max_message_size() : 0;
}
const std::string& RingProducer::name() const noexcept {
  return impl_ != nullptr ? impl_->name : detail::empty_name();
}
std::uint32_t RingProducer::generation() const noexcept {
  return impl_ != nullptr ? impl_->core.generation() : 0;
}
std::uint32_t RingProducer::peer_generation() const noexcept {
  return impl_ != nullptr ? impl_->core.peer_generation() : 0;
}

// ---- RingConsumer -------------------------------------------------------------

RingConsumer RingConsumer::create(std::string_view name, std::size_t capacity,
                                  const RingOptions& options) {
  return RingConsumer(detail::throwing([&](Failure& f) {
    return detail::open_end<RingConsumerImpl>(name, capacity, options, OpenMode::create, f);
  }));
}
RingConsumer RingConsumer::create(std::string_view name, std::size_t capacity,
                                  const RingOptions& options, std::error_code& ec) noexcept {
  return RingConsumer(detail::without_throwing(ec, [&](Failure& f) {
    return detail::open_end<RingConsumerImpl>(name, capacity, options, OpenMode::create, f);
  }));
}
RingConsumer RingConsumer::open(std::string_view name, const RingOptions& options) {
  return RingConsumer(detail::throwing([&](Failure& f) {
    return detail::open_end<RingConsumerImpl>(name, 0, options, OpenMode::open, f);
  }));
}
RingConsumer RingConsumer::open(std::string_view name, const RingOptions& options,
                                std::error_code& ec) noexcept {
  return RingConsumer(detail::without_throwing(ec, [&](Failure& f) {
    return detail::open_end<RingConsumerImpl>(name, 0, options, OpenMode::open, f);
  }));
}
RingConsumer RingConsumer::open_or_create(std::string_view name, std::size_t capacity,
                                          const RingOptions& options) {
  return RingConsumer(detail::throwing([&](Failure& f) {
    return detail::open_end<RingConsumerImpl>(name, capacity, options, OpenMode::open_or_create, f);
  }));
}
RingConsumer RingConsumer::open_or_create(std::string_view name, std::size_t capacity,
                                          const RingOptions& options,
                                          std::error_code& ec) noexcept {
  return RingConsumer(detail::without_throwing(ec, [&](Failure& f) {
    return detail::open_end<RingConsumerImpl>(name, capacity, options, OpenMode::open_or_create, f);
  }));
}
bool RingConsumer::remove(std::string_view name, const RingOptions& options) {
  return detail::throwing([&](Failure& f) { return detail::remove_ring(name, options, f); });
}
bool RingConsumer::remove(std::string_view name, const RingOptions& options,
                          std::error_code& ec) noexcept {
  return detail::without_throwing(
      ec, [&](Failure& f) { return detail::remove_ring(name, options, f); });
}
bool RingConsumer::exists(std::string_view name, const RingOptions& options) {
  return detail::throwing([&](Failure& f) { return detail::ring_exists(name, options, f); });
}
bool RingConsumer::exists(std::string_view name, const RingOptions& options,
                          std::error_code& ec) noexcept {
  return detail::without_throwing(
      ec, [&](Failure& f) { return detail::ring_exists(name, options, f); });
}

RingConsumer::RingConsumer(RingConsumer&& other) noexcept
    : impl_(std::exchange(other.impl_, nullptr)) {}
RingConsumer& RingConsumer::operator=(RingConsumer&& other) noexcept {
  if (this != &other) {
    close();
    impl_ = std::exchange(other.impl_, nullptr);
  }
  return *this;
}
RingConsumer::~RingConsumer() {
  close();
}
void RingConsumer::close() noexcept {
  delete std::exchange(impl_, nullptr);
}

ConstByteSpan RingConsumer::peek_at(Deadline deadline, std::error_code* ec) {
  if (impl_ != nullptr) {
    ConstByteSpan message;
    if (impl_->core.try_peek_fast(message) == detail::FastResult::done) {
      if (ec != nullptr) ec->clear();
      return message;
    }
  }
  return detail::peek_general(impl_, deadline, ec);
}
void RingConsumer::release() noexcept {
  if (impl_ != nullptr) impl_->core.release();
}

std::optional<std::size_t> RingConsumer::receive_at(void* buffer, std::size_t capacity,
                                                    Deadline deadline, std::error_code* ec) {
  if (impl_ != nullptr) {
    const std::size_t size = impl_->core.try_receive_fast(buffer, capacity);
    if (size < detail::k_receive_empty) {
      if (ec != nullptr) ec->clear();
      // Engaged through emplace(): GCC 12 builds `return size;` with a byte
      // store and a word load of the flag, a store-forwarding stall that
      // costs more than the rest of this path.
      std::optional<std::size_t> received;
      received.emplace(size);
      return received;
    }
  }
  return detail::receive_general(impl_, buffer, capacity, deadline, ec);
}

bool RingConsumer::wait_for_peer_at(Deadline deadline, std::error_code* ec) {
  return detail::run_reporting(ec, [&](Failure& f) {
    auto* impl = detail::checked_impl(impl_, "RingConsumer", f);
    return impl != nullptr && impl->core.await_peer(deadline);
  });
}

std::size_t RingConsumer::capacity() const noexcept {
  return impl_ != nullptr ? impl_->segment->capacity : 0;
}
std::size_t RingConsumer::max_message_size() const noexcept {
  return impl_ != nullptr
             ? std::min<std::size_t>(impl_->segment->capacity - detail::k_record_header_size,
                                     detail::k_max_record_length)
             : 0;
}
const std::string& RingConsumer::name() const noexcept {
  return impl_ != nullptr ? impl_->name : detail::empty_name();
}
std::uint32_t RingConsumer::generation() const noexcept {
  return impl_ != nullptr ? impl_->core.generation() : 0;
}
std::uint32_t RingConsumer::peer_generation() const noexcept {
  return impl_ != nullptr ? impl_->core.peer_generation() : 0;
}
std::uint32_t RingConsumer::message_generation() const noexcept {
  return impl_ != nullptr ? impl_->core.message_generation() : 0;
}

SHMKIT_END_NAMESPACE
