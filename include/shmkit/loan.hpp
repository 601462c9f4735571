// A writable sample on loan from a topic's pool (see publisher.hpp).
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/byte_span.hpp>
#include <shmkit/errc.hpp>
#include <shmkit/export.hpp>

#include <cstddef>
#include <cstdint>
#include <system_error>

SHMKIT_BEGIN_NAMESPACE

class Publisher;

namespace detail {
struct PublisherImpl;
struct LoanAccess;
}  // namespace detail

// A sample of the pool that one publisher may write, until it publishes it
// (Publisher::publish) or drops it: a Loan destroyed unpublished gives the
// sample back to the pool. Move-only. It keeps its publisher's state alive,
// so it may outlive the Publisher handle (the publisher's slot is released
// when the last of them goes).
//
// Threads: as its Publisher (one thread at a time, that handle's thread or
// one it hands the loan to). Fork: a forked child must not use, publish or
// destroy an inherited loan (destroying it would give the parent's sample
// back): exec or _exit in the child.
class SHMKIT_EXPORT Loan {
 public:
  Loan() noexcept = default;  // empty: data() is null, size() 0
  Loan(Loan&& other) noexcept;
  Loan& operator=(Loan&& other) noexcept;
  Loan(const Loan&) = delete;
  Loan& operator=(const Loan&) = delete;
  ~Loan();

  // The bytes to write: size() of them, valid until the loan is published or
  // dropped. Null on an empty loan.
  std::byte* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  ByteSpan bytes() const noexcept { return ByteSpan{data_, size_}; }
  // The most bytes this sample holds (the topic's sample_size).
  std::size_t capacity() const noexcept { return capacity_; }
  // Changes how many bytes are published (the bytes stay as written).
  // Errors: errc::invalid_size (n > capacity(); nothing changes),
  // errc::invalid_state (empty loan).
  void resize(std::size_t n);
  void resize(std::size_t n, std::error_code& ec) noexcept;

  explicit operator bool() const noexcept { return data_ != nullptr; }

 private:
  friend class Publisher;
  friend struct detail::LoanAccess;
  void reset() noexcept;

  detail::PublisherImpl* owner_ = nullptr;  // one counted reference
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
  std::uint32_t index_ = 0;
};

SHMKIT_END_NAMESPACE
