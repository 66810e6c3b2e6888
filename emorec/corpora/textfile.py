"""One reader for every user and corpus text file (tables, label files, subtitles, transcripts, configs).

Encodings: a byte-order mark picks UTF-8, UTF-16 LE/BE or UTF-32 LE/BE; without one, UTF-16/UTF-32 are
recognised from their zero bytes, then UTF-8 is tried, and lines that are not UTF-8 are read as Windows-1252.
Line ends: CR, LF and CRLF are all line ends (the readers see LF only, unless they ask to keep them).
Binary files (a known binary format such as PNG, ZIP/XLSX, MP4; NUL bytes making 1% of the file; NUL bytes in a
file that is not UTF-8) are refused with `TextFileError`, which names the file (and line); a stray NUL in a
UTF-8 text costs its line only (lenient) or is refused (strict). Lenient readers pass a `problems` list: bad
bytes then become Problems, never exceptions, and bytes a byte-order mark's encoding cannot decode are replaced.
"""

from __future__ import annotations

import bisect
import codecs
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # records imports pandas: configs and subtitles are read without it
    from emorec.corpora.records import Problem

# longest first: the UTF-32-LE mark starts with the UTF-16-LE one
BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32-LE"),
    (codecs.BOM_UTF32_BE, "UTF-32-BE"),
    (codecs.BOM_UTF8, "UTF-8"),
    (codecs.BOM_UTF16_LE, "UTF-16-LE"),
    (codecs.BOM_UTF16_BE, "UTF-16-BE"),
)
TEXT_ENCODINGS = "UTF-8, UTF-16 or UTF-32 text, or Windows-1252"
MAX_ENCODING_PROBLEMS = 20  # per file; the rest are counted in one more problem
_LINE_END = re.compile(r"\r\n|\r|\n")
_RAW_LINE_END = re.compile(rb"(\r\n|\r|\n)")
_SAMPLE = 1 << 16
SIGNATURES = (  # first bytes of binary files people give by mistake
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive (.zip, .xlsx, .docx, ...)"),
    (b"\xd0\xcf\x11\xe0", "an old Office file (.xls, .doc)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"%PDF", "a PDF document"),
    (b"RIFF", "a RIFF file (WAV, AVI)"),
    (b"\x1aE\xdf\xa3", "a Matroska/WebM video"),
    (b"OggS", "an Ogg file"),
    (b"fLaC", "a FLAC file"),
    (b"ID3", "an MP3 file"),
    (b"PAR1", "a Parquet table"),
    (b"SQLite format 3", "an SQLite database"),
    (b"\x7fELF", "an executable"),
)


class TextFileError(ValueError):
    """A text file that cannot be read or decoded; `reason` never holds the path itself."""

    def __init__(self, file, reason: str, line: int = 0):
        self.file, self.line, self.reason = str(file), line, reason
        super().__init__(f"{file}:{line}: {reason}" if line else f"{file}: {reason}")


@dataclass
class DecodedText:
    text: str  # line ends as in the file
    encoding: str  # "UTF-8", "UTF-16-LE", ... ("UTF-8 + Windows-1252" when some lines were not UTF-8)
    bom: bool


def _cp1252_fallback(err: UnicodeDecodeError):
    """Decode bytes that are not UTF-8 as Windows-1252 (Latin-1 for its five undefined bytes)."""
    chunk = err.object[err.start : err.end]
    return "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in chunk), err.end


codecs.register_error("emorec.cp1252", _cp1252_fallback)


def normalise_line_ends(text: str) -> str:
    """CRLF and lone CR as LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _line_of(text: str, index: int) -> int:
    """1-based line of character `index` (CR, LF and CRLF end lines)."""
    return len(_LINE_END.findall(text, 0, index)) + 1


def _report(problems: list[Problem] | None, file, lines: list[tuple[int, str]]) -> None:
    if problems is None or not lines:
        return
    from emorec.corpora.records import Problem

    for line, reason in lines[:MAX_ENCODING_PROBLEMS]:
        problems.append(Problem(str(file), line, reason))
    if len(lines) > MAX_ENCODING_PROBLEMS:
        problems.append(
            Problem(
                str(file), 0, f"encoding: {len(lines) - MAX_ENCODING_PROBLEMS} more lines with bad bytes not listed"
            )
        )


def _guess_wide(raw: bytes) -> str | None:
    """UTF-32/UTF-16 without a byte-order mark, recognised from the zero bytes of mostly-ASCII text."""
    sample = raw[:4096]
    n = len(sample) - len(sample) % 4
    if n < 8:
        return None
    zero = [sample[i:n:4].count(0) / (n // 4) for i in range(4)]
    if zero[1] > 0.9 and zero[2] > 0.9 and zero[3] > 0.9 and zero[0] < 0.1 and len(raw) % 4 == 0:
        return "UTF-32-LE"
    if zero[0] > 0.9 and zero[1] > 0.9 and zero[2] > 0.9 and zero[3] < 0.1 and len(raw) % 4 == 0:
        return "UTF-32-BE"
    even, odd = (zero[0] + zero[2]) / 2, (zero[1] + zero[3]) / 2
    if odd > 0.3 and even < 0.02 and len(raw) % 2 == 0:
        return "UTF-16-LE"
    if even > 0.3 and odd < 0.02 and len(raw) % 2 == 0:
        return "UTF-16-BE"
    return None


def _signature(raw: bytes) -> str | None:
    """The kind of a well-known binary file (by its first bytes), or None."""
    head = raw[:8]
    if raw[4:8] == b"ftyp" and 0 in raw[:4]:  # an ISO media box: its 32-bit size starts with a zero byte
        return "an MP4/MOV video"
    for magic, kind in SIGNATURES:
        # ASCII magics ('RIFF', 'OggS', ...) only count in a file that holds NUL bytes: a text may start so
        if head.startswith(magic) and (max(magic) > 0x7F or 0 in raw[:_SAMPLE]):
            return kind
    return None


def _mostly_nul(raw: bytes) -> bool:
    sample = raw[:_SAMPLE]
    nul = sample.count(0)
    return nul >= 4 and nul >= 0.01 * len(sample)


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _binary(file, raw: bytes, kind: str | None = None) -> TextFileError:
    nul = raw.find(0)
    where = f"a NUL byte at byte {nul}" if nul >= 0 else "binary bytes"
    line = len(_RAW_LINE_END.findall(raw, 0, nul)) + 1 if nul >= 0 and kind is None else 0
    hint = "" if kind else " (UTF-16 and UTF-32 need a byte-order mark unless the text is mostly ASCII)"
    return TextFileError(file, f"binary content ({kind or where}); expected {TEXT_ENCODINGS}{hint}", line)


def _nul_lines(text: str, file, problems: list[Problem] | None) -> str:
    """Text without NUL characters: strict, the first one raises; lenient, lines holding one are reported
    and left empty (their line ends kept, so later line numbers stay right)."""
    at = text.find("\x00")
    if at < 0:
        return text
    if problems is None:
        raise TextFileError(
            file, f"binary content (a NUL character on this line); expected {TEXT_ENCODINGS}", _line_of(text, at)
        )
    pieces = _LINE_END.split(text)
    ends = _LINE_END.findall(text) + [""]
    bad = []
    for i, piece in enumerate(pieces):
        if "\x00" in piece:
            pieces[i] = ""
            bad.append((i + 1, "binary bytes: a NUL character on the line; line ignored"))
    _report(problems, file, bad)
    return "".join(p + e for p, e in zip(pieces, ends))


def _decode_wide(data: bytes, encoding: str, offset: int, file, problems, why: str) -> str:
    """Decode UTF-16/32 `data` (which starts at byte `offset` of the file); bad units are reported
    (lenient) or raise TextFileError naming the encoding, byte and line."""
    codec = encoding.lower()
    parts, bad, pos = [], [], 0  # bad: (character index, file byte) of each replaced unit
    while True:
        try:
            parts.append(data[pos:].decode(codec))
            break
        except UnicodeDecodeError as e:
            head = data[pos : pos + e.start].decode(codec)
            parts.append(head)
            bad.append((sum(map(len, parts)), offset + pos + e.start))
            if problems is None:
                text = "".join(parts)
                raise TextFileError(
                    file,
                    f"not valid {encoding} at byte {offset + pos + e.start} ({e.reason}); {why}",
                    _line_of(text, len(text)),
                ) from None
            parts.append("\ufffd")
            pos += e.end
            if len(bad) > MAX_ENCODING_PROBLEMS:
                parts.append(data[pos:].decode(codec, errors="replace"))
                break
    text = "".join(parts)
    ends = [m.end() for m in _LINE_END.finditer(text)]
    _report(
        problems,
        file,
        [
            (
                bisect.bisect_right(ends, i) + 1,
                f"encoding: bytes at byte {b} are not valid {encoding} ({why}); replaced",
            )
            for i, b in bad
        ],
    )
    return text


def _decode_utf8_lines(data: bytes, file, problems) -> tuple[str, bool]:
    """UTF-8, or line by line: lines that are not UTF-8 are read as Windows-1252 (and reported)."""
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        pass
    pieces = _RAW_LINE_END.split(data)  # line, end, line, end, ..., line
    out, bad = [], []
    for i, piece in enumerate(pieces):
        if i % 2 == 0:
            try:
                piece = piece.decode("utf-8")
            except UnicodeDecodeError:
                piece = piece.decode("utf-8", errors="emorec.cp1252")
                bad.append((i // 2 + 1, "encoding: bytes that are not UTF-8, read as Windows-1252"))
        else:
            piece = piece.decode("ascii")
        out.append(piece)
    _report(problems, file, bad)
    return "".join(out), True


def decode_text(raw: bytes, file="<text>", problems: list[Problem] | None = None) -> DecodedText:
    """The text of a file's bytes (line ends kept). With `problems`, bad bytes are reported there and
    replaced, and lines holding NUL are reported and emptied; without, both raise TextFileError. Binary
    files (a known binary format, or many NUL bytes) always raise TextFileError."""
    for bom, encoding in BOMS:
        if raw.startswith(bom):
            data = raw[len(bom) :]
            if encoding == "UTF-8":
                text, mixed = _decode_utf8_lines(data, file, problems)
                encoding = "UTF-8 + Windows-1252" if mixed else encoding
                return DecodedText(_nul_lines(text, file, problems), encoding, True)
            why = f"the file starts with a {encoding} byte-order mark"
            text = _decode_wide(data, encoding, len(bom), file, problems, why)
            return DecodedText(_nul_lines(text, file, problems), encoding, True)
    kind = _signature(raw)
    if kind is not None:
        raise _binary(file, raw, kind)
    if 0 in raw:
        guess = _guess_wide(raw)
        if guess is not None:
            try:
                text = raw.decode(guess.lower())
            except UnicodeDecodeError:
                text = None
            if text is not None and "\x00" not in text:
                _report(problems, file, [(0, f"encoding: no byte-order mark; read as {guess}")])
                return DecodedText(text, guess, False)
        if problems is None or _mostly_nul(raw) or not _is_utf8(raw):  # lenient: a stray NUL in UTF-8 text
            raise _binary(file, raw)
    text, mixed = _decode_utf8_lines(raw, file, problems)
    return DecodedText(_nul_lines(text, file, problems), "UTF-8 + Windows-1252" if mixed else "UTF-8", False)


def read_text(path, problems: list[Problem] | None = None, *, keep_line_ends: bool = False) -> str:
    """A text file's content in any of the encodings above; line ends as LF unless `keep_line_ends`.

    TextFileError (a ValueError) when the file cannot be read, is binary, or (without `problems`) holds
    bytes its encoding cannot decode."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise TextFileError(path, f"cannot read: {e.strerror or e}") from None
    text = decode_text(raw, path, problems).text
    return text if keep_line_ends else normalise_line_ends(text)


def read_lines(path, problems: list[Problem] | None = None) -> list[str]:
    """The file's lines without their ends (CR, LF or CRLF)."""
    return read_text(path, problems).split("\n")


def read_yaml(path):
    """Parsed YAML of a file read like any other text; TextFileError naming the file and line when the
    YAML is malformed."""
    import yaml

    text = read_text(path)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        what = getattr(e, "problem", None) or str(e).split("\n")[0]
        raise TextFileError(path, f"invalid YAML: {what}", mark.line + 1 if mark is not None else 0) from None


def read_text_lenient(path: Path, problems: list[Problem]) -> str:
    """The file as text with its line ends; bad bytes reported in `problems` (TextFileError when unusable)."""
    return read_text(path, problems, keep_line_ends=True)


def csv_table(path: Path, problems: list[Problem], delimiter: str = ","):
    """(header or None, iterator of (first physical line, row)) over a CSV; CSV errors are reported and skipped."""
    from emorec.corpora.records import Problem

    try:
        text = read_text_lenient(path, problems)
    except TextFileError as e:
        problems.append(Problem(str(path), e.line, f"unreadable file: {e.reason}"))
        return None, iter(())
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
    except csv.Error as e:
        problems.append(Problem(str(path), 1, f"header: {e}"))
        return None, iter(())
    if header is None:
        problems.append(Problem(str(path), 1, "empty file: no header"))
        return None, iter(())

    def rows():
        while True:
            line = reader.line_num + 1  # first physical line of the next record
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                problems.append(Problem(str(path), line, f"csv: {e}"))
                if reader.line_num < line:  # nothing consumed: the reader cannot go on
                    return
                continue
            if row and any(c.strip() for c in row):
                yield line, row

    return header, rows()
