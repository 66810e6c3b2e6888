"""Lenient reading of user and corpus text tables: bad bytes and bad rows become Problems, never exceptions."""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

from emorec.corpora.records import Problem


def _cp1252_fallback(err: UnicodeDecodeError):
    """Decode bytes that are not UTF-8 as Windows-1252 (Latin-1 for its five undefined bytes)."""
    chunk = err.object[err.start:err.end]
    return "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in chunk), err.end


codecs.register_error("emorec.cp1252", _cp1252_fallback)


def read_text_lenient(path: Path, problems: list[Problem]) -> str:
    """The file as text: UTF-8 (BOM dropped); lines that are not UTF-8 are read as Windows-1252 and reported."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    lines = raw.split(b"\n")
    if lines[0].startswith(codecs.BOM_UTF8):
        lines[0] = lines[0][len(codecs.BOM_UTF8):]
    out = []
    for number, line in enumerate(lines, 1):
        try:
            out.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            out.append(line.decode("utf-8", errors="emorec.cp1252"))
            problems.append(Problem(str(path), number, "encoding: bytes that are not UTF-8, read as Windows-1252"))
    return "\n".join(out)


def csv_table(path: Path, problems: list[Problem], delimiter: str = ","):
    """(header or None, iterator of (first physical line, row)) over a CSV; CSV errors are reported and skipped."""
    reader = csv.reader(io.StringIO(read_text_lenient(path, problems), newline=""), delimiter=delimiter)
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
