// SECURITY_ATTRIBUTES built from ObjectOptions::security_descriptor (SDDL). Empty
// SDDL means the creator's default DACL, i.e. a null SECURITY_ATTRIBUTES.
#pragma once

#include <shmkit/config.hpp>

#include "core/failure.hpp"

#include <windows.h>

#include <string>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

class SecurityAttributes {
 public:
  SecurityAttributes() = default;
  SecurityAttributes(const SecurityAttributes&) = delete;
  SecurityAttributes& operator=(const SecurityAttributes&) = delete;
  ~SecurityAttributes();

  // Returns false with errc::invalid_argument in `failure` if `sddl` does not
  // parse; `what` names the object for the message.
  bool parse(const std::string& sddl, const std::string& what, Failure& failure);

  SECURITY_ATTRIBUTES* get() noexcept { return descriptor_ != nullptr ? &attributes_ : nullptr; }

 private:
  PSECURITY_DESCRIPTOR descriptor_ = nullptr;
  SECURITY_ATTRIBUTES attributes_{};
};

}  // namespace detail
SHMKIT_END_NAMESPACE
