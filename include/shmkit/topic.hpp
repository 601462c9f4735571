// Publish/subscribe over a zero-copy sample pool: the Topic handle, which
// creates, inspects and removes a topic. Publishers and subscribers are in
// publisher.hpp and subscriber.hpp, typed wrappers in typed_topic.hpp.
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/errc.hpp>
#include <shmkit/export.hpp>
#include <shmkit/topic_options.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

SHMKIT_BEGIN_NAMESPACE

namespace detail {
struct TopicImpl;
}  // namespace detail

// A topic is a named service: a pool of sample_count samples of sample_size
// bytes, allocated once when the topic is created, and one receive queue per
// subscriber. Publishers loan a sample, write it and publish it; every
// attached subscriber then gets a reference to the same bytes (no copy), and
// the sample returns to the pool when its last holder drops it.
//
// A topic lives in two segments: "<name>" (kind topic: the control state,
// queues and reference counts) and "<name>.p" (kind topic_pool: the samples).
// Subscribers and Topic handles map the pool read-only, so nothing but a
// publisher can change a sample.
//
// A Topic handle takes no role: it creates the topic (publishers may also
// create it with open_or_create), tells its shape and occupancy, and
// removes it. It never writes a sample.
//
// Threads: a handle's const members may be called from any number of
// threads; creating, moving, assigning and destroying a handle must not
// overlap other calls on it. Fork: a forked child may use or destroy an
// inherited handle (it holds no role).
//
// Names: 1-k_max_name_length characters (see name.hpp); shmkit derives
// "<name>.p" for the pool and, where there is no futex, "<name>.N" for the
// wake-ups, which always fit.
class SHMKIT_EXPORT Topic {
 public:
  // ---- factories ---------------------------------------------------------
  // create: a new topic with `config` (errc::already_exists if the name is
  // taken; errc::invalid_size for a field out of its range, topic_options.hpp;
  // OS errors such as no space left when the pool cannot be reserved).
  // open: an existing one (errc::not_found; errc::corrupted when its control
  // state does not describe a valid topic). open_or_create: either;
  // errc::size_mismatch when it exists with another config.
  // Errors of all: errc::invalid_name, errc::wrong_kind,
  // errc::incompatible_layout, errc::untrusted_owner,
  // errc::insecure_permissions, OS errors.
  [[nodiscard]] static Topic create(std::string_view name, const TopicConfig& config,
                                    const TopicOptions& options = {});
  [[nodiscard]] static Topic create(std::string_view name, const TopicConfig& config,
                                    const TopicOptions& options, std::error_code& ec) noexcept;
  [[nodiscard]] static Topic open(std::string_view name, const TopicOptions& options = {});
  [[nodiscard]] static Topic open(std::string_view name, const TopicOptions& options,
                                  std::error_code& ec) noexcept;
  [[nodiscard]] static Topic open_or_create(std::string_view name, const TopicConfig& config,
                                            const TopicOptions& options = {});
  [[nodiscard]] static Topic open_or_create(std::string_view name, const TopicConfig& config,
                                            const TopicOptions& options,
                                            std::error_code& ec) noexcept;
  // Removes both segments and the wake-ups (handles still open keep
  // working); false if there was no topic. Errors: errc::invalid_name,
  // errc::wrong_kind, OS errors.
  static bool remove(std::string_view name, const ObjectOptions& options = {});
  static bool remove(std::string_view name, const ObjectOptions& options,
                     std::error_code& ec) noexcept;
  // Whether a topic of this name exists. Errors: errc::invalid_name,
  // errc::wrong_kind (the name is another kind's).
  [[nodiscard]] static bool exists(std::string_view name, const ObjectOptions& options = {});
  [[nodiscard]] static bool exists(std::string_view name, const ObjectOptions& options,
                                   std::error_code& ec) noexcept;

  Topic() noexcept = default;  // empty: every member gives 0, "" or a default TopicConfig
  Topic(Topic&& other) noexcept;
  Topic& operator=(Topic&& other) noexcept;
  Topic(const Topic&) = delete;
  Topic& operator=(const Topic&) = delete;
  ~Topic();
  void close() noexcept;

  // ---- state (0, "" or TopicConfig{} on an empty handle) -----------------
  bool is_open() const noexcept { return impl_ != nullptr; }
  explicit operator bool() const noexcept { return is_open(); }
  const std::string& name() const noexcept;
  // The validated config the topic was created with.
  TopicConfig config() const noexcept;
  // Samples nobody holds now (not on loan, queued, received or kept for
  // history; a publisher's spare, claimed ahead of its next loan, counts as
  // free: any loan may take it). A snapshot: it may change as soon as it is
  // returned.
  std::size_t free_samples() const noexcept;
  // Publishers and subscribers attached now whose processes are alive.
  std::size_t publisher_count() const noexcept;
  std::size_t subscriber_count() const noexcept;

 private:
  explicit Topic(detail::TopicImpl* impl) noexcept : impl_(impl) {}

  detail::TopicImpl* impl_ = nullptr;
};

SHMKIT_END_NAMESPACE
