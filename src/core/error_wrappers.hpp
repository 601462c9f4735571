// The two faces of every public call: `throwing` raises the Failure as
// std::system_error with its full sentence; `without_throwing` hands the code
// to an std::error_code& and never lets an exception out, recording the
// sentence for error_message(ec).
#pragma once

#include <shmkit/config.hpp>

#include "core/failure.hpp"
#include "core/last_failure.hpp"

#include <new>
#include <system_error>
#include <utility>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

// Hands `failure` to an error_code caller: its code in `ec`, its sentence to
// error_message(ec) (may throw std::bad_alloc, which the caller catches). A success forgets the
// last failure's sentence, so that it is never given for a code a later call or another library
// produced.
inline void report(std::error_code& ec, const Failure& failure) {
  ec = failure.code;
  if (failure) {
    record_failure(ec, failure.sentence());
  } else {
    forget_failure();
  }
}

template <typename Fn>
auto without_throwing(std::error_code& ec, Fn&& fn) noexcept
    -> decltype(fn(std::declval<Failure&>())) {
  using Result = decltype(fn(std::declval<Failure&>()));
  try {
    Failure failure;
    if constexpr (std::is_void_v<Result>) {
      fn(failure);
      report(ec, failure);
      return;
    } else {
      Result result = fn(failure);
      report(ec, failure);
      return result;
    }
  } catch (const std::bad_alloc&) {
    ec = std::make_error_code(std::errc::not_enough_memory);
    forget_failure();
  } catch (const std::system_error& e) {
    ec = e.code();
    record_failure(ec, e.what());
  } catch (...) {
    ec = std::make_error_code(std::errc::io_error);
    forget_failure();
  }
  if constexpr (!std::is_void_v<Result>) return Result{};
}

template <typename Fn>
auto throwing(Fn&& fn) -> decltype(fn(std::declval<Failure&>())) {
  Failure failure;
  if constexpr (std::is_void_v<decltype(fn(failure))>) {
    fn(failure);
    if (failure) failure.raise();
  } else {
    auto result = fn(failure);
    if (failure) failure.raise();
    return result;
  }
}

}  // namespace detail
SHMKIT_END_NAMESPACE
