// NamedSharedMemory's members. How a segment is created and opened is in
// segment_open.cpp; this file holds the handle.
#include <shmkit/named_shared_memory.hpp>

#include <shmkit/name.hpp>

#include "core/error_wrappers.hpp"
#include "core/failure.hpp"
#include "core/name_check.hpp"
#include "core/process_identity.hpp"
#include "segment/named_shared_memory_impl.hpp"
#include "segment/segment_access.hpp"
#include "segment/segment_backend.hpp"
#include "segment/segment_header.hpp"

#include <string>
#include <utility>

SHMKIT_BEGIN_NAMESPACE

using detail::Failure;
using detail::OpenMode;
using detail::SegmentAccess;

namespace {

// remove() and exists() share the name check and the backend lookup.
template <typename Op>
bool by_name(std::string_view name_view, const SegmentOptions& options, Failure& f, Op op) {
  const std::string name(name_view);
  if (!detail::check_name(name, f)) return false;
  detail::SegmentBackend* backend = detail::find_backend(options.backend, f);
  return backend != nullptr && op(*backend, name);
}

bool remove_impl(std::string_view name, const SegmentOptions& options, Failure& f) {
  return by_name(name, options, f,
                 [&](auto& b, const std::string& n) { return b.remove(n, options, f); });
}

bool exists_impl(std::string_view name, const SegmentOptions& options, Failure& f) {
  return by_name(name, options, f,
                 [&](auto& b, const std::string& n) { return b.exists(n, options, f); });
}

void refuse_empty(Failure& f, const char* call) {
  f.set(shmkit::errc::invalid_state,
        std::string("NamedSharedMemory::") + call +
            "() on an empty handle: open or create the segment first, and do not use a handle "
            "after moving from it or closing it");
}

}  // namespace

namespace detail {

bool remove_segment(std::string_view name_view, const SegmentOptions& options, Failure& failure) {
  const std::string name(name_view);
  if (!check_derived_name(name, failure)) return false;
  SegmentBackend* backend = find_backend(options.backend, failure);
  return backend != nullptr && backend->remove(name, options, failure);
}

}  // namespace detail

NamedSharedMemory NamedSharedMemory::create(std::string_view name, std::size_t size,
                                            const SegmentOptions& options) {
  return detail::throwing([&](Failure& f) {
    return SegmentAccess::open(name, size, options, OpenMode::create, {}, f);
  });
}

NamedSharedMemory NamedSharedMemory::create(std::string_view name, std::size_t size,
                                            const SegmentOptions& options,
                                            std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) {
    return SegmentAccess::open(name, size, options, OpenMode::create, {}, f);
  });
}

NamedSharedMemory NamedSharedMemory::open(std::string_view name, const SegmentOptions& options) {
  return detail::throwing(
      [&](Failure& f) { return SegmentAccess::open(name, 0, options, OpenMode::open, {}, f); });
}

NamedSharedMemory NamedSharedMemory::open(std::string_view name, const SegmentOptions& options,
                                          std::error_code& ec) noexcept {
  return detail::without_throwing(
      ec, [&](Failure& f) { return SegmentAccess::open(name, 0, options, OpenMode::open, {}, f); });
}

NamedSharedMemory NamedSharedMemory::open_or_create(std::string_view name, std::size_t size,
                                                    const SegmentOptions& options) {
  return detail::throwing([&](Failure& f) {
    return SegmentAccess::open(name, size, options, OpenMode::open_or_create, {}, f);
  });
}

NamedSharedMemory NamedSharedMemory::open_or_create(std::string_view name, std::size_t size,
                                                    const SegmentOptions& options,
                                                    std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) {
    return SegmentAccess::open(name, size, options, OpenMode::open_or_create, {}, f);
  });
}

bool NamedSharedMemory::remove(std::string_view name, const SegmentOptions& options) {
  return detail::throwing([&](Failure& f) { return remove_impl(name, options, f); });
}

bool NamedSharedMemory::remove(std::string_view name, const SegmentOptions& options,
                               std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) { return remove_impl(name, options, f); });
}

bool NamedSharedMemory::exists(std::string_view name, const SegmentOptions& options) {
  return detail::throwing([&](Failure& f) { return exists_impl(name, options, f); });
}

bool NamedSharedMemory::exists(std::string_view name, const SegmentOptions& options,
                               std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](Failure& f) { return exists_impl(name, options, f); });
}

NamedSharedMemory::NamedSharedMemory(NamedSharedMemory&& other) noexcept
    : impl_(std::exchange(other.impl_, nullptr)) {}

NamedSharedMemory& NamedSharedMemory::operator=(NamedSharedMemory&& other) noexcept {
  if (this != &other) {
    close();
    impl_ = std::exchange(other.impl_, nullptr);
  }
  return *this;
}

NamedSharedMemory::~NamedSharedMemory() {
  close();
}

void NamedSharedMemory::close() noexcept {
  if (impl_ == nullptr) return;
  detail::NamedSharedMemoryImpl* impl = std::exchange(impl_, nullptr);
  // A forked child holds a copy of the parent's mapping: the attach-table
  // entry and the name are the parent's, and only the copy is the child's.
  const bool owner = detail::current_process().pid == impl->owner_pid;
  if (owner && impl->attach_token != 0) {
    detail::release_attach_slot(impl->mapping, impl->attach_slot, impl->attach_token);
  }
  Failure ignored;
  if (detail::SegmentBackend* backend = detail::find_backend(impl->backend, ignored)) {
    detail::Mapping m{impl->mapping, impl->mapping_length, impl->handle};
    backend->close(m);
    if (owner && impl->unlink_on_close) {
      SegmentOptions options;
      options.backend = impl->backend;
      options.raw = impl->raw;
      try {
        backend->remove(impl->name, options, ignored);
      } catch (...) {
        // Closing never throws; a name we failed to remove is still listed
        // by the tools and removable by hand.
      }
    }
  }
  delete impl;
}

namespace {
const std::string k_no_name;
}  // namespace

void* NamedSharedMemory::data() const noexcept {
  return impl_ != nullptr ? impl_->data : nullptr;
}

std::size_t NamedSharedMemory::size() const noexcept {
  return impl_ != nullptr ? impl_->size : 0;
}

const std::string& NamedSharedMemory::name() const noexcept {
  return impl_ != nullptr ? impl_->name : k_no_name;
}

Backend NamedSharedMemory::backend() const noexcept {
  return impl_ != nullptr ? impl_->backend : Backend::native;
}

Access NamedSharedMemory::access() const noexcept {
  return impl_ != nullptr ? impl_->access : Access::read_write;
}

bool NamedSharedMemory::created() const noexcept {
  return impl_ != nullptr && impl_->created;
}

bool NamedSharedMemory::raw() const noexcept {
  return impl_ != nullptr && impl_->raw;
}

NativeHandle NamedSharedMemory::native_handle() const noexcept {
  return impl_ != nullptr ? impl_->handle : NativeHandle{-1};
}

std::vector<AttachedProcess> NamedSharedMemory::attached_processes() const {
  return detail::throwing([&](Failure& f) -> std::vector<AttachedProcess> {
    if (impl_ == nullptr) {
      refuse_empty(f, "attached_processes");
      return {};
    }
    if (impl_->raw) return {};
    return detail::read_attach_table(impl_->mapping);
  });
}

std::vector<AttachedProcess> NamedSharedMemory::attached_processes(
    std::error_code& ec) const noexcept {
  return detail::without_throwing(ec, [&](Failure& f) -> std::vector<AttachedProcess> {
    if (impl_ == nullptr) {
      refuse_empty(f, "attached_processes");
      return {};
    }
    if (impl_->raw) return {};
    return detail::read_attach_table(impl_->mapping);
  });
}

SHMKIT_END_NAMESPACE
