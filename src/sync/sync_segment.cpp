#include "sync/sync_segment.hpp"
#include "core/name_check.hpp"

#include <shmkit/name.hpp>

#include <cstring>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

struct InitContext {
  const SyncRequest* request;
  const std::string* name;
  const SegmentOptions* options;
  std::vector<std::unique_ptr<WordWaiter>>* waiters;
};

void make_waiters(const std::string& name, unsigned slots, bool create,
                  const SegmentOptions& options, std::vector<std::unique_ptr<WordWaiter>>& waiters,
                  Failure& failure) {
  for (unsigned slot = 0; slot < slots && !failure; ++slot) {
    waiters.push_back(make_word_waiter(name, slot, create, options, failure));
  }
}

void initialize(void* data, std::size_t, const void* context, Failure& failure) {
  const auto& c = *static_cast<const InitContext*>(context);
  auto* preamble = static_cast<SyncPreamble*>(data);
  preamble->layout = c.request->layout;
  preamble->waiter_kind = word_waiter_kind();
  // The waiter exists before the object is published, so an opener can
  // always open it.
  make_waiters(*c.name, c.request->waiter_slots, true, *c.options, *c.waiters, failure);
  if (failure) return;
  if (c.request->initialize != nullptr) {
    c.request->initialize(preamble + 1, c.request->context, failure);
  }
}

}  // namespace

SyncSegment open_sync_segment(const std::string& name, const SegmentOptions& options, OpenMode mode,
                              const SyncRequest& request, Failure& failure) {
  SyncSegment result;
  const char* what = kind_name(request.kind);
  if (options.raw || options.access == Access::read_only) {
    failure.set(errc::invalid_argument, std::string(what) + " " + quoted(name) +
                                            ": SegmentOptions::raw and Access::read_only apply to "
                                            "segments only; a " +
                                            what + " needs neither");
    return result;
  }
  const std::size_t size = sizeof(SyncPreamble) + request.state_size;
  InitContext context{&request, &name, &options, &result.waiters};
  SegmentRequest segment_request{request.kind, &initialize, &context};
  result.memory = open_segment(name, size, options, mode, segment_request, failure);
  if (failure) {
    if (failure.code == make_error_code(errc::size_mismatch) && request.size_is_version) {
      failure.set(errc::incompatible_layout,
                  std::string(what) + " " + quoted(name) +
                      " was made by another version of shmkit (its state has another size); "
                      "use one shmkit version for every process that shares it");
    }
    return result;
  }
  const bool any_size = request.state_size == 0 && mode == OpenMode::open;
  if (any_size ? result.memory.size() < sizeof(SyncPreamble) : result.memory.size() != size) {
    failure.set(errc::incompatible_layout,
                std::string(what) + " " + quoted(name) + " has a state of " +
                    std::to_string(result.memory.size()) + " bytes, expected " +
                    std::to_string(size) + ": it was made by another version of shmkit");
    return result;
  }
  SyncPreamble preamble;
  std::memcpy(&preamble, result.memory.data(), sizeof preamble);
  if (preamble.layout != request.layout || preamble.waiter_kind != word_waiter_kind()) {
    failure.set(errc::incompatible_layout,
                std::string(what) + " " + quoted(name) +
                    " was made by a shmkit built for another code path (the portable POSIX "
                    "build and the Linux futex build cannot share objects); build every "
                    "process the same way");
    result.memory.close();
    return result;
  }
  if (!result.memory.created()) {
    make_waiters(name, request.waiter_slots, false, options, result.waiters, failure);
    if (failure) return result;
  }
  result.state = static_cast<char*>(result.memory.data()) + sizeof(SyncPreamble);
  result.state_size = result.memory.size() - sizeof(SyncPreamble);
  return result;
}

bool remove_sync_segment(const std::string& name, const SegmentOptions& options,
                         unsigned waiter_slots, Failure& failure) {
  Failure removal;
  const bool removed = remove_segment(name, options, removal);
  if (removal) {
    failure.set(removal.code, "remove " + quoted(name) + " failed");
    return false;
  }
  for (unsigned slot = 0; slot < waiter_slots; ++slot) remove_word_waiter(name, slot, options);
  return removed;
}

}  // namespace detail
SHMKIT_END_NAMESPACE
