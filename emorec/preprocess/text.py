"""Transcripts: tag cleaning ([LAUGHTER] ...) and tokenisation with the text encoder's own tokenizer."""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

# a [TAG]: brackets found first (no nested '[' or ']': one scan per bracket), the name checked after, so
# that a long unclosed '[...' costs linear time
TAG = re.compile(r"\[([^\[\]]*)\]")
_TAG_NAME = re.compile(r"[A-Za-z][A-Za-z _-]*")
TAG_WORDS = {  # tags="map": the word a tag becomes ('' drops it)
    "laughter": "(laughs)",
    "laugh": "(laughs)",
    "breathing": "(breathes)",
    "sigh": "(sighs)",
    "lipsmack": "",
    "garbage": "",
    "noise": "",
}


# punctuation="ascii": typographic marks as the plain ASCII most pretraining text uses (MELD writes don’t, …)
ASCII_PUNCTUATION = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "…": "...", "—": " - ", "–": "-"})


def clean_text(text: str, tags: str = "keep", punctuation: str = "keep") -> str:
    """tags keep: unchanged (whitespace tidied); remove: drop [TAG]s; map: [LAUGHTER] -> '(laughs)', unknown
    [TAG] -> '(tag)', noise tags dropped. punctuation ascii: curly quotes, ellipsis and dashes as ASCII."""
    if tags not in ("keep", "remove", "map"):
        raise ValueError(f"tags must be keep, remove or map, not {tags!r}")
    if punctuation not in ("keep", "ascii"):
        raise ValueError(f"punctuation must be keep or ascii, not {punctuation!r}")
    if punctuation == "ascii":
        text = text.translate(ASCII_PUNCTUATION)
    if tags == "remove":
        text = TAG.sub(lambda m: " " if _tag_name(m) else m.group(0), text)
    elif tags == "map":
        text = TAG.sub(lambda m: f" {_tag_word(name)} " if (name := _tag_name(m)) else m.group(0), text)
    return " ".join(text.split())


def _tag_name(m: re.Match) -> str | None:
    """The tag's name ('[ LAUGHTER ]' -> 'LAUGHTER'), or None when the brackets hold something else."""
    name = m.group(1).strip()
    return name if _TAG_NAME.fullmatch(name) else None


def _tag_word(name: str) -> str:
    return TAG_WORDS.get(name.lower(), "(" + name.lower() + ")")


@lru_cache(maxsize=4)
def load_tokenizer(name: str = "minilm"):
    """The tokenizer of a text encoder, from local files only (see emorec.encoders.resolve_encoder)."""
    from transformers import AutoTokenizer

    from emorec.encoders import resolve_encoder

    return AutoTokenizer.from_pretrained(resolve_encoder(name))


def tokenize(texts: list[str], tokenizer_name: str = "minilm", max_length: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Token ids int32 (N, max_length) and attention mask uint8 (N, max_length), padded and truncated."""
    texts = list(texts)
    if not texts:
        return np.zeros((0, max_length), np.int32), np.zeros((0, max_length), np.uint8)
    tok = load_tokenizer(tokenizer_name)
    enc = tok(texts, padding="max_length", truncation=True, max_length=max_length, return_tensors="np")
    return enc["input_ids"].astype(np.int32), enc["attention_mask"].astype(np.uint8)


def tokenize_with_context(contexts: list[str], texts: list[str], tokenizer_name: str = "minilm",
                          max_length: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Like `tokenize`, but each text is preceded by its context as a sentence pair ([CLS] ctx [SEP] text [SEP]).

    The target text is kept whole (up to max_length); the context gives up its oldest tokens first.
    """
    tok = load_tokenizer(tokenizer_name)
    n = len(texts)
    ids = np.full((n, max_length), tok.pad_token_id or 0, np.int32)
    mask = np.zeros((n, max_length), np.uint8)
    for i, (ctx, text) in enumerate(zip(contexts, texts)):
        t_ids = tok(text, add_special_tokens=False)["input_ids"][: max_length - 2]
        room = max_length - 3 - len(t_ids)
        c_ids = tok(ctx, add_special_tokens=False)["input_ids"][-room:] if ctx and room > 0 else []
        cls_id = tok.cls_token_id if tok.cls_token_id is not None else tok.bos_token_id
        sep_id = tok.sep_token_id if tok.sep_token_id is not None else tok.eos_token_id
        seq = ([cls_id] + c_ids + [sep_id] if c_ids else [cls_id]) + t_ids + [sep_id]
        seq = seq[:max_length]
        ids[i, : len(seq)] = seq
        mask[i, : len(seq)] = 1
    return ids, mask
