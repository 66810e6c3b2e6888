"""`text_source: asr`: each utterance's text is what Whisper hears in its audio window, not the transcript."""

from __future__ import annotations

from functools import lru_cache

from emorec.corpora.records import Utterance


@lru_cache(maxsize=2)
def _transcriber(language: str | None):
    from emorec.speech import Transcriber

    return Transcriber(language=language, threads=1)


def recognised_texts(utterances: list[Utterance], language: str | None, log) -> list[str]:
    """Whisper's words per utterance ('' where the audio is missing or unreadable, with a warning naming it)."""
    from emorec.inference.segment import Segment
    from emorec.media.audio import AudioError, AudioSources
    from emorec.speech.audio import SAMPLE_RATE

    transcriber = _transcriber(language)
    texts = []
    with AudioSources(SAMPLE_RATE) as sources:
        for u in utterances:
            path = u.sentence_wav or u.audio_path or u.video_path
            if not path:
                log.warn(u.utt_id, "no audio for speech recognition")
                texts.append("")
                continue
            try:
                y = sources.read(path, *((None, None) if u.sentence_wav else (u.start, u.end)))
            except (AudioError, OSError, ValueError) as e:
                log.warn(path, "audio unreadable for speech recognition", str(e))
                texts.append("")
                continue
            found = transcriber.transcribe_segments(y, SAMPLE_RATE, [Segment(0.0, len(y) / SAMPLE_RATE)])
            texts.append(found.segments[0].text or "" if found.segments else "")
    return texts
