#include "win32/owner_trust.hpp"
#include <shmkit/config.hpp>

#include "win32/os_error.hpp"

#include <aclapi.h>
#include <sddl.h>

#include <memory>
#include <vector>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

// A SID from a trusted_owners entry: a SID string ("S-1-5-21-...") or an
// account name ("DOMAIN\\user", "user"). Empty if it names nobody.
std::vector<unsigned char> resolve(const std::string& who) {
  const std::wstring text = widen(who);
  PSID converted = nullptr;
  if (::ConvertStringSidToSidW(text.c_str(), &converted)) {
    const DWORD length = ::GetLengthSid(converted);
    std::vector<unsigned char> sid(static_cast<unsigned char*>(converted),
                                   static_cast<unsigned char*>(converted) + length);
    ::LocalFree(converted);
    return sid;
  }
  DWORD sid_length = 0;
  DWORD domain_length = 0;
  SID_NAME_USE use;
  ::LookupAccountNameW(nullptr, text.c_str(), nullptr, &sid_length, nullptr, &domain_length, &use);
  if (sid_length == 0) return {};
  std::vector<unsigned char> sid(sid_length);
  std::vector<wchar_t> domain(domain_length + 1);
  if (!::LookupAccountNameW(nullptr, text.c_str(), sid.data(), &sid_length, domain.data(),
                            &domain_length, &use)) {
    return {};
  }
  return sid;
}

// This process's user and its token's default owner (Administrators in an
// elevated token): the owners of what this process creates itself.
bool is_own_sid(PSID owner) {
  HANDLE token = nullptr;
  if (!::OpenProcessToken(::GetCurrentProcess(), TOKEN_QUERY, &token)) return false;
  bool own = false;
  for (TOKEN_INFORMATION_CLASS which : {TokenUser, TokenOwner}) {
    DWORD length = 0;
    ::GetTokenInformation(token, which, nullptr, 0, &length);
    std::vector<unsigned char> buffer(length);
    if (length == 0 || !::GetTokenInformation(token, which, buffer.data(), length, &length))
      continue;
    PSID sid = which == TokenUser ? reinterpret_cast<TOKEN_USER*>(buffer.data())->User.Sid
                                  : reinterpret_cast<TOKEN_OWNER*>(buffer.data())->Owner;
    if (::EqualSid(sid, owner)) own = true;
  }
  ::CloseHandle(token);
  return own;
}

bool is_well_known(PSID owner) {
  return ::IsWellKnownSid(owner, WinLocalSystemSid) ||
         ::IsWellKnownSid(owner, WinBuiltinAdministratorsSid);
}

std::string sid_text(PSID sid) {
  LPWSTR text = nullptr;
  if (!::ConvertSidToStringSidW(sid, &text)) return "an unknown SID";
  std::string result = narrow(text);
  ::LocalFree(text);
  return result;
}

}  // namespace

void check_win32_owner(HANDLE handle, const std::string& object, const SegmentOptions& options,
                       Failure& failure) {
  for (const std::string& who : options.trusted_owners) {
    if (who == "*") return;
  }
  PSID owner = nullptr;
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  const DWORD e = handle == nullptr
                      ? ERROR_ACCESS_DENIED
                      : ::GetSecurityInfo(handle, SE_KERNEL_OBJECT, OWNER_SECURITY_INFORMATION,
                                          &owner, nullptr, nullptr, nullptr, &descriptor);
  if (e != ERROR_SUCCESS) {
    failure.set(errc::untrusted_owner,
                object + ": cannot read its owner (" + describe_win32_error(e) +
                    "), so it may belong to another user; have its creator grant READ_CONTROL "
                    "(RC in SDDL), or put \"*\" in ObjectOptions::trusted_owners to trust anyone");
    return;
  }
  std::unique_ptr<void, decltype(&::LocalFree)> release(descriptor, &::LocalFree);
  // Windows gives every named kernel object an owner. Wine keeps none for
  // objects made with the default security (every process there runs with
  // one token anyway): with no owner there is nobody to distrust.
  if (owner == nullptr) return;
  if (is_own_sid(owner) || is_well_known(owner)) return;
  for (const std::string& who : options.trusted_owners) {
    const std::vector<unsigned char> sid = resolve(who);
    if (sid.empty()) {
      failure.set(errc::invalid_argument, object + ": ObjectOptions::trusted_owners names '" + who +
                                              "', which is neither a SID nor an account here");
      return;
    }
    if (::EqualSid(const_cast<unsigned char*>(sid.data()), owner)) return;
  }
  const std::string stranger = sid_text(owner);
  failure.set(errc::untrusted_owner,
              object + " is owned by " + stranger +
                  ", not by this user, SYSTEM or Administrators, so another user may read or "
                  "change what is put there; close every handle to it and create it again, or "
                  "add \"" +
                  stranger +
                  "\" to ObjectOptions::trusted_owners if you mean to share it with that user");
}

}  // namespace detail
SHMKIT_END_NAMESPACE
