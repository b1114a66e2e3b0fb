#!/usr/bin/env bash
# Installs every Debian package the build, the tests and the tools need. Idempotent and
# non-interactive: when everything is already installed it changes nothing (and needs no
# network); otherwise it runs apt-get update and installs what is missing. Runs as root (CI)
# or through sudo.
set -euo pipefail

readonly PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache g++ clang clang-tidy libclang-rt-14-dev
  # libraries
  libonnx-dev libprotobuf-dev protobuf-compiler libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libfmt-dev libspdlog-dev rapidjson-dev libdnnl-dev libevent-dev
  # kiln serve: gRPC front end (grpc_cpp_plugin, grpc_python_plugin for the test stubs), TLS
  libgrpc++-dev protobuf-compiler-grpc libssl-dev openssl
  # test peers: ONNX node tests, PyTorch reference models
  python3-onnx python3-numpy python3-torch python3-torchvision
  # test peers: kiln serve's gRPC client; a Prometheus server scraping its metrics
  python3-grpcio prometheus
  # the demo's HTTP request (scripts/demo.sh)
  curl
  # GPU bundles (scripts/gpu/package.sh): RUNPATH=$ORIGIN on copied binaries and libraries
  patchelf
)

is_installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == "installed" ]]
}

missing=()
for package in "${PACKAGES[@]}"; do
  is_installed "${package}" || missing+=("${package}")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#PACKAGES[@]} packages are installed"
  exit 0
fi

if [[ "$(id -u)" -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "install-deps: missing packages (${missing[*]}); run as root or install sudo" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "${missing[@]}"
