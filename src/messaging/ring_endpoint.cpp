#include "messaging/ring_endpoint.hpp"

#include <cstring>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

bool send_one(ProducerCore& producer, const void* data, std::size_t size, Deadline deadline,
              bool spun, Failure& f) {
  const ByteSpan span = producer.reserve(size, deadline, f, spun);
  if (!span) return false;
  if (size != 0) std::memcpy(span.data, data, size);
  producer.commit(size, true, f);
  return !f;
}

std::optional<std::size_t> receive_into(ConsumerCore& consumer, void* buffer, std::size_t capacity,
                                        Deadline deadline, bool spun, const std::string& name,
                                        Failure& f) {
  const ConstByteSpan message = consumer.peek(deadline, f, spun);
  if (!message) return std::nullopt;
  if (message.size > capacity) {
    consumer.unpeek_last();
    f.set(errc::message_too_large, "ring '" + name + "': the next message has " +
                                       std::to_string(message.size) + " bytes, the buffer " +
                                       std::to_string(capacity) +
                                       "; it stays in the ring: receive it into a larger buffer");
    return std::nullopt;
  }
  if (message.size != 0) std::memcpy(buffer, message.data, message.size);
  consumer.release();
  return message.size;
}

}  // namespace

ByteSpan reserve_general(RingProducerImpl* impl, std::size_t size, Deadline deadline,
                         std::error_code* ec) {
  bool spun = false;
  if (impl != nullptr) {
    auto& core = impl->core;
    ByteSpan span;
    const FastResult result = spin_for_fast_path(core.wait_options(), deadline, FastResult::not_now,
                                                 [&] { return core.try_reserve_fast(size, span); });
    if (result == FastResult::done) {
      if (ec != nullptr) ec->clear();
      return span;
    }
    spun = result == FastResult::not_now;
  }
  return run_reporting(ec, [&](Failure& f) -> ByteSpan {
    return checked_impl(impl, "RingProducer", f) != nullptr
               ? impl->core.reserve(size, deadline, f, spun)
               : ByteSpan{};
  });
}

bool send_general(RingProducerImpl* impl, const void* data, std::size_t size, Deadline deadline,
                  std::error_code* ec) {
  bool spun = false;
  if (impl != nullptr) {
    auto& core = impl->core;
    const FastResult result = spin_for_fast_path(core.wait_options(), deadline, FastResult::not_now,
                                                 [&] { return core.try_send_fast(data, size); });
    if (result == FastResult::done) {
      if (ec != nullptr) ec->clear();
      return true;
    }
    spun = result == FastResult::not_now;
  }
  return run_reporting(ec, [&](Failure& f) {
    return checked_impl(impl, "RingProducer", f) != nullptr &&
           send_one(impl->core, data, size, deadline, spun, f);
  });
}

ConstByteSpan peek_general(RingConsumerImpl* impl, Deadline deadline, std::error_code* ec) {
  bool spun = false;
  if (impl != nullptr) {
    auto& core = impl->core;
    ConstByteSpan message;
    const FastResult result = spin_for_fast_path(core.wait_options(), deadline, FastResult::not_now,
                                                 [&] { return core.try_peek_fast(message); });
    if (result == FastResult::done) {
      if (ec != nullptr) ec->clear();
      return message;
    }
    spun = result == FastResult::not_now;
  }
  return run_reporting(ec, [&](Failure& f) -> ConstByteSpan {
    return checked_impl(impl, "RingConsumer", f) != nullptr ? impl->core.peek(deadline, f, spun)
                                                            : ConstByteSpan{};
  });
}

std::optional<std::size_t> receive_general(RingConsumerImpl* impl, void* buffer,
                                           std::size_t capacity, Deadline deadline,
                                           std::error_code* ec) {
  bool spun = false;
  if (impl != nullptr) {
    auto& core = impl->core;
    const std::size_t size =
        spin_for_fast_path(core.wait_options(), deadline, k_receive_empty,
                           [&] { return core.try_receive_fast(buffer, capacity); });
    if (size < k_receive_empty) {
      if (ec != nullptr) ec->clear();
      return size;
    }
    spun = size == k_receive_empty;
  }
  return run_reporting(ec, [&](Failure& f) -> std::optional<std::size_t> {
    if (checked_impl(impl, "RingConsumer", f) == nullptr) return std::nullopt;
    return receive_into(impl->core, buffer, capacity, deadline, spun, impl->name, f);
  });
}

}  // namespace detail
SHMKIT_END_NAMESPACE
