// What only the win32 backend does: interop with plain CreateFileMappingW
// code, the namespace shared with events and mutexes, SDDL security, the
// Local and Global scopes, and a lifetime that ends with the last handle.
#include <doctest/doctest.h>

#include <shmkit/shmkit.hpp>

#include "../support/child_process.hpp"
#include "../support/child_role.hpp"
#include "../support/test_names.hpp"

#include <windows.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

using namespace shmkit;

namespace {

std::wstring os_name(const std::string& name, Scope scope = Scope::local) {
  return (scope == Scope::global ? L"Global\\" : L"Local\\") +
         std::wstring(name.begin(), name.end());
}

std::size_t round_to_pages(std::size_t length) {
  SYSTEM_INFO info{};
  ::GetSystemInfo(&info);
  const std::size_t page = info.dwPageSize;
  return (length + page - 1) / page * page;
}

// Closes a HANDLE at scope exit, so a failed REQUIRE leaks nothing.
struct HandleGuard {
  HANDLE handle = nullptr;
  ~HandleGuard() {
    if (handle != nullptr) ::CloseHandle(handle);
  }
};

struct ViewGuard {
  void* base = nullptr;
  ~ViewGuard() {
    if (base != nullptr) ::UnmapViewOfFile(base);
  }
};

SegmentOptions in_scope(Scope scope) {
  SegmentOptions options;
  options.scope = scope;
  return options;
}

// strcpy without MSVC's C4996, which /WX turns into an error.
void put_text(void* destination, const char* text) {
  std::memcpy(destination, text, std::strlen(text) + 1);
}

// The value of an environment variable, or "(unset)"; not getenv, for the
// same reason.
std::string environment_variable(const char* name) {
  char value[256];
  const DWORD n = ::GetEnvironmentVariableA(name, value, static_cast<DWORD>(sizeof value));
  return n > 0 && n < sizeof value ? std::string(value, n) : std::string("(unset)");
}

std::string what_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const std::system_error& e) {
    return e.what();
  }
  return "(no exception)";
}

}  // namespace

// args: name scope. Opens the segment and writes "child was here" at offset 100.
SHMKIT_CHILD_ROLE(win32_open_and_write) {
  auto shm = NamedSharedMemory::open(
      args.at(0), in_scope(args.at(1) == "global" ? Scope::global : Scope::local));
  put_text(static_cast<char*>(shm.data()) + 100, "child was here");
  return 0;
}

// args: name. Creates a segment and exits, closing it by exiting.
SHMKIT_CHILD_ROLE(win32_create_and_exit) {
  auto shm = NamedSharedMemory::create(args.at(0), 64);
  static_cast<char*>(shm.data())[0] = 1;
  return 0;
}

// args: segment-name then anything. Writes every later argument and the value
// of SHMKIT_WIN32_TEST_VAR into the segment, separated by '\n'.
SHMKIT_CHILD_ROLE(win32_echo_args) {
  auto shm = NamedSharedMemory::open(args.at(0));
  std::string text;
  for (std::size_t i = 1; i < args.size(); ++i) text += args[i] + "\n";
  text += environment_variable("SHMKIT_WIN32_TEST_VAR");
  if (text.size() >= shm.size()) return 2;
  std::memcpy(shm.data(), text.c_str(), text.size() + 1);
  return 0;
}

// args: name. Opens, says so in byte 0, then waits to be killed.
SHMKIT_CHILD_ROLE(win32_attach_forever) {
  auto shm = NamedSharedMemory::open(args.at(0));
  static_cast<std::atomic<unsigned char>*>(shm.data())->store(1);
  std::this_thread::sleep_for(std::chrono::seconds(60));
  return 0;
}

SHMKIT_CHILD_ROLE(win32_exit_3) {
  return 3;
}

TEST_SUITE("win32") {
  TEST_CASE("native is win32, and the POSIX backends say they are not here") {
    CHECK(native_backend() == Backend::win32);
    test::NameGuard guard(test::unique_name("nat"));
    auto shm = NamedSharedMemory::create(guard.name(), 64);
    CHECK(shm.backend() == Backend::win32);
    // native_handle() is the mapping's HANDLE.
    DWORD flags = 0;
    CHECK(::GetHandleInformation(reinterpret_cast<HANDLE>(shm.native_handle()), &flags));
    for (Backend other : {Backend::posix, Backend::sysv}) {
      SegmentOptions options;
      options.backend = other;
      std::error_code ec;
      (void)NamedSharedMemory::create(guard.name(), 64, options, ec);
      CHECK(ec == errc::backend_unavailable);
      CHECK(what_of([&] {
              (void)NamedSharedMemory::open(guard.name(), options);
            }).find("Backend::native") != std::string::npos);
    }
  }

  TEST_CASE("plain CreateFileMappingW code and shmkit raw see each other's bytes") {
    test::NameGuard guard(test::unique_name("rawf"));
    // Foreign writer: exactly what a program without shmkit does.
    HandleGuard mapping{::CreateFileMappingW(INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE, 0, 5000,
                                             os_name(guard.name()).c_str())};
    REQUIRE(mapping.handle != nullptr);
    ViewGuard view{::MapViewOfFile(mapping.handle, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 5000)};
    REQUIRE(view.base != nullptr);
    put_text(static_cast<char*>(view.base), "from plain code");

    SegmentOptions raw;
    raw.raw = true;
    auto shm = NamedSharedMemory::open(guard.name(), raw);
    CHECK(shm.size() == round_to_pages(5000));  // Windows keeps no exact size
    CHECK(shm.size() >= 5000);
    CHECK(shm.attached_processes().empty());
    CHECK(std::string(static_cast<char*>(shm.data())) == "from plain code");
    put_text(static_cast<char*>(shm.data()) + 100, "from shmkit");
    CHECK(std::string(static_cast<char*>(view.base) + 100) == "from shmkit");

    // Without raw, shmkit refuses a mapping it did not make.
    SegmentOptions strict;
    strict.open_timeout = std::chrono::milliseconds(50);
    std::error_code ec;
    (void)NamedSharedMemory::open(guard.name(), strict, ec);
    CHECK((ec == errc::incompatible_layout || ec == errc::not_ready));
    // And create() neither adopts nor resizes it.
    (void)NamedSharedMemory::create(guard.name(), 100000, raw, ec);
    CHECK(ec == errc::already_exists);
    CHECK(std::string(static_cast<char*>(view.base)) == "from plain code");
  }

  TEST_CASE("a raw shmkit segment is a plain paging-file mapping") {
    test::NameGuard guard(test::unique_name("rawm"));
    SegmentOptions raw;
    raw.raw = true;
    auto shm = NamedSharedMemory::create(guard.name(), 3000, raw);
    CHECK(shm.size() == 3000);  // the creator knows the size it asked for
    put_text(static_cast<char*>(shm.data()), "made by shmkit");

    HandleGuard mapping{::OpenFileMappingW(FILE_MAP_READ, FALSE, os_name(guard.name()).c_str())};
    REQUIRE(mapping.handle != nullptr);
    ViewGuard view{::MapViewOfFile(mapping.handle, FILE_MAP_READ, 0, 0, 0)};
    REQUIRE(view.base != nullptr);
    MEMORY_BASIC_INFORMATION info{};
    REQUIRE(::VirtualQuery(view.base, &info, sizeof info) == sizeof info);
    CHECK(info.RegionSize == round_to_pages(3000));
    CHECK(std::string(static_cast<const char*>(view.base)) == "made by shmkit");

    // Another raw opener sees whole pages.
    auto again = NamedSharedMemory::open(guard.name(), raw);
    CHECK(again.size() == round_to_pages(3000));
  }

  TEST_CASE("the header keeps the exact size that Windows rounds to pages") {
    test::NameGuard guard(test::unique_name("exact"));
    auto shm = NamedSharedMemory::create(guard.name(), 1000);
    auto opened = NamedSharedMemory::open(guard.name());
    CHECK(opened.size() == 1000);
    SegmentOptions raw;
    raw.raw = true;
    auto bytes = NamedSharedMemory::open(guard.name(), raw);
    CHECK(bytes.size() == round_to_pages(512 + 1000));
  }

  TEST_CASE("a name held by a plain Win32 event is errc::wrong_kind, and the message says why") {
    test::NameGuard guard(test::unique_name("evt"));
    HandleGuard event{::CreateEventW(nullptr, TRUE, FALSE, os_name(guard.name()).c_str())};
    REQUIRE(event.handle != nullptr);

    std::error_code ec;
    auto shm = NamedSharedMemory::create(guard.name(), 64, {}, ec);
    CHECK_FALSE(shm.is_open());
    CHECK(ec == errc::wrong_kind);
    (void)NamedSharedMemory::open(guard.name(), {}, ec);
    CHECK(ec == errc::wrong_kind);
    (void)NamedSharedMemory::open_or_create(guard.name(), 64, {}, ec);
    CHECK(ec == errc::wrong_kind);
    // The name is taken, as exists() says of a POSIX mutex's name.
    CHECK(NamedSharedMemory::exists(guard.name()));

    const std::string what = what_of([&] { (void)NamedSharedMemory::create(guard.name(), 64); });
    CAPTURE(what);
    CHECK(what.find("'" + guard.name() + "'") != std::string::npos);
    CHECK(what.find("another kind of Win32 object (an event") != std::string::npos);
    CHECK(what.find("Win32 error 6") != std::string::npos);
  }

  TEST_CASE("an invalid SDDL string is errc::invalid_argument and creates nothing") {
    test::NameGuard guard(test::unique_name("sddl"));
    SegmentOptions options;
    options.security_descriptor = "this is not SDDL";
    std::error_code ec;
    (void)NamedSharedMemory::open_or_create(guard.name(), 64, options, ec);
    CHECK(ec == errc::invalid_argument);
    CHECK_FALSE(NamedSharedMemory::exists(guard.name()));
    const std::string what =
        what_of([&] { (void)NamedSharedMemory::create(guard.name(), 64, options); });
    CAPTURE(what);
    CHECK(what.find("not a valid SDDL string") != std::string::npos);
    CHECK(what.find("this is not SDDL") != std::string::npos);
  }

  TEST_CASE("a valid SDDL string creates a segment that a child can open") {
    test::NameGuard guard(test::unique_name("dacl"));
    SegmentOptions options;
    options.security_descriptor = "D:P(A;;GA;;;WD)";  // everyone: all access
    auto shm = NamedSharedMemory::create(guard.name(), 4096, options);
    const auto status = test::run_child("win32_open_and_write", {guard.name(), "local"});
    REQUIRE(status.exited);
    CHECK(status.code == 0);
    CHECK(std::string(static_cast<char*>(shm.data()) + 100) == "child was here");
  }

  TEST_CASE("a DACL that grants nothing denies open() with advice, and exists() still sees it") {
    test::NameGuard guard(test::unique_name("deny"));
    SegmentOptions options;
    options.security_descriptor = "D:P";  // a protected, empty DACL
    auto shm = NamedSharedMemory::create(guard.name(), 64, options);
    CHECK(NamedSharedMemory::exists(guard.name()));
    std::error_code ec;
    auto denied = NamedSharedMemory::open(guard.name(), {}, ec);
    CHECK_FALSE(denied.is_open());
    CHECK(ec.category() == std::system_category());
    CHECK(ec.value() == ERROR_ACCESS_DENIED);
    const std::string what = what_of([&] { (void)NamedSharedMemory::open(guard.name()); });
    CAPTURE(what);
    CHECK(what.find("ObjectOptions::security_descriptor") != std::string::npos);
  }

  TEST_CASE("Global\\ and Local\\ are separate namespaces") {
    test::NameGuard guard(test::unique_name("glob"));
    std::error_code ec;
    auto global = NamedSharedMemory::create(guard.name(), 4096, in_scope(Scope::global), ec);
    if (ec.value() == ERROR_ACCESS_DENIED) {
      // Real Windows without SeCreateGlobalPrivilege; Wine gives everyone an
      // admin token, so CI always gets past this.
      MESSAGE("skipped: this account may not create Global\\ objects");
      return;
    }
    REQUIRE_FALSE(ec);
    CHECK(NamedSharedMemory::exists(guard.name(), in_scope(Scope::global)));
    CHECK_FALSE(NamedSharedMemory::exists(guard.name(), in_scope(Scope::local)));
    (void)NamedSharedMemory::open(guard.name(), in_scope(Scope::local), ec);
    CHECK(ec == errc::not_found);

    const auto status = test::run_child("win32_open_and_write", {guard.name(), "global"});
    REQUIRE(status.exited);
    CHECK(status.code == 0);
    CHECK(std::string(static_cast<char*>(global.data()) + 100) == "child was here");

    // The same name under Local\ is another segment altogether.
    auto local = NamedSharedMemory::create(guard.name(), 64, in_scope(Scope::local));
    CHECK(local.size() == 64);
    CHECK(global.size() == 4096);
  }

  TEST_CASE("a segment is gone once every handle to it has closed") {
    test::NameGuard guard(test::unique_name("gone"));
    auto first = NamedSharedMemory::create(guard.name(), 64);
    auto second = NamedSharedMemory::open(guard.name());
    static_cast<char*>(first.data())[0] = 'k';
    first.close();
    CHECK(NamedSharedMemory::exists(guard.name()));  // `second` keeps it alive
    CHECK(static_cast<char*>(second.data())[0] == 'k');
    second.close();
    CHECK_FALSE(NamedSharedMemory::exists(guard.name()));
    std::error_code ec;
    (void)NamedSharedMemory::open(guard.name(), {}, ec);
    CHECK(ec == errc::not_found);

    // A creator that exits takes its segment along.
    const auto status = test::run_child("win32_create_and_exit", {guard.name()});
    REQUIRE(status.exited);
    CHECK(status.code == 0);
    CHECK_FALSE(NamedSharedMemory::exists(guard.name()));
  }

  TEST_CASE("remove() is a no-op that returns false without an error") {
    test::NameGuard guard(test::unique_name("rm"));
    auto shm = NamedSharedMemory::create(guard.name(), 64);
    std::error_code ec;
    CHECK_FALSE(NamedSharedMemory::remove(guard.name(), {}, ec));
    CHECK_FALSE(ec);
    CHECK_FALSE(NamedSharedMemory::remove(guard.name()));
    CHECK(NamedSharedMemory::exists(guard.name()));
    auto again = NamedSharedMemory::open(guard.name());
    CHECK(again.size() == 64);

    // unlink_on_close has nothing to unlink: another handle keeps it alive.
    test::NameGuard other(test::unique_name("unl"));
    SegmentOptions unlink;
    unlink.unlink_on_close = true;
    auto owner = NamedSharedMemory::create(other.name(), 64, unlink);
    auto keeper = NamedSharedMemory::open(other.name());
    owner.close();
    CHECK(NamedSharedMemory::exists(other.name()));
  }

  TEST_CASE("a read-only handle maps read-only pages and is not in the attach table") {
    test::NameGuard guard(test::unique_name("ro"));
    auto shm = NamedSharedMemory::create(guard.name(), 64);
    put_text(static_cast<char*>(shm.data()), "read me");
    SegmentOptions read_only;
    read_only.access = Access::read_only;
    auto reader = NamedSharedMemory::open(guard.name(), read_only);
    CHECK(std::string(static_cast<const char*>(reader.data())) == "read me");
    MEMORY_BASIC_INFORMATION info{};
    REQUIRE(::VirtualQuery(reader.data(), &info, sizeof info) == sizeof info);
    CHECK(info.Protect == PAGE_READONLY);
    CHECK(shm.attached_processes().size() == 1);
  }

  TEST_CASE("child arguments and environment cross CreateProcessW intact") {
    test::NameGuard guard(test::unique_name("args"));
    auto shm = NamedSharedMemory::create(guard.name(), 4096);
    const std::vector<std::string> args{"plain",      "with space",  "quote\"inside",
                                        "trailing\\", "a\\\\b\\\"c", "",
                                        "tab\there",  "\"quoted\"",  "end \\\\"};
    std::vector<std::string> child_args{guard.name()};
    child_args.insert(child_args.end(), args.begin(), args.end());
    const auto status =
        test::run_child("win32_echo_args", child_args, {"SHMKIT_WIN32_TEST_VAR=hello world"});
    REQUIRE(status.exited);
    CHECK(status.code == 0);
    std::string expected;
    for (const auto& a : args) expected += a + "\n";
    expected += "hello world";
    CHECK(std::string(static_cast<const char*>(shm.data())) == expected);
  }

  TEST_CASE("a child's exit code is reported, and kill() is reported as killed") {
    const auto exited = test::run_child("win32_exit_3");
    CHECK(exited.exited);
    CHECK_FALSE(exited.killed);
    CHECK(exited.code == 3);

    test::NameGuard guard(test::unique_name("kill"));
    auto shm = NamedSharedMemory::create(guard.name(), 64);
    auto victim = test::Child::spawn("win32_attach_forever", {guard.name()});
    auto* flag = static_cast<std::atomic<unsigned char>*>(shm.data());
    REQUIRE(test::eventually([&] { return flag->load() == 1; }));
    victim.kill();
    const auto status = victim.wait();
    CHECK(status.killed);
    CHECK_FALSE(status.exited);
    const auto table = shm.attached_processes();
    CHECK(std::any_of(table.begin(), table.end(),
                      [&](const AttachedProcess& p) { return p.pid == victim.pid() && !p.alive; }));
  }

  TEST_CASE("a service-style Global\\ event with a DACL: consumers open it for waiting only") {
    test::NameGuard guard(test::unique_name("svc"));
    SyncOptions service;
    service.scope = Scope::global;
    // Everyone may only wait (SYNCHRONIZE) and read the owner (RC); the
    // creator's own handle has full access whatever the DACL says.
    service.security_descriptor = "D:P(A;;0x100000;;;WD)(A;;RC;;;WD)";
    auto tick = NamedEvent::create(guard.name(), EventReset::manual_reset, service);
    SyncOptions waiter;
    waiter.scope = Scope::global;
    // open() asks for SYNCHRONIZE | EVENT_MODIFY_STATE, is refused, and
    // settles for SYNCHRONIZE: a wait-only handle.
    auto consumer = NamedEvent::open(guard.name(), waiter);
    CHECK_FALSE(consumer.try_wait());
    tick.set();
    CHECK(consumer.wait_for(std::chrono::seconds(5)));
    // A wait-only handle cannot signal.
    CHECK_THROWS_AS(consumer.set(), std::system_error);
    std::error_code ec;
    (void)NamedMutex::open(guard.name(), waiter, ec);
    CHECK(ec == errc::wrong_kind);  // the name is an event's
  }
}
