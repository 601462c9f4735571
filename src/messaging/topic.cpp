#include <shmkit/topic.hpp>

#include "core/error_wrappers.hpp"
#include "messaging/ring_endpoint.hpp"
#include "messaging/topic_core.hpp"
#include "messaging/topic_segment.hpp"
#include "segment/segment_options.hpp"

#include <shmkit/lifecycle.hpp>
#include <shmkit/named_shared_memory.hpp>
#include <shmkit/segment_info.hpp>

#include <memory>
#include <utility>

SHMKIT_BEGIN_NAMESPACE
namespace detail {

struct TopicImpl {
  std::shared_ptr<TopicSegment> topic;
};

namespace {

TopicImpl* open_topic(std::string_view name, const TopicConfig* config, OpenMode mode,
                      const TopicOptions& options, Failure& f) {
  auto topic = open_topic_segment(name, config, mode, options, false, f);
  if (f) return nullptr;
  return new TopicImpl{std::move(topic)};
}

// errc::wrong_kind when the name holds a finished object of another kind
// (so that Topic::remove never removes someone's ring or segment).
bool another_kind(std::string_view name, const SegmentOptions& options, Failure& f) {
  std::error_code ec;
  const SegmentInfo info = inspect_segment(name, options, ec);
  if (ec || info.state != HeaderState::ready || info.kind == ObjectKind::topic) return false;
  f.set(errc::wrong_kind, quoted(std::string(name)) + " is a " + to_string(info.kind) +
                              ", not a topic: every shmkit object needs a name of its own");
  return true;
}

bool remove_topic(std::string_view name, const ObjectOptions& options, Failure& f) {
  if (!check_topic_name(name, f)) return false;
  const SegmentOptions segment = segment_options_for(options);
  if (another_kind(name, segment, f)) return false;
  return remove_topic_segments(std::string(name), segment, f);
}

bool topic_exists(std::string_view name, const ObjectOptions& options, Failure& f) {
  if (!check_topic_name(name, f)) return false;
  const SegmentOptions segment = segment_options_for(options);
  if (another_kind(name, segment, f)) return false;
  return NamedSharedMemory::exists(name, segment, f.code);
}

}  // namespace
}  // namespace detail

using detail::Failure;
using detail::OpenMode;

Topic Topic::create(std::string_view name, const TopicConfig& config, const TopicOptions& options) {
  return Topic(detail::throwing(
      [&](Failure& f) { return detail::open_topic(name, &config, OpenMode::create, options, f); }));
}
Topic Topic::create(std::string_view name, const TopicConfig& config, const TopicOptions& options,
                    std::error_code& ec) noexcept {
  return Topic(detail::without_throwing(ec, [&](Failure& f) {
    return detail::open_topic(name, &config, OpenMode::create, options, f);
  }));
}
Topic Topic::open(std::string_view name, const TopicOptions& options) {
  return Topic(detail::throwing(
      [&](Failure& f) { return detail::open_topic(name, nullptr, OpenMode::open, options, f); }));
}
Topic Topic::open(std::string_view name, const TopicOptions& options,
                  std::error_code& ec) noexcept {
  return Topic(detail::without_throwing(ec, [&](Failure& f) {
    return detail::open_topic(name, nullptr, OpenMode::open, options, f);
  }));
}
Topic Topic::open_or_create(std::string_view name, const TopicConfig& config,
                            const TopicOptions& options) {
  return Topic(detail::throwing([&](Failure& f) {
    return detail::open_topic(name, &config, OpenMode::open_or_create, options, f);
  }));
}
Topic Topic::open_or_create(std::string_view name, const TopicConfig& config,
                            const TopicOptions& options, std::error_code& ec) noexcept {
  return Topic(detail::without_throwing(ec, [&](Failure& f) {
    return detail::open_topic(name, &config, OpenMode::open_or_create, options, f);
  }));
}
bool Topic::remove(std::string_view name, const ObjectOptions& options) {
  return detail::throwing([&](Failure& f) { return detail::remove_topic(name, options, f); });
}
bool Topic::remove(std::string_view name, const ObjectOptions& options,
                   std::error_code& ec) noexcept {
  return detail::without_throwing(
      ec, [&](Failure& f) { return detail::remove_topic(name, options, f); });
}
bool Topic::exists(std::string_view name, const ObjectOptions& options) {
  return detail::throwing([&](Failure& f) { return detail::topic_exists(name, options, f); });
}
bool Topic::exists(std::string_view name, const ObjectOptions& options,
                   std::error_code& ec) noexcept {
  return detail::without_throwing(
      ec, [&](Failure& f) { return detail::topic_exists(name, options, f); });
}

Topic::Topic(Topic&& other) noexcept : impl_(std::exchange(other.impl_, nullptr)) {}
Topic& Topic::operator=(Topic&& other) noexcept {
  if (this != &other) {
    close();
    impl_ = std::exchange(other.impl_, nullptr);
  }
  return *this;
}
Topic::~Topic() {
  close();
}
void Topic::close() noexcept {
  delete std::exchange(impl_, nullptr);
}

const std::string& Topic::name() const noexcept {
  static const std::string empty;
  return impl_ != nullptr ? impl_->topic->name : empty;
}
TopicConfig Topic::config() const noexcept {
  return impl_ != nullptr ? impl_->topic->config : TopicConfig{};
}
std::size_t Topic::free_samples() const noexcept {
  return impl_ != nullptr ? detail::free_sample_count(*impl_->topic) : 0;
}
std::size_t Topic::publisher_count() const noexcept {
  return impl_ != nullptr ? detail::live_publishers(*impl_->topic) : 0;
}
std::size_t Topic::subscriber_count() const noexcept {
  return impl_ != nullptr ? detail::live_subscribers(*impl_->topic) : 0;
}

SHMKIT_END_NAMESPACE
