"""`text_source: asr`: the store's text is what Whisper hears in each utterance's audio."""

from __future__ import annotations

import pytest

from emorec.corpora.corpora import read_corpus
from emorec.corpora.records import Utterance
from emorec.preprocess.config import PreprocessConfig
from emorec.preprocess.run import preprocess_utterances
from emorec.speech.wer import normalise_text
from support.paths import SHARED_DATA as DATA

pytest.importorskip("faster_whisper")
pytestmark = pytest.mark.skipif(not (DATA / "ravdess_speech").is_dir(), reason=f"RAVDESS speech not found in {DATA}")


def test_the_store_holds_whisper_words_and_the_hash_tells_the_sources_apart(tmp_path):
    from support.real import ravdess_subset

    root = tmp_path / "ravdess"
    assert ravdess_subset(root, [1], {"05"}) == 8  # angry: both sentences, both intensities, twice
    utts = read_corpus("ravdess", str(root), modalities=["audio"], channel="speech").utterances
    utts.append(Utterance(utt_id="no_media", corpus="ravdess", label="angry", text="words but no audio", order=99))
    fields = dict(corpus="ravdess", root=str(root), out=str(tmp_path / "stores"), modalities=["text"], max_length=16)
    asr = PreprocessConfig(**fields, text_source="asr", asr_language="en")
    assert asr.config_hash() != PreprocessConfig(**fields).config_hash()
    store = preprocess_utterances(utts, asr, progress=False)
    m = store.manifest.set_index("utt_id")
    for u in utts[:-1]:
        heard = normalise_text(m.loc[u.utt_id, "text_input"])
        assert heard == normalise_text(u.text), (u.utt_id, heard, u.text)  # the two RAVDESS sentences
        assert m.loc[u.utt_id, "status_text"] == "ok"
    # no audio: no text, although the corpus has a transcript; the reason is recorded
    assert m.loc["no_media", "text_input"] == "" and m.loc["no_media", "status_text"] == "no words recognised"


def test_evaluate_names_a_bad_text_source(tmp_path):
    from emorec.training.evaluate import evaluate_run

    with pytest.raises(ValueError, match="text_from must be transcript or asr, got 'whisper'"):
        evaluate_run(tmp_path, "ravdess", str(tmp_path), text_from="whisper")
