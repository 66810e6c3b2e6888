"""Media decoding: audio windows and exact video frames, shared by preprocessing and prediction."""

# containers whose video PyAV decodes (what `emorec predict` and the web page accept besides audio files)
VIDEO_SUFFIXES = frozenset(
    {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".flv", ".mpg", ".mpeg", ".ts", ".wmv", ".3gp", ".ogv"}
)
AUDIO_SUFFIXES = frozenset({".wav", ".mp3", ".m4a", ".flac", ".ogg"})
