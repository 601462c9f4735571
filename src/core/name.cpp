#include <shmkit/name.hpp>

#include <shmkit/errc.hpp>

#include "core/name_check.hpp"

#include <string>

SHMKIT_BEGIN_NAMESPACE

namespace {

// The character rule every name follows, whatever its length.
bool valid_characters(std::string_view name) noexcept {
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  // "." and ".." would be directory entries under /dev/shm, and glibc keeps
  // the POSIX semaphore "/x" as the file "/dev/shm/sem.x", where it would
  // collide with a segment called "sem.x".
  return name != "." && name != ".." && name.substr(0, 4) != "sem.";
}

}  // namespace

bool is_valid_name(std::string_view name) noexcept {
  return !name.empty() && name.size() <= k_max_name_length && valid_characters(name);
}

void validate_name(std::string_view name, std::error_code& ec) noexcept {
  if (is_valid_name(name)) {
    ec.clear();
  } else {
    ec = errc::invalid_name;
  }
}

namespace detail {

namespace {

// The name as it can be shown: a message may be printed to a terminal, so
// control characters and non-ASCII bytes become \xHH.
std::string printable(std::string_view name) {
  std::string out;
  for (char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && c != '\\') {
      out += c;
    } else {
      static const char k_hex[] = "0123456789abcdef";
      out += "\\x";
      out += k_hex[byte >> 4];
      out += k_hex[byte & 0xf];
    }
  }
  return out;
}

}  // namespace

bool is_valid_derived_name(std::string_view name) noexcept {
  return !name.empty() && name.size() <= k_max_os_name_length - 2 && valid_characters(name);
}

bool check_derived_name(std::string_view name, Failure& failure) {
  return is_valid_derived_name(name) || check_name(name, failure);
}

bool check_name(std::string_view name, Failure& failure) {
  if (is_valid_name(name)) return true;
  failure.set(errc::invalid_name, "'" + printable(name) + "' is not a valid shmkit name: use 1-" +
                                      std::to_string(k_max_name_length) +
                                      " characters of "
                                      "A-Z a-z 0-9 . _ -, not starting with 'sem.'");
  return false;
}

}  // namespace detail
SHMKIT_END_NAMESPACE
