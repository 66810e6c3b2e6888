"""Speech segments (Silero VAD, energy fallback) and speech recognition (faster-whisper).

Optional packages are imported only when used; a missing one raises `MissingPackageError` (an ImportError
whose one-line message names the pip install).
"""

from emorec.speech.asr import Transcriber, Transcript, transcribe_speech
from emorec.speech.audio import MissingPackageError
from emorec.speech.models import ModelError, default_model_dir, resolve_model
from emorec.speech.vad import SileroConfig, SpeechDetection, detect_speech, silero_available, silero_segments
from emorec.speech.wer import WordErrors, normalise_text, word_errors

__all__ = [
    "MissingPackageError",
    "ModelError",
    "SileroConfig",
    "SpeechDetection",
    "Transcriber",
    "Transcript",
    "WordErrors",
    "default_model_dir",
    "detect_speech",
    "normalise_text",
    "resolve_model",
    "silero_available",
    "silero_segments",
    "transcribe_speech",
    "word_errors",
]
