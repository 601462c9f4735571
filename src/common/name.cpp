#include <shmkit/name.hpp>

#include <shmkit/errc.hpp>

#include "name_check.hpp"

#include <string>

namespace shmkit {

bool is_valid_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > k_max_name_length) return false;
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

void validate_name(std::string_view name, std::error_code& ec) noexcept {
  if (is_valid_name(name)) {
    ec.clear();
  } else {
    ec = errc::invalid_name;
  }
}

namespace detail {

bool check_name(std::string_view name, Failure& failure) {
  if (is_valid_name(name)) return true;
  failure.set(errc::invalid_name, "'" + std::string(name) +
                                      "' is not a valid shmkit name: use 1-30 characters of "
                                      "A-Z a-z 0-9 . _ -, not starting with 'sem.'");
  return false;
}

}  // namespace detail
}  // namespace shmkit
