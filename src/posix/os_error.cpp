#include "posix/os_error.hpp"
#include <shmkit/config.hpp>

#include <pwd.h>
#include <sys/stat.h>
#include <cerrno>
#include <cstdio>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

std::string describe_owner(unsigned uid, unsigned mode) {
  char text[96];
  const passwd* pw =
      ::getpwuid(uid);  // not thread-safe only for the returned struct; copied at once
  std::snprintf(text, sizeof text, "owned by uid %u%s%s%s, mode %04o", uid, pw ? " (" : "",
                pw ? pw->pw_name : "", pw ? ")" : "", mode & 07777u);
  return text;
}

std::string describe_owner(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return describe_owner(st.st_uid, st.st_mode);
}

void set_errno_failure(Failure& failure, int error, const std::string& object,
                       const std::string& operation, const std::string& owner) {
  switch (error) {
    case ENOENT:
      failure.set(errc::not_found, object + " does not exist; create it first");
      return;
    case EEXIST:
      failure.set(errc::already_exists,
                  object + " already exists; open it, use open_or_create, or remove it first");
      return;
    case EACCES:
    case EPERM:
      failure.set(
          errno_code(error),
          operation + " " + object + ": permission denied" +
              (owner.empty() ? std::string() : ", it is " + owner) +
              "; run as its owner, or have the creator pass wider ObjectOptions::permissions");
      return;
    case EMFILE:
    case ENFILE:
      failure.set(errno_code(error), operation + " " + object +
                                         ": too many open files; close some handles or raise "
                                         "the limit (ulimit -n)");
      return;
    case ENOMEM:
    case ENOSPC:
      failure.set(errno_code(error), operation + " " + object +
                                         ": out of memory for shared memory; free some or "
                                         "enlarge /dev/shm");
      return;
    default:
      failure.set(errno_code(error), operation + " " + object + " failed");
  }
}

}  // namespace detail
SHMKIT_END_NAMESPACE
