// The untyped engine behind Queue<T>; use Queue<T>.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/deadline.hpp>
#include <shmkit/errc.hpp>
#include <shmkit/export.hpp>
#include <shmkit/options.hpp>
#include <shmkit/wait_options.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

SHMKIT_BEGIN_NAMESPACE

struct QueueOptions {
  // Your own version number for the message format: bump it when T changes
  // meaning without changing its size, and old processes are refused.
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

class SHMKIT_EXPORT QueueCore {
 public:
  QueueCore() noexcept;
  QueueCore(QueueCore&&) noexcept;
  QueueCore& operator=(QueueCore&&) noexcept;
  ~QueueCore();

  // Throws std::system_error, or with `ec` never throws.
  static QueueCore open(std::string_view name, QueueOpen mode, std::size_t capacity,
                        const ElementType& type, const QueueOptions& queue, const Options& options);
  static QueueCore open(std::string_view name, QueueOpen mode, std::size_t capacity,
                        const ElementType& type, const QueueOptions& queue, const Options& options,
                        std::error_code& ec) noexcept;
  static bool remove(std::string_view name, const Options& options);
  static bool remove(std::string_view name, const Options& options, std::error_code& ec) noexcept;

  // Copy one element in or out; false at the deadline.
  bool push_until(const void* element, Deadline deadline);
  bool push_until(const void* element, Deadline deadline, std::error_code& ec) noexcept;
  bool pop_until(void* element, Deadline deadline);
  bool pop_until(void* element, Deadline deadline, std::error_code& ec) noexcept;

  bool is_open() const noexcept { return impl_ != nullptr; }
  std::size_t capacity() const noexcept;
  const std::string& name() const noexcept;

 private:
  std::unique_ptr<QueueImpl> impl_;
};

}  // namespace detail
SHMKIT_END_NAMESPACE
