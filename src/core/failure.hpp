// An error code plus the sentence that explains it. Internal functions report
// through a Failure so that the throwing API can say which object failed and
// what to do, while the error_code API still gets the plain code.
#pragma once

#include <shmkit/errc.hpp>
#include <shmkit/error.hpp>

#include <string>
#include <system_error>
#include <utility>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

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
  // The sentence already says what to do; an OS code's own text (which
  // says nothing about what to do) is kept after it in parentheses.
  // The one sentence both paths report: Error::what() on the throwing
  // path, error_message(ec) on the error_code path.
  std::string sentence() const {
    if (message.empty()) return code.message();
    if (code.category() == error_category()) return message;
    return message + " (" + code.message() + ")";
  }
  [[noreturn]] void raise() const { throw Error(code, sentence()); }
};

inline std::error_code errno_code(int e) noexcept {
  return {e, std::system_category()};
}

// "'name'" with the quotes, for messages.
inline std::string quoted(const std::string& name) {
  return "'" + name + "'";
}

}  // namespace detail
SHMKIT_END_NAMESPACE
