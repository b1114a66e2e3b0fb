# Debian packages only (scripts/install-deps.sh installs them).
find_package(Threads REQUIRED)
find_package(ONNX REQUIRED)          # libonnx-dev: onnx_proto (protobuf messages)
find_package(Protobuf REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 REQUIRED)
find_package(RapidJSON REQUIRED)
if(KILN_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBEVENT REQUIRED IMPORTED_TARGET libevent libevent_pthreads)  # kiln serve's HTTP front end
