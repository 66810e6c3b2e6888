"""Transcript tag cleaning and tokenisation (emorec.inputs.tokens)."""

from __future__ import annotations

import numpy as np
import pytest

from emorec.inputs.tokens import clean_text, load_tokenizer, tokenize

RAW = "Oh [LAUGHTER] that's  funny. [BREATHING] [GARBAGE] Yes [SIGH]"


def test_tags_keep_remove_map():
    assert clean_text(RAW, "keep") == "Oh [LAUGHTER] that's funny. [BREATHING] [GARBAGE] Yes [SIGH]"
    assert clean_text(RAW, "remove") == "Oh that's funny. Yes"
    assert clean_text(RAW, "map") == "Oh (laughs) that's funny. (breathes) Yes (sighs)"
    assert clean_text("[LAUGHTER]", "remove") == ""
    assert clean_text("well [COUGH]", "map") == "well (cough)"  # unknown tags become (tag)
    assert clean_text("a [b] c", "remove") == "a c"
    with pytest.raises(ValueError):
        clean_text("x", "drop")


def test_punctuation_ascii_gives_the_tokens_of_plain_quotes():
    meld = "No don’t… I beg—you, “Chandler”"  # as MELD writes it
    assert clean_text(meld, punctuation="keep") == meld
    plain = clean_text(meld, punctuation="ascii")
    assert plain == 'No don\'t... I beg - you, "Chandler"'
    tok = load_tokenizer("minilm")
    assert tok.tokenize(clean_text("company’s", punctuation="ascii")) == tok.tokenize("company's")
    assert "’" in tok.tokenize("company’s")  # unnormalised, the curly quote is a token of its own
    with pytest.raises(ValueError, match="punctuation"):
        clean_text("x", punctuation="latin1")


def test_tokenize_pads_truncates_and_masks():
    ids, mask = tokenize(["Excuse me.", "word " * 100, "Oh (laughs) yes"], "minilm", max_length=16)
    assert ids.shape == mask.shape == (3, 16)
    assert ids.dtype == np.int32 and mask.dtype == np.uint8
    tok = load_tokenizer("minilm")
    assert ids[0, 0] == tok.cls_token_id
    n0 = int(mask[0].sum())
    assert ids[0, n0 - 1] == tok.sep_token_id and (ids[0, n0:] == tok.pad_token_id).all() and not mask[0, n0:].any()
    assert mask[1].all() and ids[1, -1] == tok.sep_token_id  # truncated to max_length
    assert tok.decode(ids[0, 1 : n0 - 1]) == "excuse me."
    assert mask[2].sum() > mask[0].sum()


def test_tokenize_empty_list():
    ids, mask = tokenize([], "minilm", max_length=8)
    assert ids.shape == (0, 8) and mask.shape == (0, 8)
