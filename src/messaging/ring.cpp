#include <shmkit/ring.hpp>

#include "core/error_wrappers.hpp"
#include "messaging/ring_endpoint.hpp"
#include "messaging/ring_segment.hpp"

#include <cstring>
#include <optional>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

RingEndpoint::RingEndpoint(std::shared_ptr<RingSegment> segment, std::size_t index, RingRole role,
                           std::string name, const WaitOptions& wait, Failure& failure)
    : segment_(std::move(segment)), role_(role), name_(std::move(name)) {
  const std::string what = kind_name(segment_->kind) + std::string(" ") + quoted(name_);
  RingShared& shared = *segment_->rings[index];
  WordWaiter& data_waiter = *segment_->sync.waiters[2 * index];
  WordWaiter& space_waiter = *segment_->sync.waiters[2 * index + 1];
  if (role == RingRole::producer) {
    producer_.emplace(shared, segment_->capacity, data_waiter, space_waiter, what, wait, failure);
  } else {
    consumer_.emplace(shared, segment_->capacity, data_waiter, space_waiter, what, wait, failure);
  }
}

RingProducer& RingEndpoint::producer() {
  if (!producer_) wrong_role("producer");
  return *producer_;
}

RingConsumer& RingEndpoint::consumer() {
  if (!consumer_) wrong_role("consumer");
  return *consumer_;
}

void RingEndpoint::wrong_role(const char* needed) const {
  throw std::system_error(
      std::make_error_code(std::errc::operation_not_permitted),
      "'" + name_ + "': only the " + needed + " end may do this; this handle is the other end");
}

std::unique_ptr<RingEndpoint> open_ring(std::string_view name, RingRole role, std::size_t capacity,
                                        const WaitOptions& wait, const Options& options,
                                        OpenMode mode, Failure& failure) {
  if (!check_ring_name(name, "ring", failure)) return nullptr;
  const std::string name_text(name);
  auto segment = std::make_shared<RingSegment>(
      open_ring_segment(name_text, SegmentKind::ring, 1, capacity, mode, options, failure));
  if (failure) return nullptr;
  auto endpoint =
      std::make_unique<RingEndpoint>(std::move(segment), 0, role, name_text, wait, failure);
  if (failure) return nullptr;
  return endpoint;
}

}  // namespace detail

using detail::Failure;
using detail::OpenMode;

Ring::Ring() noexcept = default;
Ring::Ring(std::unique_ptr<detail::RingEndpoint> endpoint) noexcept
    : endpoint_(std::move(endpoint)) {}
Ring::Ring(Ring&&) noexcept = default;
Ring& Ring::operator=(Ring&&) noexcept = default;
Ring::~Ring() = default;

Ring Ring::create(std::string_view name, RingRole role, std::size_t capacity,
                  const WaitOptions& wait, const Options& options) {
  return detail::throwing([&](Failure& f) {
    return Ring(detail::open_ring(name, role, capacity, wait, options, OpenMode::create, f));
  });
}
Ring Ring::create(std::string_view name, RingRole role, std::size_t capacity,
                  const WaitOptions& wait, const Options& options, std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) {
    return Ring(detail::open_ring(name, role, capacity, wait, options, OpenMode::create, f));
  });
}
Ring Ring::open(std::string_view name, RingRole role, const WaitOptions& wait,
                const Options& options) {
  return detail::throwing([&](Failure& f) {
    return Ring(detail::open_ring(name, role, 0, wait, options, OpenMode::open, f));
  });
}
Ring Ring::open(std::string_view name, RingRole role, const WaitOptions& wait,
                const Options& options, std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) {
    return Ring(detail::open_ring(name, role, 0, wait, options, OpenMode::open, f));
  });
}
Ring Ring::open_or_create(std::string_view name, RingRole role, std::size_t capacity,
                          const WaitOptions& wait, const Options& options) {
  return detail::throwing([&](Failure& f) {
    return Ring(
        detail::open_ring(name, role, capacity, wait, options, OpenMode::open_or_create, f));
  });
}
Ring Ring::open_or_create(std::string_view name, RingRole role, std::size_t capacity,
                          const WaitOptions& wait, const Options& options,
                          std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) {
    return Ring(
        detail::open_ring(name, role, capacity, wait, options, OpenMode::open_or_create, f));
  });
}
bool Ring::remove(std::string_view name, const Options& options) {
  return detail::throwing([&](Failure& f) {
    return detail::check_ring_name(name, "ring", f) &&
           detail::remove_ring_segment(std::string(name), 1, options, f);
  });
}
bool Ring::remove(std::string_view name, const Options& options, std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) {
    return detail::check_ring_name(name, "ring", f) &&
           detail::remove_ring_segment(std::string(name), 1, options, f);
  });
}

namespace {

detail::RingEndpoint& checked(const std::unique_ptr<detail::RingEndpoint>& endpoint) {
  if (!endpoint) {
    throw std::system_error(std::make_error_code(std::errc::operation_not_permitted),
                            "use of an empty Ring handle");
  }
  return *endpoint;
}

}  // namespace

ByteSpan Ring::reserve_until(std::size_t size, Deadline deadline) {
  return detail::throwing(
      [&](Failure& f) { return checked(endpoint_).producer().reserve(size, deadline, f); });
}
ByteSpan Ring::reserve_until(std::size_t size, Deadline deadline, std::error_code& ec) noexcept {
  return detail::without_throwing(
      ec, [&](Failure& f) { return checked(endpoint_).producer().reserve(size, deadline, f); });
}
void Ring::commit(std::size_t used) {
  detail::throwing([&](Failure& f) { checked(endpoint_).producer().commit(used, true, f); });
}
void Ring::commit() {
  detail::throwing([&](Failure& f) {
    auto& producer = checked(endpoint_).producer();
    producer.commit(producer.reserved_size(), true, f);
  });
}
void Ring::commit_deferred(std::size_t used) {
  detail::throwing([&](Failure& f) { checked(endpoint_).producer().commit(used, false, f); });
}
void Ring::flush() noexcept {
  if (endpoint_ && endpoint_->role() == RingRole::producer) endpoint_->producer().publish();
}

namespace {

bool send_one(detail::RingProducer& producer, const void* data, std::size_t size, Deadline deadline,
              Failure& f) {
  const ByteSpan span = producer.reserve(size, deadline, f);
  if (!span) return false;
  if (size != 0) std::memcpy(span.data, data, size);
  producer.commit(size, true, f);
  return !f;
}

}  // namespace

bool Ring::send_until(const void* data, std::size_t size, Deadline deadline) {
  if (endpoint_ && endpoint_->role() == RingRole::producer &&
      endpoint_->producer().try_send_fast(data, size)) {
    return true;
  }
  return detail::throwing(
      [&](Failure& f) { return send_one(checked(endpoint_).producer(), data, size, deadline, f); });
}
bool Ring::send_until(const void* data, std::size_t size, Deadline deadline,
                      std::error_code& ec) noexcept {
  if (endpoint_ && endpoint_->role() == RingRole::producer &&
      endpoint_->producer().try_send_fast(data, size)) {
    ec.clear();
    return true;
  }
  return detail::without_throwing(ec, [&](Failure& f) {
    return send_one(checked(endpoint_).producer(), data, size, deadline, f);
  });
}

std::size_t Ring::send_batch(const ConstByteSpan* messages, std::size_t count, Deadline deadline) {
  return detail::throwing([&](Failure& f) {
    auto& producer = checked(endpoint_).producer();
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

ConstByteSpan Ring::peek_until(Deadline deadline) {
  return detail::throwing(
      [&](Failure& f) { return checked(endpoint_).consumer().peek(deadline, f); });
}
ConstByteSpan Ring::peek_until(Deadline deadline, std::error_code& ec) noexcept {
  return detail::without_throwing(
      ec, [&](Failure& f) { return checked(endpoint_).consumer().peek(deadline, f); });
}
void Ring::release() noexcept {
  if (endpoint_ && endpoint_->role() == RingRole::consumer) endpoint_->consumer().release();
}

namespace {

std::optional<std::size_t> receive_into(detail::RingConsumer& consumer, void* buffer,
                                        std::size_t capacity, Deadline deadline,
                                        const std::string& name, Failure& f) {
  const ConstByteSpan message = consumer.peek(deadline, f);
  if (!message) return std::nullopt;
  if (message.size > capacity) {
    consumer.unpeek_last();
    f.set(errc::message_too_large, "ring '" + name + "': the next message has " +
                                       std::to_string(message.size) + " bytes, the buffer " +
                                       std::to_string(capacity) + "; it stays in the ring");
    return std::nullopt;
  }
  if (message.size != 0) std::memcpy(buffer, message.data, message.size);
  consumer.release();
  return message.size;
}

}  // namespace

std::optional<std::size_t> Ring::receive_until(void* buffer, std::size_t capacity,
                                               Deadline deadline) {
  if (endpoint_ && endpoint_->role() == RingRole::consumer) {
    const std::size_t size = endpoint_->consumer().try_receive_fast(buffer, capacity);
    if (size != SIZE_MAX) return size;
  }
  return detail::throwing([&](Failure& f) {
    auto& endpoint = checked(endpoint_);
    return receive_into(endpoint.consumer(), buffer, capacity, deadline, endpoint.name(), f);
  });
}
std::optional<std::size_t> Ring::receive_until(void* buffer, std::size_t capacity,
                                               Deadline deadline, std::error_code& ec) noexcept {
  if (endpoint_ && endpoint_->role() == RingRole::consumer) {
    const std::size_t size = endpoint_->consumer().try_receive_fast(buffer, capacity);
    if (size != SIZE_MAX) {
      ec.clear();
      return size;
    }
  }
  return detail::without_throwing(ec, [&](Failure& f) {
    auto& endpoint = checked(endpoint_);
    return receive_into(endpoint.consumer(), buffer, capacity, deadline, endpoint.name(), f);
  });
}

RingRole Ring::role() const noexcept {
  return endpoint_ ? endpoint_->role() : RingRole::producer;
}
std::size_t Ring::capacity() const noexcept {
  return endpoint_ ? endpoint_->capacity() : 0;
}
std::size_t Ring::max_message_size() const noexcept {
  return endpoint_ ? endpoint_->capacity() - detail::k_record_header_size : 0;
}
const std::string& Ring::name() const noexcept {
  static const std::string empty;
  return endpoint_ ? endpoint_->name() : empty;
}

SHMKIT_END_NAMESPACE
