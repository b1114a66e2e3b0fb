# The CUDA backend switch. KILN_ENABLE_CUDA is AUTO by default: ON when CMake finds a CUDA
# compiler, OFF otherwise, so machines without the toolkit still build everything else.
# After this file runs, KILN_ENABLE_CUDA is a plain ON/OFF that the rest of the build tests.
set(KILN_ENABLE_CUDA AUTO CACHE STRING "Build the CUDA backend: AUTO (when a CUDA compiler is found), ON or OFF")
set_property(CACHE KILN_ENABLE_CUDA PROPERTY STRINGS AUTO ON OFF)

if(KILN_ENABLE_CUDA STREQUAL "AUTO")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(KILN_ENABLE_CUDA ON)
  else()
    set(KILN_ENABLE_CUDA OFF)
    message(STATUS "kiln: no CUDA compiler found, the CUDA backend is not built")
  endif()
endif()

if(KILN_ENABLE_CUDA)
  # Hopper SASS (H100/H200) plus compute_90 PTX so newer GPUs can JIT it. Override with
  # -DCMAKE_CUDA_ARCHITECTURES=... for other targets.
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES "90-real;90-virtual")
  endif()
  enable_language(CUDA)
  if(KILN_CCACHE)
    set(CMAKE_CUDA_COMPILER_LAUNCHER ${KILN_CCACHE})
  endif()
  find_package(CUDAToolkit REQUIRED)
  # CMake 3.25 predates nvcc's C++20 support in its tables: teach it the flag, then ask for
  # C++20 the normal way (kiln headers use C++20).
  if(NOT CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
    set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
    set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
    list(APPEND CMAKE_CUDA20_COMPILE_FEATURES cuda_std_20)
    list(APPEND CMAKE_CUDA_COMPILE_FEATURES cuda_std_20)
  endif()
  set(CMAKE_CUDA_STANDARD 20)
  set(CMAKE_CUDA_STANDARD_REQUIRED ON)
  message(STATUS "kiln: CUDA backend ON (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, architectures ${CMAKE_CUDA_ARCHITECTURES})")

  # kiln_warnings' flags are for the C++ compiler; nvcc gets its own set (host-side warnings go
  # through -Xcompiler, device-side warnings are errors too).
  add_library(kiln_cuda_options INTERFACE)
  target_compile_options(kiln_cuda_options INTERFACE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Werror -Wno-missing-field-initializers>
    $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra --Werror=all-warnings>)
else()
  set(KILN_ENABLE_CUDA OFF)
endif()
