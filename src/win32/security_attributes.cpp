#include "win32/security_attributes.hpp"
#include <shmkit/config.hpp>

#include "win32/os_error.hpp"

#include <sddl.h>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

SecurityAttributes::~SecurityAttributes() {
  if (descriptor_ != nullptr) ::LocalFree(descriptor_);
}

bool SecurityAttributes::parse(const std::string& sddl, const std::string& what, Failure& failure) {
  if (sddl.empty()) return true;
  if (!::ConvertStringSecurityDescriptorToSecurityDescriptorW(widen(sddl).c_str(), SDDL_REVISION_1,
                                                              &descriptor_, nullptr)) {
    const DWORD e = ::GetLastError();
    descriptor_ = nullptr;
    failure.set(errc::invalid_argument,
                what + ": ObjectOptions::security_descriptor \"" + sddl +
                    "\" is not a valid SDDL string (" + describe_win32_error(e) +
                    "); write one such as \"D:P(A;;GA;;;BA)(A;;GA;;;OW)\", or leave it empty "
                    "for the default DACL");
    return false;
  }
  attributes_.nLength = sizeof attributes_;
  attributes_.lpSecurityDescriptor = descriptor_;
  attributes_.bInheritHandle = FALSE;
  return true;
}

}  // namespace detail
SHMKIT_END_NAMESPACE
