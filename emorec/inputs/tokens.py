"""`text`: the transcript, tags cleaned ([LAUGHTER] ...), tokenised with the text encoder's own tokenizer.

With `text_context: k` the k previous utterances of the dialogue come first, as a sentence pair
([CLS] context [SEP] text [SEP]); the target text is kept whole, the context gives up its oldest tokens first.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

import numpy as np
import torch
from pydantic import Field

from emorec.inputs import register_input
from emorec.inputs.base import InputKind, Settings

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
    """The tokenizer of a text encoder, from local files only (see emorec.models.encoders.resolve_encoder and
    emorec.inputs.tokenizer)."""
    from emorec.inputs.tokenizer import open_tokenizer
    from emorec.models.encoders import resolve_encoder

    return open_tokenizer(resolve_encoder(name))


def tokenize(texts: list[str], tokenizer_name: str = "minilm", max_length: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Token ids int32 (N, max_length) and attention mask uint8 (N, max_length), padded and truncated."""
    texts = list(texts)
    if not texts:
        return np.zeros((0, max_length), np.int32), np.zeros((0, max_length), np.uint8)
    return load_tokenizer(tokenizer_name).batch(texts, max_length)


def tokenize_with_context(
    contexts: list[str], texts: list[str], tokenizer_name: str = "minilm", max_length: int = 64
) -> tuple[np.ndarray, np.ndarray]:
    """Like `tokenize`, but each text is preceded by its context as a sentence pair ([CLS] ctx [SEP] text [SEP]).

    The target text is kept whole (up to max_length); the context gives up its oldest tokens first.
    """
    tok = load_tokenizer(tokenizer_name)
    n = len(texts)
    ids = np.full((n, max_length), tok.pad_token_id or 0, np.int32)
    mask = np.zeros((n, max_length), np.uint8)
    for i, (ctx, text) in enumerate(zip(contexts, texts)):
        t_ids = tok.ids(text)[: max_length - 2]
        room = max_length - 3 - len(t_ids)
        c_ids = tok.ids(ctx)[-room:] if ctx and room > 0 else []
        cls_id = tok.cls_token_id if tok.cls_token_id is not None else tok.bos_token_id
        sep_id = tok.sep_token_id if tok.sep_token_id is not None else tok.eos_token_id
        seq = ([cls_id] + c_ids + [sep_id] if c_ids else [cls_id]) + t_ids + [sep_id]
        seq = seq[:max_length]
        ids[i, : len(seq)] = seq
        mask[i, : len(seq)] = 1
    return ids, mask


class TextSettings(Settings):
    tokenizer: str = "minilm"
    max_length: int = Field(64, ge=4)
    tags: Literal["keep", "remove", "map"] = "keep"
    punctuation: Literal["keep", "ascii"] = "keep"  # ascii: ’ ‘ “ ” … — as ' ' " " ... -
    text_context: int = Field(0, ge=0, le=32)  # previous utterances of the same dialogue fed before the target
    context_speaker_tags: bool = True  # prefix each context utterance with its speaker ("Joey: ...")
    # transcript: the corpus' own text; asr: Whisper's words for the utterance's audio (emorec.speech), so that
    # a text model is measured on what prediction will give it
    text_source: Literal["transcript", "asr"] = "transcript"
    asr_language: str | None = None  # with text_source asr: a code such as "en"; None detects it per utterance


@register_input
class Tokens(InputKind):
    name = "text"
    modality = "text"
    tensor = "tokens"
    Settings = TextSettings

    def arrays(self):
        n = self.settings.max_length
        return {"input_ids": ((n,), np.dtype(np.int32)), "attention_mask": ((n,), np.dtype(np.uint8))}

    def prepare(self) -> None:
        load_tokenizer(self.settings.tokenizer)

    def clean(self, text: str | None) -> str:
        """The transcript as the text model reads it ('' = no usable text)."""
        return clean_text(text or "", self.settings.tags, self.settings.punctuation)

    def extract(self, items: list) -> dict[str, np.ndarray]:
        """items: cleaned, non-empty texts, or (text, context) pairs when the model reads dialogue context."""
        s = self.settings
        if items and isinstance(items[0], tuple):
            contexts = [self.clean(c) for _, c in items]
            ids, mask = tokenize_with_context(contexts, [t for t, _ in items], s.tokenizer, s.max_length)
        else:
            ids, mask = tokenize(list(items), s.tokenizer, s.max_length)
        return {"input_ids": ids, "attention_mask": mask}

    def transform(self, arrays, stats=None, augment=None, rng=None) -> dict:
        return {
            "input_ids": torch.from_numpy(np.asarray(arrays["input_ids"], dtype=np.int64)),
            "attention_mask": torch.from_numpy(np.asarray(arrays["attention_mask"], dtype=np.int64)),
        }
