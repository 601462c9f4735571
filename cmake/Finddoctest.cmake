# Finds doctest's single header for the tests: find_package(doctest MODULE).
#
# The tests compile against a private copy of doctest/doctest.h rather than
# the doctest::doctest target of an installed package, which would put
# /usr/include on a cross compiler's path. Being a find module, it honours
# CMAKE_DISABLE_FIND_PACKAGE_doctest (how CI proves that the library builds
# and installs without doctest).
#
# Input:  SHMKIT_DOCTEST_INCLUDE (cache) may name the folder holding doctest/.
# Output: doctest_FOUND, doctest_VERSION, SHMKIT_DOCTEST_INCLUDE.
find_path(SHMKIT_DOCTEST_INCLUDE doctest/doctest.h
  HINTS /usr/include /usr/local/include NO_CMAKE_FIND_ROOT_PATH
  DOC "The folder holding doctest/doctest.h")
if(SHMKIT_DOCTEST_INCLUDE AND EXISTS "${SHMKIT_DOCTEST_INCLUDE}/doctest/doctest.h")
  file(STRINGS "${SHMKIT_DOCTEST_INCLUDE}/doctest/doctest.h" doctest_version_lines
    REGEX "^#define DOCTEST_VERSION_(MAJOR|MINOR|PATCH) [0-9]+$")
  set(doctest_VERSION "")
  foreach(part IN ITEMS MAJOR MINOR PATCH)
    string(REGEX MATCH "DOCTEST_VERSION_${part} ([0-9]+)" _ "${doctest_version_lines}")
    list(APPEND doctest_VERSION "${CMAKE_MATCH_1}")
  endforeach()
  list(JOIN doctest_VERSION "." doctest_VERSION)
endif()
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(doctest
  REQUIRED_VARS SHMKIT_DOCTEST_INCLUDE
  VERSION_VAR doctest_VERSION)
mark_as_advanced(SHMKIT_DOCTEST_INCLUDE)
