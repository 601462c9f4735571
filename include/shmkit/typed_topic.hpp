// Typed publish/subscribe: TypedPublisher<T> and TypedSubscriber<T> over a
// Topic whose samples hold one T each (see topic.hpp, publisher.hpp and
// subscriber.hpp for everything the untyped classes promise).
#pragma once

#include <shmkit/config.hpp>

#include <shmkit/deadline.hpp>
#include <shmkit/errc.hpp>
#include <shmkit/error.hpp>
#include <shmkit/publisher.hpp>
#include <shmkit/subscriber.hpp>
#include <shmkit/topic_options.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

SHMKIT_BEGIN_NAMESPACE

// The type_id a topic of T has (TopicConfig::type_id): a hash of sizeof(T),
// alignof(T) and `schema_id` (TopicOptions::schema_id).
template <typename T>
constexpr std::uint64_t topic_type_id(std::uint64_t schema_id = 0) noexcept {
  return topic_type_id(sizeof(T), alignof(T), schema_id);
}

// A T on loan (TypedPublisher<T>::loan). Its bytes are what the sample last
// held (T is not constructed): assign the whole value, or every field.
template <typename T>
class TypedLoan {
 public:
  TypedLoan() noexcept = default;
  explicit TypedLoan(Loan loan) noexcept : loan_(std::move(loan)) {}

  T& value() const noexcept { return *reinterpret_cast<T*>(loan_.data()); }
  T& operator*() const noexcept { return value(); }
  T* operator->() const noexcept { return &value(); }
  explicit operator bool() const noexcept { return static_cast<bool>(loan_); }
  // The untyped loan, for Publisher::publish.
  Loan& untyped() noexcept { return loan_; }

 private:
  Loan loan_;
};

// A received T (TypedSubscriber<T>::receive), read-only like every Sample.
template <typename T>
class TypedSample {
 public:
  TypedSample() noexcept = default;
  explicit TypedSample(Sample sample) noexcept : sample_(std::move(sample)) {}

  const T& value() const noexcept { return *reinterpret_cast<const T*>(sample_.data()); }
  const T& operator*() const noexcept { return value(); }
  const T* operator->() const noexcept { return &value(); }
  std::uint64_t sequence() const noexcept { return sample_.sequence(); }
  explicit operator bool() const noexcept { return static_cast<bool>(sample_); }
  const Sample& untyped() const noexcept { return sample_; }

 private:
  Sample sample_;
};

// auto pub = TypedPublisher<Pose>::open_or_create("poses", {0, 64});
// pub.publish_copy(pose);
// auto loan = pub.loan(); loan->x = 1; pub.publish(std::move(loan));
//
// T is any trivially copyable type of alignment up to 64. The topic must have
// been created for T: config().type_id == topic_type_id<T>(options.schema_id)
// and sample_size >= sizeof(T), else errc::type_mismatch (open_or_create
// fills both in when it creates the topic).
template <typename T>
class TypedPublisher {
  static_assert(std::is_trivially_copyable_v<T>,
                "a topic shares T's bytes between processes: T must be trivially copyable");
  static_assert(alignof(T) <= 64, "samples are aligned to 64 bytes");

 public:
  // Errors: as Publisher::open, and errc::type_mismatch.
  [[nodiscard]] static TypedPublisher open(std::string_view topic_name,
                                           const PublisherOptions& options = {}) {
    const detail::TopicType type = type_of(options);
    return TypedPublisher(Publisher::open_at(topic_name, nullptr, options, &type, nullptr));
  }
  [[nodiscard]] static TypedPublisher open(std::string_view topic_name,
                                           const PublisherOptions& options,
                                           std::error_code& ec) noexcept {
    const detail::TopicType type = type_of(options);
    return TypedPublisher(Publisher::open_at(topic_name, nullptr, options, &type, &ec));
  }
  // `config`'s sample_size and type_id are set for T.
  [[nodiscard]] static TypedPublisher open_or_create(std::string_view topic_name,
                                                     TopicConfig config,
                                                     const PublisherOptions& options = {}) {
    const detail::TopicType type = type_of(options);
    config.sample_size = sizeof(T);
    config.type_id = type.type_id;
    return TypedPublisher(Publisher::open_at(topic_name, &config, options, &type, nullptr));
  }
  [[nodiscard]] static TypedPublisher open_or_create(std::string_view topic_name,
                                                     TopicConfig config,
                                                     const PublisherOptions& options,
                                                     std::error_code& ec) noexcept {
    const detail::TopicType type = type_of(options);
    config.sample_size = sizeof(T);
    config.type_id = type.type_id;
    return TypedPublisher(Publisher::open_at(topic_name, &config, options, &type, &ec));
  }

  TypedPublisher() noexcept = default;

  // ---- loan: a sample for one T (as Publisher::loan) ---------------------
  TypedLoan<T> loan() { return TypedLoan<T>(publisher_.loan(sizeof(T))); }
  [[nodiscard]] TypedLoan<T> try_loan() { return TypedLoan<T>(publisher_.try_loan(sizeof(T))); }
  template <class Rep, class Period>
  [[nodiscard]] TypedLoan<T> loan_for(const std::chrono::duration<Rep, Period>& timeout) {
    return TypedLoan<T>(publisher_.loan_for(sizeof(T), timeout));
  }
  template <class Clock, class Duration>
  [[nodiscard]] TypedLoan<T> loan_until(const std::chrono::time_point<Clock, Duration>& deadline) {
    return TypedLoan<T>(publisher_.loan_until(sizeof(T), deadline));
  }
  TypedLoan<T> loan(std::error_code& ec) noexcept {
    return TypedLoan<T>(publisher_.loan(sizeof(T), ec));
  }
  [[nodiscard]] TypedLoan<T> try_loan(std::error_code& ec) noexcept {
    return TypedLoan<T>(publisher_.try_loan(sizeof(T), ec));
  }
  template <class Rep, class Period>
  [[nodiscard]] TypedLoan<T> loan_for(const std::chrono::duration<Rep, Period>& timeout,
                                      std::error_code& ec) noexcept {
    return TypedLoan<T>(publisher_.loan_for(sizeof(T), timeout, ec));
  }
  template <class Clock, class Duration>
  [[nodiscard]] TypedLoan<T> loan_until(const std::chrono::time_point<Clock, Duration>& deadline,
                                        std::error_code& ec) noexcept {
    return TypedLoan<T>(publisher_.loan_until(sizeof(T), deadline, ec));
  }

  // ---- publish (as Publisher::publish) -----------------------------------
  void publish(TypedLoan<T>&& loan) { publisher_.publish(std::move(loan.untyped())); }
  [[nodiscard]] bool try_publish(TypedLoan<T>& loan) {
    return publisher_.try_publish(loan.untyped());
  }
  template <class Rep, class Period>
  [[nodiscard]] bool publish_for(TypedLoan<T>& loan,
                                 const std::chrono::duration<Rep, Period>& timeout) {
    return publisher_.publish_for(loan.untyped(), timeout);
  }
  template <class Clock, class Duration>
  [[nodiscard]] bool publish_until(TypedLoan<T>& loan,
                                   const std::chrono::time_point<Clock, Duration>& deadline) {
    return publisher_.publish_until(loan.untyped(), deadline);
  }
  void publish(TypedLoan<T>&& loan, std::error_code& ec) noexcept {
    publisher_.publish(std::move(loan.untyped()), ec);
  }
  [[nodiscard]] bool try_publish(TypedLoan<T>& loan, std::error_code& ec) noexcept {
    return publisher_.try_publish(loan.untyped(), ec);
  }
  template <class Rep, class Period>
  [[nodiscard]] bool publish_for(TypedLoan<T>& loan,
                                 const std::chrono::duration<Rep, Period>& timeout,
                                 std::error_code& ec) noexcept {
    return publisher_.publish_for(loan.untyped(), timeout, ec);
  }
  template <class Clock, class Duration>
  [[nodiscard]] bool publish_until(TypedLoan<T>& loan,
                                   const std::chrono::time_point<Clock, Duration>& deadline,
                                   std::error_code& ec) noexcept {
    return publisher_.publish_until(loan.untyped(), deadline, ec);
  }
  // loan() + copy + publish(), waiting for ever in both.
  void publish_copy(const T& value) { publisher_.publish_copy(&value, sizeof(T)); }
  void publish_copy(const T& value, std::error_code& ec) noexcept {
    publisher_.publish_copy(&value, sizeof(T), ec);
  }

  // ---- state -------------------------------------------------------------
  bool is_open() const noexcept { return publisher_.is_open(); }
  explicit operator bool() const noexcept { return is_open(); }
  const std::string& name() const noexcept { return publisher_.name(); }
  std::uint32_t generation() const noexcept { return publisher_.generation(); }
  std::size_t subscriber_count() const noexcept { return publisher_.subscriber_count(); }
  void close() noexcept { publisher_.close(); }
  // The untyped publisher underneath.
  Publisher& untyped() noexcept { return publisher_; }

 private:
  explicit TypedPublisher(Publisher publisher) noexcept : publisher_(std::move(publisher)) {}
  static detail::TopicType type_of(const PublisherOptions& options) noexcept {
    return detail::TopicType{topic_type_id<T>(options.schema_id), sizeof(T)};
  }

  Publisher publisher_;
};

// auto sub = TypedSubscriber<Pose>::open("poses");
// if (auto pose = sub.receive_for(std::chrono::seconds(1))) use(pose->x);
//
// T as TypedPublisher's; the topic must have been created for it
// (errc::type_mismatch otherwise).
template <typename T>
class TypedSubscriber {
  static_assert(std::is_trivially_copyable_v<T>,
                "a topic shares T's bytes between processes: T must be trivially copyable");
  static_assert(alignof(T) <= 64, "samples are aligned to 64 bytes");

 public:
  // Errors: as Subscriber::open, and errc::type_mismatch.
  [[nodiscard]] static TypedSubscriber open(std::string_view topic_name,
                                            const SubscriberOptions& options = {}) {
    const detail::TopicType type = type_of(options);
    return TypedSubscriber(Subscriber::open_at(topic_name, options, &type, nullptr));
  }
  [[nodiscard]] static TypedSubscriber open(std::string_view topic_name,
                                            const SubscriberOptions& options,
                                            std::error_code& ec) noexcept {
    const detail::TopicType type = type_of(options);
    return TypedSubscriber(Subscriber::open_at(topic_name, options, &type, &ec));
  }

  TypedSubscriber() noexcept = default;

  // ---- receive (as Subscriber::receive). A sample smaller than T (only an
  // untyped publisher can make one) is errc::type_mismatch.
  TypedSample<T> receive() { return typed(subscriber_.receive()); }
  [[nodiscard]] TypedSample<T> try_receive() { return typed(subscriber_.try_receive()); }
  template <class Rep, class Period>
  [[nodiscard]] TypedSample<T> receive_for(const std::chrono::duration<Rep, Period>& timeout) {
    return typed(subscriber_.receive_for(timeout));
  }
  template <class Clock, class Duration>
  [[nodiscard]] TypedSample<T> receive_until(
      const std::chrono::time_point<Clock, Duration>& deadline) {
    return typed(subscriber_.receive_until(deadline));
  }
  TypedSample<T> receive(std::error_code& ec) noexcept {
    return typed(subscriber_.receive(ec), ec);
  }
  [[nodiscard]] TypedSample<T> try_receive(std::error_code& ec) noexcept {
    return typed(subscriber_.try_receive(ec), ec);
  }
  template <class Rep, class Period>
  [[nodiscard]] TypedSample<T> receive_for(const std::chrono::duration<Rep, Period>& timeout,
                                           std::error_code& ec) noexcept {
    return typed(subscriber_.receive_for(timeout, ec), ec);
  }
  template <class Clock, class Duration>
  [[nodiscard]] TypedSample<T> receive_until(
      const std::chrono::time_point<Clock, Duration>& deadline, std::error_code& ec) noexcept {
    return typed(subscriber_.receive_until(deadline, ec), ec);
  }

  // ---- state -------------------------------------------------------------
  bool is_open() const noexcept { return subscriber_.is_open(); }
  explicit operator bool() const noexcept { return is_open(); }
  const std::string& name() const noexcept { return subscriber_.name(); }
  std::uint64_t dropped() const noexcept { return subscriber_.dropped(); }
  std::size_t queue_depth() const noexcept { return subscriber_.queue_depth(); }
  std::size_t slot() const noexcept { return subscriber_.slot(); }
  void close() noexcept { subscriber_.close(); }
  Subscriber& untyped() noexcept { return subscriber_; }

 private:
  explicit TypedSubscriber(Subscriber subscriber) noexcept : subscriber_(std::move(subscriber)) {}
  static detail::TopicType type_of(const SubscriberOptions& options) noexcept {
    return detail::TopicType{topic_type_id<T>(options.schema_id), sizeof(T)};
  }
  TypedSample<T> typed(Sample sample) const {
    if (sample && sample.size() < sizeof(T)) {
      throw Error(make_error_code(errc::type_mismatch),
                  "topic '" + subscriber_.name() + "': a sample of " +
                      std::to_string(sample.size()) +
                      " bytes is smaller than the type; publish whole values");
    }
    return TypedSample<T>(std::move(sample));
  }
  static TypedSample<T> typed(Sample sample, std::error_code& ec) noexcept {
    if (sample && sample.size() < sizeof(T)) {
      ec = make_error_code(errc::type_mismatch);
      return {};
    }
    return TypedSample<T>(std::move(sample));
  }

  Subscriber subscriber_;
};

SHMKIT_END_NAMESPACE
