# Warnings as errors, ccache, sanitizers. Applied through the kiln_warnings interface target so
# third-party headers (imported targets are SYSTEM) stay out of it.
find_program(KILN_CCACHE ccache)
if(KILN_CCACHE)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${KILN_CCACHE})
endif()

add_library(kiln_warnings INTERFACE)
target_compile_options(kiln_warnings INTERFACE -Wall -Wextra -Wpedantic -Werror -Wno-missing-field-initializers)
# GCC 12 reports impossible overlaps inside std::string at -O3 (GCC bug 105329): a false
# positive in the standard library, not in kiln.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(kiln_warnings INTERFACE -Wno-restrict)
endif()

if(KILN_SANITIZE)
  # C++ only: nvcc does not take -fsanitize (host code in .cu files stays uninstrumented).
  add_compile_options("$<$<COMPILE_LANGUAGE:CXX>:-fsanitize=${KILN_SANITIZE};-fno-omit-frame-pointer;-fno-sanitize-recover=all>")
  add_link_options(-fsanitize=${KILN_SANITIZE})
endif()

# Every kiln library: sources from a glob of its folder, src/ and include/ on the include path.
function(kiln_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE kiln_warnings)
endfunction()
