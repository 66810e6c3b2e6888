"""emorec: multimodal emotion recognition from video (face frames, speech, transcript)."""

__version__ = "0.1.0"


def __getattr__(name: str):
    # `from emorec import Recognizer` without importing torch on `import emorec`
    if name == "Recognizer":
        from emorec.inference import Recognizer

        return Recognizer
    raise AttributeError(f"module 'emorec' has no attribute {name!r}")


__all__ = ["Recognizer", "__version__"]
