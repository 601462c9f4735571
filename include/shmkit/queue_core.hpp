// The untyped engine behind Queue<T>, and QueueOptions; use Queue<T>.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/deadline.hpp>
#include <shmkit/errc.hpp>
#include <shmkit/export.hpp>
#include <shmkit/options.hpp>
#include <shmkit/wait_options.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

SHMKIT_BEGIN_NAMESPACE

// Queue<T>'s options: who may use it (ObjectOptions), the message format's
// version and how a blocked push or pop waits.
struct QueueOptions : ObjectOptions {
  // Your own version number for the message format: bump it when T changes
  // meaning without changing its size, and old processes are refused
  // (errc::type_mismatch).
  std::uint64_t schema_id = 0;
  WaitOptions wait;
};

namespace detail {

class QueueImpl;

// What a queue holds, fixed at creation and checked by every opener.
struct ElementType {
  std::size_t size;
  std::size_t align;
  std::uint64_t schema_id;
};

enum class QueueOpen { create, open, open_or_create };

// Every call taking `std::error_code* ec` throws shmkit::Error when `ec` is
// null and never throws otherwise (it sets *ec, cleared on success).
class SHMKIT_EXPORT QueueCore {
 public:
  QueueCore() noexcept = default;
  QueueCore(QueueCore&& other) noexcept;
  QueueCore& operator=(QueueCore&& other) noexcept;
  QueueCore(const QueueCore&) = delete;
  QueueCore& operator=(const QueueCore&) = delete;
  ~QueueCore();

  static QueueCore open(std::string_view name, QueueOpen mode, std::size_t capacity,
                        const ElementType& type, const QueueOptions& options, std::error_code* ec);
  static bool remove(std::string_view name, const QueueOptions& options, std::error_code* ec);
  static bool exists(std::string_view name, const QueueOptions& options, std::error_code* ec);

  // Copy one element in or out; false at the deadline (Deadline() = now,
  // k_forever = never).
  bool push(const void* element, Deadline deadline, std::error_code* ec);
  bool pop(void* element, Deadline deadline, std::error_code* ec);

  bool is_open() const noexcept { return impl_ != nullptr; }
  std::size_t capacity() const noexcept;
  const std::string& name() const noexcept;

 private:
  QueueImpl* impl_ = nullptr;  // owned; a raw pointer keeps std:: types out of the ABI
};

}  // namespace detail
SHMKIT_END_NAMESPACE
