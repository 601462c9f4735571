// Child processes on Win32: CreateProcessW of this executable.
//
// Windows has no signals, so ExitStatus::killed means "ended by kill()",
// which calls TerminateProcess with k_killed_exit_code (137, what a shell
// reports for SIGKILL). A child that returns 137 by itself is reported as
// killed too; no role does.
#include "child_process.hpp"

#include <doctest/doctest.h>

#include <windows.h>

#include <algorithm>
#include <cwchar>
#include <cwctype>
#include <string>
#include <utility>
#include <vector>

namespace shmkit::test {
namespace {

constexpr UINT k_killed_exit_code = 137;

std::wstring widen(const std::string& text) {
  if (text.empty()) return {};
  const int length = static_cast<int>(text.size());
  const int needed = ::MultiByteToWideChar(CP_UTF8, 0, text.data(), length, nullptr, 0);
  std::wstring wide(static_cast<std::size_t>(needed > 0 ? needed : 0), L'\0');
  if (needed > 0) ::MultiByteToWideChar(CP_UTF8, 0, text.data(), length, wide.data(), needed);
  return wide;
}

std::string narrow(const std::wstring& text) {
  if (text.empty()) return {};
  const int length = static_cast<int>(text.size());
  const int needed =
      ::WideCharToMultiByte(CP_UTF8, 0, text.data(), length, nullptr, 0, nullptr, nullptr);
  std::string utf8(static_cast<std::size_t>(needed > 0 ? needed : 0), '\0');
  if (needed > 0) {
    ::WideCharToMultiByte(CP_UTF8, 0, text.data(), length, utf8.data(), needed, nullptr, nullptr);
  }
  return utf8;
}

// argv[0] may be relative, or a Unix path when Wine started us; the loader
// knows the real one.
std::wstring module_path() {
  std::wstring path(MAX_PATH, L'\0');
  for (;;) {
    const DWORD n = ::GetModuleFileNameW(nullptr, path.data(), static_cast<DWORD>(path.size()));
    if (n == 0) return {};
    if (n < path.size()) {
      path.resize(n);
      return path;
    }
    path.resize(path.size() * 2);
  }
}

// Quotes one argument so that the child's CommandLineToArgvW (and the C
// runtime's parser) gives back exactly `arg`: backslashes are literal except
// before a quote, where they and the quote are escaped.
void append_quoted(std::wstring& line, const std::wstring& arg) {
  if (!arg.empty() && arg.find_first_of(L" \t\n\v\"") == std::wstring::npos) {
    line += arg;
    return;
  }
  line += L'"';
  std::size_t backslashes = 0;
  for (wchar_t c : arg) {
    if (c == L'\\') {
      ++backslashes;
      continue;
    }
    if (c == L'"') {
      line.append(backslashes * 2 + 1, L'\\');
    } else {
      line.append(backslashes, L'\\');
    }
    backslashes = 0;
    line += c;
  }
  // Before the closing quote every backslash must be doubled.
  line.append(backslashes * 2, L'\\');
  line += L'"';
}

// "NAME=value" -> upper-cased NAME: Windows variable names ignore case. The
// drive-letter entries ("=C:=C:\dir") start with '=', which belongs to the name.
std::wstring variable_name(const std::wstring& entry) {
  const std::size_t equals = entry.find(L'=', 1);
  std::wstring name = entry.substr(0, equals);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](wchar_t c) { return static_cast<wchar_t>(std::towupper(c)); });
  return name;
}

// This process's environment with `extra` added (replacing variables of the
// same name), as the sorted, double-NUL-terminated block CreateProcessW takes.
std::wstring environment_block(const std::vector<std::string>& extra) {
  std::vector<std::wstring> entries;
  if (wchar_t* strings = ::GetEnvironmentStringsW()) {
    for (const wchar_t* p = strings; *p != L'\0'; p += std::wcslen(p) + 1) entries.emplace_back(p);
    ::FreeEnvironmentStringsW(strings);
  }
  for (const std::string& e : extra) {
    const std::wstring entry = widen(e);
    const std::wstring name = variable_name(entry);
    entries.erase(
        std::remove_if(entries.begin(), entries.end(),
                       [&](const std::wstring& old) { return variable_name(old) == name; }),
        entries.end());
    entries.push_back(entry);
  }
  std::stable_sort(entries.begin(), entries.end(),
                   [](const std::wstring& a, const std::wstring& b) {
                     return variable_name(a) < variable_name(b);
                   });
  std::wstring block;
  for (const auto& entry : entries) {
    block += entry;
    block += L'\0';
  }
  block += L'\0';
  return block;
}

std::string last_error_text() {
  const DWORD e = ::GetLastError();
  return "Win32 error " + std::to_string(e);
}

std::string& self_path_storage() {
  static std::string path;
  return path;
}

}  // namespace

void set_self_path(const std::string& path) {
  self_path_storage() = path;
}

const std::string& self_path() {
  static const std::string from_loader = narrow(module_path());
  return from_loader.empty() ? self_path_storage() : from_loader;
}

Child Child::spawn(const std::string& role, const std::vector<std::string>& args,
                   const std::vector<std::string>& environment) {
  std::wstring application = module_path();
  if (application.empty()) application = widen(self_path_storage());
  REQUIRE_MESSAGE(!application.empty(), "cannot find this executable: " << last_error_text());

  std::wstring command_line;
  append_quoted(command_line, application);
  for (const std::string& arg : std::vector<std::string>{"--shmkit-child", role}) {
    command_line += L' ';
    append_quoted(command_line, widen(arg));
  }
  for (const std::string& arg : args) {
    command_line += L' ';
    append_quoted(command_line, widen(arg));
  }
  std::wstring env = environment_block(environment);

  // The child writes to our stdout and stderr, so a failing role's message
  // shows up in the test log. Inheriting those means inheriting every
  // inheritable handle, but shmkit creates none: a child holding a copy of a
  // segment's handle would keep the segment alive.
  STARTUPINFOW startup{};
  startup.cb = sizeof startup;
  startup.dwFlags = STARTF_USESTDHANDLES;
  startup.hStdInput = ::GetStdHandle(STD_INPUT_HANDLE);
  startup.hStdOutput = ::GetStdHandle(STD_OUTPUT_HANDLE);
  startup.hStdError = ::GetStdHandle(STD_ERROR_HANDLE);
  PROCESS_INFORMATION info{};
  // CreateProcessW may write to the command line: it must be a mutable buffer.
  const BOOL created =
      ::CreateProcessW(application.c_str(), command_line.data(), nullptr, nullptr, TRUE,
                       CREATE_UNICODE_ENVIRONMENT, env.data(), nullptr, &startup, &info);
  REQUIRE_MESSAGE(created, "CreateProcessW failed: " << last_error_text());
  ::CloseHandle(info.hThread);
  Child child;
  child.pid_ = info.dwProcessId;
  child.handle_ = reinterpret_cast<std::intptr_t>(info.hProcess);
  child.running_ = true;
  return child;
}

Child& Child::operator=(Child&& other) noexcept {
  if (this != &other) {
    if (running_) {
      kill();
      ::WaitForSingleObject(reinterpret_cast<HANDLE>(handle_), INFINITE);
    }
    if (handle_ != 0) ::CloseHandle(reinterpret_cast<HANDLE>(handle_));
    pid_ = std::exchange(other.pid_, 0);
    handle_ = std::exchange(other.handle_, 0);
    running_ = std::exchange(other.running_, false);
  }
  return *this;
}

Child::~Child() {
  if (handle_ == 0) return;
  if (running_) {
    kill();
    ::WaitForSingleObject(reinterpret_cast<HANDLE>(handle_), INFINITE);
  }
  ::CloseHandle(reinterpret_cast<HANDLE>(handle_));
}

ExitStatus Child::wait(std::chrono::milliseconds timeout) {
  REQUIRE(running_);
  const auto process = reinterpret_cast<HANDLE>(handle_);
  const auto ms = std::min<std::chrono::milliseconds::rep>(timeout.count(), INFINITE - 1);
  const DWORD waited = ::WaitForSingleObject(process, static_cast<DWORD>(ms < 0 ? 0 : ms));
  if (waited != WAIT_OBJECT_0) {
    kill();
    ::WaitForSingleObject(process, INFINITE);
    running_ = false;
    FAIL("child " << pid_ << " did not finish within " << timeout.count() << " ms"
                  << (waited == WAIT_FAILED ? " (" + last_error_text() + ")" : std::string()));
  }
  running_ = false;
  DWORD code = 0;
  REQUIRE_MESSAGE(::GetExitCodeProcess(process, &code),
                  "GetExitCodeProcess failed: " << last_error_text());
  ExitStatus status;
  if (code == k_killed_exit_code) {
    status.killed = true;
  } else {
    status.exited = true;
    status.code = static_cast<int>(code);
  }
  return status;
}

void Child::kill() {
  if (running_) ::TerminateProcess(reinterpret_cast<HANDLE>(handle_), k_killed_exit_code);
}

ExitStatus run_child(const std::string& role, const std::vector<std::string>& args,
                     const std::vector<std::string>& environment) {
  return Child::spawn(role, args, environment).wait();
}

}  // namespace shmkit::test
