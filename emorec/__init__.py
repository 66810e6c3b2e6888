"""emorec: multimodal emotion recognition from video (face frames, speech, transcript)."""

__version__ = "0.1.0"
