# Cross-compiles shmkit for 64-bit Windows with Debian's mingw-w64 and runs the
# results (try_run, ctest) under Wine.
#
#   cmake --preset mingw-wine      (or -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/mingw-w64.cmake)
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(SHMKIT_MINGW_TRIPLE x86_64-w64-mingw32)
# The -posix flavour: std::thread and friends need the winpthreads threading
# model; the -win32 flavour of GCC 12 has no std::thread.
set(CMAKE_C_COMPILER ${SHMKIT_MINGW_TRIPLE}-gcc-posix)
set(CMAKE_CXX_COMPILER ${SHMKIT_MINGW_TRIPLE}-g++-posix)
set(CMAKE_RC_COMPILER ${SHMKIT_MINGW_TRIPLE}-windres)

set(CMAKE_FIND_ROOT_PATH /usr/${SHMKIT_MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Fully static executables: otherwise every test run under Wine needs
# libstdc++-6.dll, libgcc_s_seh-1.dll and libwinpthread-1.dll on its PATH.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-static")

# Debian's `wine` starts 64-bit executables with wine64 when wine32 is absent.
find_program(SHMKIT_WINE NAMES wine wine64 wine-stable
  PATHS /usr/lib/wine NO_CMAKE_FIND_ROOT_PATH)
if(SHMKIT_WINE)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${SHMKIT_WINE}")
endif()
