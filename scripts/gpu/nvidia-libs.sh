# Sourced by the GPU-machine scripts: puts every lib folder of PyTorch's nvidia Python packages
# (cudnn/lib, cu13/lib, ...) on LD_LIBRARY_PATH, which is where that machine keeps cuDNN and
# cuBLASLt. Uses ${python} when set, else python3.
nvidia_libs="$("${python:-python3}" - <<'PY'
import glob, os
import nvidia
print(":".join(sorted({d for p in nvidia.__path__ for d in glob.glob(os.path.join(p, "*", "lib")) if os.path.isdir(d)})))
PY
)"
export LD_LIBRARY_PATH="${nvidia_libs}${LD_LIBRARY_PATH:+:${LD_LIBRARY_PATH}}"
