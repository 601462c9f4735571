// The sentence of the last failure reported through an std::error_code& on
// this thread, so that error_message(ec) can give an error_code caller the
// same text an exception would have carried.
#pragma once

#include <shmkit/config.hpp>

#include <string>
#include <string_view>
#include <system_error>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

// Records `sentence` as the text of `code`. Never throws: if the copy cannot
// be made, the record is cleared and error_message falls back to the code.
void record_failure(const std::error_code& code, std::string_view sentence) noexcept;

// Clears the record: error_message falls back to ec.message() until the next
// failure is recorded.
void forget_failure() noexcept;

// The recorded sentence if `code` is the recorded code, else empty.
std::string last_failure_sentence(const std::error_code& code);

}  // namespace detail
SHMKIT_END_NAMESPACE
