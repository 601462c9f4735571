// First stand-in for the managed segment: the API compiles and links; every
// operation reports errc::invalid_state until the heap lands.
#include <shmkit/managed_segment.hpp>

#include "core/error_wrappers.hpp"

SHMKIT_BEGIN_NAMESPACE
namespace {

ManagedSegment not_yet(detail::Failure& failure) {
  failure.set(errc::invalid_state, "managed segments are not implemented yet");
  return ManagedSegment();
}

}  // namespace

ManagedSegment ManagedSegment::create(std::string_view, std::size_t, const SegmentOptions&) {
  return detail::throwing([&](detail::Failure& f) { return not_yet(f); });
}
ManagedSegment ManagedSegment::create(std::string_view, std::size_t, const SegmentOptions&,
                                      std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](detail::Failure& f) { return not_yet(f); });
}
ManagedSegment ManagedSegment::open(std::string_view, const SegmentOptions&) {
  return detail::throwing([&](detail::Failure& f) { return not_yet(f); });
}
ManagedSegment ManagedSegment::open(std::string_view, const SegmentOptions&,
                                    std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](detail::Failure& f) { return not_yet(f); });
}
ManagedSegment ManagedSegment::open_or_create(std::string_view, std::size_t,
                                              const SegmentOptions&) {
  return detail::throwing([&](detail::Failure& f) { return not_yet(f); });
}
ManagedSegment ManagedSegment::open_or_create(std::string_view, std::size_t, const SegmentOptions&,
                                              std::error_code& ec) noexcept {
  return detail::without_throwing(ec, [&](detail::Failure& f) { return not_yet(f); });
}
bool ManagedSegment::remove(std::string_view, const SegmentOptions&) {
  return false;
}
bool ManagedSegment::remove(std::string_view, const SegmentOptions&, std::error_code& ec) noexcept {
  ec.clear();
  return false;
}
bool ManagedSegment::exists(std::string_view, const SegmentOptions&) {
  return false;
}
bool ManagedSegment::exists(std::string_view, const SegmentOptions&, std::error_code& ec) noexcept {
  ec.clear();
  return false;
}
ManagedSegment::ManagedSegment(ManagedSegment&& other) noexcept : impl_(other.impl_) {
  other.impl_ = nullptr;
}
ManagedSegment& ManagedSegment::operator=(ManagedSegment&& other) noexcept {
  std::swap(impl_, other.impl_);
  return *this;
}
ManagedSegment::~ManagedSegment() {
  close();
}
void ManagedSegment::close() noexcept {}
void* ManagedSegment::allocate(std::size_t, std::size_t) {
  return nullptr;
}
void* ManagedSegment::allocate(std::size_t, std::error_code& ec) noexcept {
  ec = errc::invalid_state;
  return nullptr;
}
void* ManagedSegment::allocate(std::size_t, std::size_t, std::error_code& ec) noexcept {
  ec = errc::invalid_state;
  return nullptr;
}
void ManagedSegment::deallocate(void*) {}
void ManagedSegment::deallocate(void*, std::error_code& ec) noexcept {
  ec = errc::invalid_state;
}
std::size_t ManagedSegment::size() const noexcept {
  return 0;
}
std::size_t ManagedSegment::free_memory() const noexcept {
  return 0;
}
std::size_t ManagedSegment::used_memory() const noexcept {
  return 0;
}
HeapCheck ManagedSegment::check() const {
  return {};
}
HeapCheck ManagedSegment::check(std::error_code& ec) const noexcept {
  ec = errc::invalid_state;
  return {};
}
NamedSharedMemory& ManagedSegment::segment() noexcept {
  static NamedSharedMemory none;
  return none;
}
const NamedSharedMemory& ManagedSegment::segment() const noexcept {
  static const NamedSharedMemory none;
  return none;
}
const std::string& ManagedSegment::name() const noexcept {
  static const std::string none;
  return none;
}
bool ManagedSegment::created() const noexcept {
  return false;
}
void* ManagedSegment::named_object(std::string_view, const detail::ManagedType&, detail::NamedMode,
                                   detail::NamedConstructor, void*, std::error_code* ec) {
  if (ec != nullptr) *ec = errc::invalid_state;
  return nullptr;
}
bool ManagedSegment::destroy_named(std::string_view, const detail::ManagedType&,
                                   detail::NamedDestructor, std::error_code* ec) {
  if (ec != nullptr) *ec = errc::invalid_state;
  return false;
}

namespace detail {
void* heap_allocate(const HeapHeader*, std::size_t, std::size_t, std::size_t) {
  Failure failure;
  failure.set(errc::invalid_state, "managed segments are not implemented yet");
  failure.raise();
}
void heap_deallocate(const HeapHeader*, void*) noexcept {}
bool heap_contains(const HeapHeader*, const void*, std::size_t) noexcept {
  return false;
}
HeapHeader* heap_of(const ManagedSegment&) noexcept {
  return nullptr;
}
}  // namespace detail
SHMKIT_END_NAMESPACE
