// The Windows service wrapper around run_producer(): install with
//   sc create shmkit-telemetry binPath= "C:\path\telemetry_service.exe"
//   sc start shmkit-telemetry
// then run telemetry_consumer.exe in any user session.
#define TELEMETRY_AS_SERVICE
#include "telemetry_producer.cpp"  // one program: the producer plus this wrapper

#include <windows.h>

namespace {

SERVICE_STATUS_HANDLE g_status_handle = nullptr;
SERVICE_STATUS g_status{};
std::atomic<bool> g_stop{false};

void report(DWORD state) {
  g_status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
  g_status.dwCurrentState = state;
  g_status.dwControlsAccepted = state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP : 0;
  SetServiceStatus(g_status_handle, &g_status);
}

DWORD WINAPI control(DWORD code, DWORD, LPVOID, LPVOID) {
  if (code == SERVICE_CONTROL_STOP) {
    report(SERVICE_STOP_PENDING);
    g_stop.store(true);
  }
  return NO_ERROR;
}

void WINAPI service_main(DWORD, LPWSTR*) {
  g_status_handle = RegisterServiceCtrlHandlerExW(L"shmkit-telemetry", control, nullptr);
  if (g_status_handle == nullptr) return;
  report(SERVICE_RUNNING);
  try {
    telemetry::run_producer(0, g_stop);
  } catch (...) {
    g_status.dwWin32ExitCode = ERROR_SERVICE_SPECIFIC_ERROR;
  }
  report(SERVICE_STOPPED);
}

}  // namespace

int main() {
  wchar_t name[] = L"shmkit-telemetry";
  SERVICE_TABLE_ENTRYW table[] = {{name, service_main}, {nullptr, nullptr}};
  return StartServiceCtrlDispatcherW(table) ? 0 : 1;
}
