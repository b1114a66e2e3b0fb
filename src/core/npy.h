// NumPy .npy files (format versions 1.0, 2.0 and 3.0), the exchange format of `kiln run`.
//
// Supported: little-endian ('<', or '|' for one-byte types) f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1,
// C order. Fortran order, big-endian data and other dtypes are UNIMPLEMENTED. A truncated file is
// DATA_LOSS; a malformed header (bad magic, syntax, keys, shape) is INVALID_ARGUMENT; a missing
// file is NOT_FOUND. Every message names the file.
#pragma once

#include <string>
#include <string_view>

#include "kiln/status.h"
#include "kiln/tensor.h"

namespace kiln {

Result<Tensor> read_npy(const std::string& path);
// Parses the bytes of a whole .npy file; `source` names it in error messages.
Result<Tensor> parse_npy(std::string_view bytes, const std::string& source);

// Writes version 1.0 (2.0 when the header is too long for 1.0).
Status write_npy(const std::string& path, const Tensor& tensor);
Result<std::string> serialize_npy(const Tensor& tensor);

}  // namespace kiln
