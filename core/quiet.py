"""Keep the libraries LayerLab starts from printing their own log lines between ours.

TensorFlow's C++ side writes start-up lines (oneDNN, CUDA stubs, absl's "before InitializeLog"
notice) straight to file descriptor 2 while it is imported, whatever TF_CPP_MIN_LOG_LEVEL says,
and conversion logs (loader.cc, dump_mlir_util.cc) after it unless that level is 3. So:
`quiet_libraries()` sets the levels before anything is imported, and `import_keras()` imports
Keras with descriptor 2 pointed at a temporary file, then passes on any line that is not such
noise (a real crash message still reaches the user).
"""
from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
import warnings

# glog/absl lines ("I0000 00:00:17... port.cc:153] ...") and absl's pre-init notice
_NOISE = re.compile(r"^([IWE]\d{4} \d\d:\d\d:[\d.]+\s+\d+ \S+:\d+\]|WARNING: All log messages before absl::InitializeLog)")


def quiet_libraries() -> None:
    """Log levels for TensorFlow, absl and Python warnings; call before Keras is imported."""
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    for name in ("tensorflow", "absl", "keras", "jax"):
        logging.getLogger(name).setLevel(logging.ERROR)
    # Library RuntimeWarnings (overflow in a cast, a mean of nothing) are about data LayerLab
    # checks itself and reports in plain words; users should not see numpy's wording.
    warnings.filterwarnings("ignore", category=RuntimeWarning)
    warnings.filterwarnings("ignore", module=r"(keras|tensorflow|absl|google)\b")


def import_keras():
    """`import keras` with TensorFlow's start-up lines held back (see the module docstring)."""
    if "keras" in sys.modules:
        return sys.modules["keras"]
    quiet_libraries()
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as caught:
        os.dup2(caught.fileno(), 2)
        try:
            import keras
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            kept = [line for line in caught.read().decode("utf-8", "replace").splitlines() if line and not _NOISE.match(line)]
    for line in kept:
        print(line, file=sys.stderr)
    return keras
