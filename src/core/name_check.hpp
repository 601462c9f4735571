#pragma once

#include <shmkit/config.hpp>

#include "core/failure.hpp"

#include <string_view>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

// Sets errc::invalid_name with the rule in the message; false if invalid.
bool check_name(std::string_view name, Failure& failure);

}  // namespace detail
SHMKIT_END_NAMESPACE
