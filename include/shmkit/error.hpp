// The exception every throwing shmkit call raises.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/export.hpp>

#include <stdexcept>
#include <string>
#include <system_error>

SHMKIT_BEGIN_NAMESPACE

// A std::system_error whose what() is exactly one sentence that names the
// object and says what to do ("segment 'x' exists with size 4096, requested
// 8192; ..."). std::system_error's own what() would append the category's
// advice after it and say the same thing twice; code() still carries the
// shmkit::errc or OS error to branch on.
class Error : public std::system_error {
 public:
  Error(std::error_code code, const std::string& sentence)
      : std::system_error(code, sentence), sentence_(sentence) {}

  const char* what() const noexcept override { return sentence_.what(); }

 private:
  // std::runtime_error keeps the text in a reference-counted buffer, so
  // copying an Error (as throwing does) never throws.
  std::runtime_error sentence_;
};

// The sentence for an error a call reported through std::error_code&: the
// same text the throwing twin's Error::what() would have carried, when `ec` is
// the most recent failure of a shmkit call on this thread; otherwise (another
// failure came since, or `ec` did not come from shmkit) ec.message().
//
//   auto ring = shmkit::RingConsumer::open("frames", {}, ec);
//   if (ec) std::cerr << shmkit::error_message(ec) << '\n';
[[nodiscard]] SHMKIT_EXPORT std::string error_message(const std::error_code& ec);

SHMKIT_END_NAMESPACE
