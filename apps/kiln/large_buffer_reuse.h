// kiln serve and kiln perf move multi-megabyte request bodies (a 16-image ResNet-50 request is
// 9.6 MB), allocated and freed for every request by gRPC, protobuf and the HTTP front end.
// glibc's defaults give such blocks back to the kernel on free (mmap'd, or trimmed from the heap
// top), so every request faulted its pages in again and the kernel zeroed them: a quarter of
// the gRPC threads' time for 9.6 MB requests on the build machine.
#pragma once

namespace kiln::cli {

// Keeps freed blocks of up to 32 MiB in the process's heap for reuse (mallopt). Peak memory
// stays resident, as with jemalloc or tcmalloc. A no-op under sanitizers' allocators.
void keep_large_buffers_for_reuse();

}  // namespace kiln::cli
