"""MiniLM's tokenizer run on the `tokenizers` library gives transformers' ids and masks, on every MELD
transcript, with and without dialogue context; other tokenizers go through transformers."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from emorec.inputs import tokens
from emorec.inputs.tokenizer import TransformersTokenizer, WordPieceTokenizer, is_plain_wordpiece, open_tokenizer
from emorec.models.encoders import resolve_encoder

EXTRA = ["", "   ", "[LAUGHTER] no way!!!", "Café naïve façade — “quoted” …", "x" * 400, "日本語のテキスト", "a\tb\nc"]


@pytest.fixture(scope="module")
def folder():
    return resolve_encoder("minilm")


@pytest.fixture(scope="module")
def texts(shared_data):
    frames = [pd.read_csv(f) for f in sorted((shared_data / "meld").glob("*_sent_emo.csv"))]
    if not frames:
        pytest.skip("no MELD transcripts")
    return [str(t) for df in frames for t in df["Utterance"]] + EXTRA


def test_minilm_is_read_without_transformers(folder):
    assert is_plain_wordpiece(Path(folder))
    assert isinstance(open_tokenizer(folder), WordPieceTokenizer)


@pytest.mark.parametrize("max_length", [16, 64])
def test_ids_and_masks_equal_transformers(folder, texts, max_length):
    ours, theirs = WordPieceTokenizer(Path(folder)), TransformersTokenizer(folder)
    assert (ours.pad_token_id, ours.cls_token_id, ours.sep_token_id) == (
        theirs.pad_token_id,
        theirs.cls_token_id,
        theirs.sep_token_id,
    )
    for a, b in zip(ours.batch(texts, max_length), theirs.batch(texts, max_length)):
        assert a.dtype == b.dtype and a.shape == b.shape == (len(texts), max_length)
        np.testing.assert_array_equal(a, b)
    sample = texts[::7]
    assert [ours.ids(t) for t in sample] == [theirs.ids(t) for t in sample]
    assert [ours.tokenize(t) for t in sample] == [theirs.tokenize(t) for t in sample]
    ids = ours.batch(sample, max_length)[0]
    assert [ours.decode(r) for r in ids[:200]] == [theirs.decode(r) for r in ids[:200]]


def test_context_pairs_equal_transformers(folder, texts, monkeypatch):
    pairs = list(zip(texts[:-1:5], texts[1::5]))
    contexts, targets = [c for c, _ in pairs], [t for _, t in pairs]
    ours = tokens.tokenize_with_context(contexts, targets, "minilm", max_length=48)
    monkeypatch.setattr(tokens, "load_tokenizer", lambda name: TransformersTokenizer(folder))
    theirs = tokens.tokenize_with_context(contexts, targets, "minilm", max_length=48)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)


def test_a_tokenizer_config_that_disagrees_with_its_tokenizer_json_goes_through_transformers(folder, tmp_path):
    src = Path(folder)
    for name in ("tokenizer.json", "special_tokens_map.json", "vocab.txt"):
        (tmp_path / name).write_bytes((src / name).read_bytes())
    config = json.loads((src / "tokenizer_config.json").read_text())
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({**config, "do_lower_case": False}))
    assert not is_plain_wordpiece(tmp_path)
    assert isinstance(open_tokenizer(tmp_path), TransformersTokenizer)


def test_threads_tokenising_at_once_get_what_each_would_get_alone(folder):
    """batch() used to switch padding on and off on the one shared backend: a thread's ids() or batch() in
    between came back padded to another thread's length (one tokenizer is shared per process)."""
    from concurrent.futures import ThreadPoolExecutor

    tok = WordPieceTokenizer(Path(folder))
    texts = [f"utterance number {i} " + "word " * (i % 23) for i in range(64)]
    alone = {n: tok.batch(texts, n)[0] for n in (8, 24, 64)}
    plain = [tok.ids(t) for t in texts]

    def work(i: int):
        n = (8, 24, 64)[i % 3]
        return n, tok.batch(texts, n)[0], [tok.ids(t) for t in texts[i % 5 :: 5]], i % 5

    with ThreadPoolExecutor(4) as pool:
        for n, ids, unpadded, start in pool.map(work, range(60)):
            np.testing.assert_array_equal(ids, alone[n])
            assert unpadded == plain[start::5]
