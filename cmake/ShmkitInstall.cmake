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
  COMPATIBILITY SameMajorVersion)
install(FILES
  "${CMAKE_CURRENT_BINARY_DIR}/shmkitConfig.cmake"
  "${CMAKE_CURRENT_BINARY_DIR}/shmkitConfigVersion.cmake"
  DESTINATION ${SHMKIT_CMAKE_DIR})

# shmkit.pc. A static libshmkit.a needs what the library itself links
# (Libs.private, which `pkg-config --static` adds) and SHMKIT_STATIC_DEFINE,
# without which export.hpp would declare every symbol dllimport on Windows.
# None of the private libraries ships a .pc file, so there is no
# Requires.private. A shared library needs neither.
set(SHMKIT_PC_CFLAGS "")
if(NOT BUILD_SHARED_LIBS)
  set(SHMKIT_PC_CFLAGS " -DSHMKIT_STATIC_DEFINE")
endif()
set(shmkit_pc_private "")
if(SHMKIT_NEEDS_LIBRT)
  list(APPEND shmkit_pc_private -lrt)
endif()
if(WIN32)
  list(APPEND shmkit_pc_private -ladvapi32)
endif()
# What FindThreads decided Threads::Threads means here: -pthread, or nothing
# where the C library has the threads (glibc 2.34+, macOS).
if(CMAKE_THREAD_LIBS_INIT)
  list(APPEND shmkit_pc_private ${CMAKE_THREAD_LIBS_INIT})
endif()
list(JOIN shmkit_pc_private " " SHMKIT_PC_LIBS_PRIVATE)
if(SHMKIT_PC_LIBS_PRIVATE)
  set(SHMKIT_PC_LIBS_PRIVATE "Libs.private: ${SHMKIT_PC_LIBS_PRIVATE}")
endif()
# libdir and includedir follow ${prefix}; prefix itself is written at
# install time, so that `cmake --install build --prefix DIR` (which the
# configure step cannot know) gets a .pc that names DIR.
foreach(kind IN ITEMS LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${kind}}")
    set(SHMKIT_PC_${kind} "${CMAKE_INSTALL_${kind}}")
  else()
    set(SHMKIT_PC_${kind} "\${prefix}/${CMAKE_INSTALL_${kind}}")
  endif()
endforeach()
set(SHMKIT_PC_PREFIX "@SHMKIT_PC_PREFIX@")  # kept for the install-time pass
set(shmkit_pc_template "${CMAKE_CURRENT_BINARY_DIR}/shmkit.pc.in")
configure_file(cmake/shmkit.pc.in "${shmkit_pc_template}" @ONLY)
install(CODE "
  set(SHMKIT_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  configure_file(\"${shmkit_pc_template}\" \"${CMAKE_CURRENT_BINARY_DIR}/shmkit.pc\" @ONLY)
")
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/shmkit.pc" DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
