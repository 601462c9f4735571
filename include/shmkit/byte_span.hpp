// Views of bytes inside a shared mapping (C++17 has no std::span).
#pragma once

#include <shmkit/config.hpp>

#include <cstddef>

SHMKIT_BEGIN_NAMESPACE

struct ByteSpan {
  std::byte* data = nullptr;
  std::size_t size = 0;
  explicit operator bool() const noexcept { return data != nullptr; }
};

struct ConstByteSpan {
  const std::byte* data = nullptr;
  std::size_t size = 0;
  ConstByteSpan() = default;
  ConstByteSpan(const std::byte* d, std::size_t s) noexcept : data(d), size(s) {}
  ConstByteSpan(const void* d, std::size_t s) noexcept
      : data(static_cast<const std::byte*>(d)), size(s) {}
  ConstByteSpan(ByteSpan s) noexcept : data(s.data), size(s.size) {}  // NOLINT: a widening view
  explicit operator bool() const noexcept { return data != nullptr; }
};

SHMKIT_END_NAMESPACE
