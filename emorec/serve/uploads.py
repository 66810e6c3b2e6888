"""Multipart uploads parsed while they stream in: each file goes straight to the request's folder under its own
byte limit (checked before every write, so at most the limit reaches the disk), plain fields are capped too."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

MAX_PARTS = 16  # files and fields of one request
MAX_VALUE_BYTES = 4096  # a plain field (speaker_side, window)
MAX_HEADER_BYTES = 8192  # one header line of a part


class UploadError(Exception):
    """A request the upload rules refuse: an HTTP status and a message naming the field or file."""

    def __init__(self, status: int, detail: str):
        self.status, self.detail = status, detail
        super().__init__(detail)


@dataclass
class FileRule:
    """How one file field is taken: at most `limit` bytes; `store_as(filename)` gives the name to store it
    under (or raises UploadError for a type that is refused); `too_large(filename)` the 413 message."""

    limit: int
    store_as: Callable[[str], str]
    too_large: Callable[[str], str]


@dataclass
class SavedFile:
    filename: str  # as the client sent it (for messages; never a server path)
    path: Path
    size: int = 0


@dataclass
class Form:
    files: dict[str, SavedFile] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)


class _Receiver:
    """python-multipart callbacks that write file parts to `folder` and keep plain fields in memory."""

    def __init__(self, folder: Path, rules: dict[str, FileRule], value_fields: set[str]):
        self.folder, self.rules, self.value_fields = folder, rules, value_fields
        self.form = Form()
        self.parts = 0
        self._header_name = self._header_value = b""
        self._disposition = b""
        self._reset_part()

    def _reset_part(self) -> None:
        self._name, self._file, self._out, self._value, self._rule = "", None, None, None, None

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": self.header_field,
            "on_header_value": self.header_value,
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
        }

    def part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise UploadError(413, f"too many form parts (at most {MAX_PARTS})")
        self._reset_part()
        self._disposition = b""

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]
        self._check_header()

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]
        self._check_header()

    def _check_header(self) -> None:
        if len(self._header_name) + len(self._header_value) > MAX_HEADER_BYTES:
            raise UploadError(413, f"a form part header is longer than {MAX_HEADER_BYTES} bytes")

    def header_end(self) -> None:
        if self._header_name.strip().lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = self._header_value = b""

    def headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if self._name in self.rules:
            if filename is None:
                raise UploadError(422, f"{self._name}: expected a file upload")
            if self._name in self.form.files:
                raise UploadError(422, f"{self._name}: given more than once")
            name = filename.decode("utf-8", "replace")
            if not name:  # a browser's empty file input: no file
                return
            self._rule = self.rules[self._name]
            path = self.folder / self._rule.store_as(name)
            self._file = SavedFile(name, path)
            self._out = path.open("xb")
            self.form.files[self._name] = self._file
        elif self._name in self.value_fields and filename is None:
            self._value = bytearray()

    def part_data(self, data: bytes, start: int, end: int) -> None:
        n = end - start
        if self._out is not None:
            if self._file.size + n > self._rule.limit:
                raise UploadError(413, self._rule.too_large(self._file.filename))
            self._out.write(data[start:end])
            self._file.size += n
        elif self._value is not None:
            if len(self._value) + n > MAX_VALUE_BYTES:
                raise UploadError(413, f"{self._name}: longer than {MAX_VALUE_BYTES} bytes")
            self._value += data[start:end]

    def part_end(self) -> None:
        if self._out is not None:
            self._out.close()
        if self._value is not None:
            self.form.values[self._name] = self._value.decode("utf-8", "replace")
        self._reset_part()

    def close(self) -> None:
        if self._out is not None:
            self._out.close()


async def receive_form(request, folder: Path, rules: dict[str, FileRule], value_fields: set[str]) -> Form:
    """Parse a multipart/form-data request body as it arrives; files of `rules` are written to `folder`.

    Fields of other names are read past and dropped. UploadError (413, 415, 422) for what is refused."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or not params.get(b"boundary"):
        raise UploadError(422, "expected a multipart/form-data body with a `video` file")
    receiver = _Receiver(folder, rules, value_fields)
    try:
        parser = MultipartParser(params[b"boundary"], receiver.callbacks(), max_header_size=MAX_HEADER_BYTES)
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except FormParserError as e:
        raise UploadError(400, f"malformed multipart body ({e})") from None
    finally:
        receiver.close()
    return receiver.form
