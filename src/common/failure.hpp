// An error code plus the sentence that explains it. Internal functions report
// through a Failure so that the throwing API can say which object failed and
// what to do, while the error_code API still gets the plain code.
#pragma once

#include <shmkit/errc.hpp>

#include <string>
#include <system_error>
#include <utility>

namespace shmkit::detail {

struct Failure {
  std::error_code code;
  std::string message;

  explicit operator bool() const noexcept { return static_cast<bool>(code); }

  void set(std::error_code c, std::string m) {
    code = c;
    message = std::move(m);
  }
  void clear() noexcept {
    code.clear();
    message.clear();
  }
  [[noreturn]] void raise() const { throw std::system_error(code, message); }
};

inline std::error_code errno_code(int e) noexcept {
  return {e, std::system_category()};
}

// "'name'" with the quotes, for messages.
inline std::string quoted(const std::string& name) {
  return "'" + name + "'";
}

}  // namespace shmkit::detail
