"""A text encoder's tokenizer, from local files only, behind one small interface.

For a BERT WordPiece tokenizer (MiniLM) the folder's tokenizer.json runs directly on the `tokenizers` library,
the fast tokenizer transformers' BertTokenizerFast wraps, without importing transformers (about 1 s on a
2-core CPU). Any other tokenizer, or a tokenizer.json whose normaliser disagrees with tokenizer_config.json
(transformers would rebuild it), goes through transformers' AutoTokenizer. tests/unit/inputs/test_tokenizer.py
compares both on every MELD transcript.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np

BERT_CLASSES = ("BertTokenizer", "BertTokenizerFast")


class Tokenizer:
    """pad/cls/sep/bos/eos token ids, `ids(text)` (no special tokens), `batch(texts, max_length)`; `tokenize`
    and `decode` as transformers' (tokens of a text, text of ids with the special tokens kept)."""

    pad_token_id = cls_token_id = sep_token_id = bos_token_id = eos_token_id = None

    def ids(self, text: str) -> list[int]:
        raise NotImplementedError

    def tokenize(self, text: str) -> list[str]:
        raise NotImplementedError

    def decode(self, ids) -> str:
        raise NotImplementedError

    def batch(self, texts: list[str], max_length: int) -> tuple[np.ndarray, np.ndarray]:
        """Ids int32 (N, max_length) with special tokens, truncated and padded, and the attention mask uint8."""
        raise NotImplementedError


class WordPieceTokenizer(Tokenizer):
    def __init__(self, folder: Path):
        from tokenizers import Tokenizer as Backend

        self.backend = Backend.from_file(str(folder / "tokenizer.json"))
        self._plain(self.backend)  # the file's own truncation and padding (128) are not transformers' behaviour
        self._padded: dict[int, Backend] = {}  # max_length -> a copy that truncates and pads to it
        self._lock = threading.Lock()
        special = json.loads((folder / "special_tokens_map.json").read_text())
        tokens = {k: v["content"] if isinstance(v, dict) else v for k, v in special.items()}
        for name in ("pad", "cls", "sep"):
            token = tokens.get(f"{name}_token")
            setattr(self, f"{name}_token_id", self.backend.token_to_id(token) if token else None)
        self.pad_token = tokens.get("pad_token", "[PAD]")

    @staticmethod
    def _plain(backend) -> None:
        backend.no_truncation()
        backend.no_padding()

    def _padding_to(self, max_length: int):
        """A backend that truncates and pads to max_length, made once: nothing is switched on and off per call,
        so threads may tokenise at once (load_tokenizer shares one tokenizer per process; emorec's own paths
        use it from one thread at a time, a caller's threads need not)."""
        with self._lock:
            backend = self._padded.get(max_length)
            if backend is None:
                backend = type(self.backend).from_str(self.backend.to_str())
                backend.enable_truncation(max_length)
                backend.enable_padding(length=max_length, pad_id=self.pad_token_id or 0, pad_token=self.pad_token)
                self._padded[max_length] = backend
        return backend

    def ids(self, text: str) -> list[int]:
        return self.backend.encode(text, add_special_tokens=False).ids

    def tokenize(self, text: str) -> list[str]:
        return self.backend.encode(text, add_special_tokens=False).tokens

    def decode(self, ids) -> str:
        return self.backend.decode([int(i) for i in ids], skip_special_tokens=False)

    def batch(self, texts: list[str], max_length: int) -> tuple[np.ndarray, np.ndarray]:
        encoded = self._padding_to(max_length).encode_batch(list(texts))
        ids = np.array([e.ids for e in encoded], dtype=np.int32).reshape(len(texts), max_length)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.uint8).reshape(len(texts), max_length)
        return ids, mask


class TransformersTokenizer(Tokenizer):
    def __init__(self, folder: Path):
        from transformers import AutoTokenizer

        self.hf = AutoTokenizer.from_pretrained(str(folder))
        for name in ("pad", "cls", "sep", "bos", "eos"):
            setattr(self, f"{name}_token_id", getattr(self.hf, f"{name}_token_id", None))

    def ids(self, text: str) -> list[int]:
        return self.hf(text, add_special_tokens=False)["input_ids"]

    def tokenize(self, text: str) -> list[str]:
        return self.hf.tokenize(text)

    def decode(self, ids) -> str:
        return self.hf.decode([int(i) for i in ids])

    def batch(self, texts: list[str], max_length: int) -> tuple[np.ndarray, np.ndarray]:
        enc = self.hf(list(texts), padding="max_length", truncation=True, max_length=max_length, return_tensors="np")
        return enc["input_ids"].astype(np.int32), enc["attention_mask"].astype(np.uint8)


def _wordpiece(folder: Path) -> WordPieceTokenizer | None:
    """The folder's tokenizer on `tokenizers`, when it is a BERT tokenizer whose tokenizer.json already holds
    what tokenizer_config.json asks for (else transformers would rebuild its normaliser): None otherwise."""
    files = [folder / n for n in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")]
    if not all(f.is_file() for f in files):
        return None
    config = json.loads(files[1].read_text())
    if config.get("tokenizer_class") not in BERT_CLASSES:
        return None
    tok = WordPieceTokenizer(folder)
    n = tok.backend.normalizer
    agrees = (
        type(n).__name__ == "BertNormalizer"
        and n.lowercase == config.get("do_lower_case", True)
        and n.strip_accents == config.get("strip_accents")
        and n.handle_chinese_chars == config.get("tokenize_chinese_chars", True)
    )
    return tok if agrees else None


def is_plain_wordpiece(folder: Path) -> bool:
    return _wordpiece(Path(folder)) is not None


def open_tokenizer(folder: str | Path) -> Tokenizer:
    return _wordpiece(Path(folder)) or TransformersTokenizer(Path(folder))
