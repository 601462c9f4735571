#pragma once

#include "failure.hpp"

#include <string_view>

namespace shmkit::detail {

// Sets errc::invalid_name with the rule in the message; false if invalid.
bool check_name(std::string_view name, Failure& failure);

}  // namespace shmkit::detail
