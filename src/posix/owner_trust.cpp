#include "posix/owner_trust.hpp"
#include <shmkit/config.hpp>

#include "posix/os_error.hpp"

#include <pwd.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <vector>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

constexpr unsigned k_any = ~0u;

// A trusted_owners entry as a uid: "*" (anyone), a number, or a user name.
std::optional<unsigned> resolve(const std::string& who) {
  if (who == "*") return k_any;
  if (!who.empty() && who.find_first_not_of("0123456789") == std::string::npos &&
      who.size() <= 10) {
    const unsigned long uid = std::strtoul(who.c_str(), nullptr, 10);
    if (uid <= 0xffffffffUL) return static_cast<unsigned>(uid);
    return std::nullopt;
  }
  std::vector<char> buffer(4096);
  passwd entry{};
  passwd* found = nullptr;
  for (;;) {
    const int e = ::getpwnam_r(who.c_str(), &entry, buffer.data(), buffer.size(), &found);
    if (e != ERANGE || buffer.size() > (1u << 20)) break;
    buffer.resize(buffer.size() * 2);
  }
  if (found == nullptr) return std::nullopt;
  return static_cast<unsigned>(found->pw_uid);
}

// True if `uid` may own what this process uses; sets `failure` only for an
// entry of trusted_owners that names nobody.
bool trusted(unsigned uid, const SegmentOptions& options, const std::string& object,
             Failure& failure) {
  if (uid == static_cast<unsigned>(::geteuid()) || uid == 0) return true;
  for (const std::string& who : options.trusted_owners) {
    const auto resolved = resolve(who);
    if (!resolved) {
      failure.set(errc::invalid_argument,
                  object + ": ObjectOptions::trusted_owners names '" + who +
                      "', which is not a user on this system; give a user name, a uid or \"*\"");
      return false;
    }
    if (*resolved == k_any || *resolved == uid) return true;
  }
  return false;
}

std::string octal(unsigned mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", mode & 07777u);
  return text;
}

}  // namespace

void check_posix_owner(const std::string& object, const PosixOwner& owner,
                       const SegmentOptions& options, bool check_permissions, Failure& failure) {
  const bool owner_ok = trusted(owner.owner_uid, options, object, failure);
  if (failure) return;
  const bool creator_ok =
      owner.creator_uid == owner.owner_uid || trusted(owner.creator_uid, options, object, failure);
  if (failure) return;
  if (!owner_ok || !creator_ok) {
    const unsigned stranger = owner_ok ? owner.creator_uid : owner.owner_uid;
    failure.set(errc::untrusted_owner,
                object + " is " + describe_owner(owner.owner_uid, owner.mode) +
                    (owner.creator_uid != owner.owner_uid
                         ? " and was created by uid " + std::to_string(owner.creator_uid)
                         : std::string()) +
                    ", not by this user (uid " + std::to_string(::geteuid()) +
                    ") or root, so another user may read or change what is put there; remove "
                    "it and create it again, or add \"" +
                    std::to_string(stranger) +
                    "\" to ObjectOptions::trusted_owners if you mean to share it with that user");
    return;
  }
  const unsigned requested = options.permissions & 0777u;
  const unsigned extra = owner.mode & 0777u & ~requested;
  if (check_permissions && extra != 0 && !options.accept_wider_permissions) {
    failure.set(
        errc::insecure_permissions,
        object + " exists with mode " + octal(owner.mode) + ", wider than the " + octal(requested) +
            " requested, so others may have written to it; remove it and create it "
            "again, or set ObjectOptions::accept_wider_permissions if that mode is intended");
  }
}

}  // namespace detail
SHMKIT_END_NAMESPACE
