// Local\name or Global\name: where every shmkit object lives on Win32.
#pragma once

#include "win32/os_error.hpp"

#include <shmkit/options.hpp>

#include <string>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

inline std::wstring kernel_object_name(const std::string& name, Scope scope) {
  return (scope == Scope::global ? L"Global\\" : L"Local\\") + widen(name);
}

}  // namespace detail
SHMKIT_END_NAMESPACE
