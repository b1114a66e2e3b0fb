// What the repository poller compares between two scans to tell that a model changed: every
// file under the model's directory with its size and modification time. Any file edited, added,
// removed or renamed (config.pbtxt, a version directory, a model file) changes the fingerprint;
// reading only metadata keeps a scan cheap even for large models.
#pragma once

#include <string>

namespace kiln::serving {

// "" when the directory cannot be read (it vanished mid-scan); hidden entries are skipped.
std::string directory_fingerprint(const std::string& directory);

}  // namespace kiln::serving
