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
pkg_check_modules(LIBEVENT REQUIRED IMPORTED_TARGET libevent libevent_pthreads libevent_openssl)  # kiln serve's HTTP front end (+TLS)
find_package(OpenSSL REQUIRED)       # libssl-dev: TLS for kiln serve
find_package(gRPC CONFIG REQUIRED)   # libgrpc++-dev + protobuf-compiler-grpc: kiln serve's gRPC front end
