# Debian packages only (scripts/install-deps.sh installs them).
find_package(Threads REQUIRED)
find_package(ONNX REQUIRED)          # libonnx-dev: onnx_proto (protobuf messages)
find_package(Protobuf REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 REQUIRED)
find_package(RapidJSON REQUIRED)
# libdnnl-dev: the CPU backend's convolution, matmul and pooling. Found by hand: Debian's
# dnnl-config.cmake insists on OpenCL development files that a CPU build never uses.
find_path(KILN_DNNL_INCLUDE_DIR oneapi/dnnl/dnnl.hpp REQUIRED)
find_library(KILN_DNNL_LIBRARY dnnl REQUIRED)
add_library(kiln_dnnl INTERFACE)
target_include_directories(kiln_dnnl SYSTEM INTERFACE ${KILN_DNNL_INCLUDE_DIR})
target_link_libraries(kiln_dnnl INTERFACE ${KILN_DNNL_LIBRARY})
find_package(OpenMP REQUIRED)        # oneDNN's threading runtime; the CPU backend's own kernels share it
if(KILN_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBEVENT REQUIRED IMPORTED_TARGET libevent libevent_pthreads libevent_openssl)  # kiln serve's HTTP front end (+TLS)
find_package(OpenSSL REQUIRED)       # libssl-dev: TLS for kiln serve
find_package(gRPC CONFIG REQUIRED)   # libgrpc++-dev + protobuf-compiler-grpc: kiln serve's gRPC front end
