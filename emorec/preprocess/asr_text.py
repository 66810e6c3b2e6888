"""`text_source: asr`: each utterance's text is what Whisper hears in its audio window, not the transcript."""

from __future__ import annotations

from functools import lru_cache

from emorec.corpora.records import Utterance


@lru_cache(maxsize=2)
def _transcriber(language: str | None):
    from emorec.speech import Transcriber

    return Transcriber(language=language, threads=1)


def _window(sources: dict, path: str, u: Utterance):
    """The utterance's samples from its file, opened (and, when compressed, decoded) once per file."""
    from emorec.media.audio import AudioSource
    from emorec.speech.audio import SAMPLE_RATE

    if path not in sources:
        sources[path] = AudioSource(path, SAMPLE_RATE)
    return sources[path].read(*((None, None) if u.sentence_wav else (u.start, u.end)))


def recognised_texts(utterances: list[Utterance], language: str | None, log) -> list[str]:
    """Whisper's words per utterance ('' where the audio is missing or unreadable, with a warning naming it)."""
    from emorec.inference.segment import Segment
    from emorec.media.audio import AudioError
    from emorec.speech.audio import SAMPLE_RATE

    transcriber = _transcriber(language)
    sources: dict = {}
    texts = []
    try:
        for u in utterances:
            path = u.sentence_wav or u.audio_path or u.video_path
            try:
                y = _window(sources, path, u) if path else None
            except (AudioError, OSError, ValueError) as e:
                log.warn(path, "audio unreadable for speech recognition", str(e))
                y = None
            if y is None:
                if not path:
                    log.warn(u.utt_id, "no audio for speech recognition")
                texts.append("")
                continue
            found = transcriber.transcribe_segments(y, SAMPLE_RATE, [Segment(0.0, len(y) / SAMPLE_RATE)])
            texts.append(found.segments[0].text or "" if found.segments else "")
    finally:
        for source in sources.values():
            source.close()
    return texts
