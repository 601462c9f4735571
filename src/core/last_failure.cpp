#include "core/last_failure.hpp"

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

struct LastFailure {
  std::error_code code;
  std::string sentence;
};

LastFailure& last_failure() noexcept {
  thread_local LastFailure record;
  return record;
}

}  // namespace

void record_failure(const std::error_code& code, std::string_view sentence) noexcept {
  LastFailure& record = last_failure();
  try {
    record.sentence = sentence;
    record.code = code;
  } catch (...) {
    record.sentence.clear();
    record.code.clear();
  }
}

void forget_failure() noexcept {
  // The code alone: the sentence's buffer is kept for the next failure.
  last_failure().code.clear();
}

std::string last_failure_sentence(const std::error_code& code) {
  const LastFailure& record = last_failure();
  return record.code == code ? record.sentence : std::string();
}

}  // namespace detail
SHMKIT_END_NAMESPACE
