# Installs the library, its headers, a CMake package (shmkit::shmkit) and a
# pkg-config file.
include(CMakePackageConfigHelpers)

install(TARGETS shmkit EXPORT shmkitTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/shmkit DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/include/shmkit/export.hpp"
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/shmkit)

set(SHMKIT_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/shmkit)
install(EXPORT shmkitTargets NAMESPACE shmkit:: DESTINATION ${SHMKIT_CMAKE_DIR})
configure_package_config_file(cmake/shmkitConfig.cmake.in
  "${CMAKE_CURRENT_BINARY_DIR}/shmkitConfig.cmake"
  INSTALL_DESTINATION ${SHMKIT_CMAKE_DIR})
write_basic_package_version_file("${CMAKE_CURRENT_BINARY_DIR}/shmkitConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES
  "${CMAKE_CURRENT_BINARY_DIR}/shmkitConfig.cmake"
  "${CMAKE_CURRENT_BINARY_DIR}/shmkitConfigVersion.cmake"
  DESTINATION ${SHMKIT_CMAKE_DIR})

if(BUILD_SHARED_LIBS)
  set(SHMKIT_PC_CFLAGS "")
else()
  set(SHMKIT_PC_CFLAGS "-DSHMKIT_STATIC_DEFINE")
endif()
if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  set(SHMKIT_PC_LIBS_PRIVATE "-lrt -pthread")
elseif(WIN32)
  set(SHMKIT_PC_LIBS_PRIVATE "-ladvapi32")
else()
  set(SHMKIT_PC_LIBS_PRIVATE "-pthread")
endif()
configure_file(cmake/shmkit.pc.in "${CMAKE_CURRENT_BINARY_DIR}/shmkit.pc" @ONLY)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/shmkit.pc" DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
