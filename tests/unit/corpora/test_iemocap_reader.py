"""IEMOCAP reader: format quirks line by line, a never-raise property, and the full label table as a tree."""

from __future__ import annotations

import re
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emorec.corpora.corpora import read_corpus
from emorec.corpora.iemocap import read
from emorec.corpora.labels import get_label_set
from support.iemocap_table_tree import write_tree_from_table

HEADER = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]"

EVAL_IMPRO01 = "\n".join(
    [
        HEADER,
        "",
        "[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]",
        "C-E2:\tNeutral;\t()",
        "C-E3:\tNeutral;\t()",
        "C-F1:\tNeutral;\t(curious)",
        "A-E3:\tval 3; act 2; dom  2;\t()",
        "A-E4:\tval 2; act 3; dom  3;\t(mildly aggravated but staying polite, attitude)",
        "",
        "[10.0100 - 11.3925]\tSes01F_impro01_F001\tfru\t[0.5000, 5.5000, 2.0000]",
        "C-E1:\tFrustration; Other;\t(disbelief)",
        "C-E2:\t;\t()",
        "A-E4:\tval 4; act 4; dom  3;\t(optimistic, cheerful, polite)",
        "",
        "[7.5712 - 10.4750]\tSes01F_impro01_M000\tang\t[1.5000, 4.0000, 4.5000]",
        "C-E1:\tAnger;\t()",
        "C-M1:\tAnger; Frustration;\t()",
        "",
    ]
)
TRANS_IMPRO01 = "\n".join(
    [
        "Ses01F_impro01_F000 [006.2901-008.2357]: Excuse me.",
        "Ses01F_impro01_M000 [007.5712-010.4750]: Do you have your forms? [LAUGHTER]",
        "Ses01F_impro01_F001 [010.0100-011.3925]: Yeah.",
        "Ses01F_impro01_MXX0 [011.5000-012.0000]: [BREATHING]",
        "",
    ]
)


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write files under root/IEMOCAP_full_release; returns the release folder."""
    release = root / "IEMOCAP_full_release"
    for rel, content in files.items():
        p = release / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content if isinstance(content, bytes) else content.encode())
    return release


def evaluation(session: int, dialog: str) -> str:
    return f"Session{session}/dialog/EmoEvaluation/{dialog}.txt"


def transcription(session: int, dialog: str) -> str:
    return f"Session{session}/dialog/transcriptions/{dialog}.txt"


def media(session: int, dialog: str, utt_ids: list[str]) -> dict[str, bytes]:
    files = {
        f"Session{session}/dialog/avi/DivX/{dialog}.avi": b"",
        f"Session{session}/dialog/wav/{dialog}.wav": b"",
    }
    files.update({f"Session{session}/sentences/wav/{dialog}/{u}.wav": b"" for u in utt_ids})
    return files


def by_reason(data, category: str):
    return [p for p in data.problems if p.reason.split(":")[0] == category]


@pytest.fixture
def impro01(tmp_path):
    ids = ["Ses01F_impro01_F000", "Ses01F_impro01_F001", "Ses01F_impro01_M000"]
    write(
        tmp_path,
        {
            evaluation(1, "Ses01F_impro01"): EVAL_IMPRO01,
            transcription(1, "Ses01F_impro01"): TRANS_IMPRO01,
            **media(1, "Ses01F_impro01", ids),
        },
    )
    return tmp_path


def test_block_fields_evaluators_and_text(impro01):
    data = read(impro01)
    assert [u.utt_id for u in data.utterances] == ["Ses01F_impro01_F000", "Ses01F_impro01_F001", "Ses01F_impro01_M000"]
    assert [u.order for u in data.utterances] == [0, 1, 2]
    f0, f1, m0 = data.utterances
    assert (f0.label, f0.start, f0.end, f0.val, f0.act, f0.dom) == ("neu", 6.2901, 8.2357, 2.5, 2.5, 2.5)
    assert f0.evaluators == ["C-E2:Neutral", "C-E3:Neutral", "C-F1:Neutral"]
    assert f1.evaluators == ["C-E1:Frustration", "C-E1:Other"]  # 'C-E2: ;' gives no vote
    assert m0.evaluators == ["C-E1:Anger", "C-M1:Anger", "C-M1:Frustration"]
    assert (f1.val, f1.act) == (0.5, 5.5)  # outside [1, 5] is kept
    assert (f0.speaker, f0.gender, f0.side, f0.session, f0.group) == ("Ses01F", "F", "left", 1, "1")
    assert (m0.speaker, m0.gender, m0.side) == ("Ses01M", "M", "right")
    assert f0.dialog == "Ses01F_impro01" and f0.scripted is False and f0.script == ""
    assert f0.text == "Excuse me."
    assert m0.text == "Do you have your forms? [LAUGHTER]"
    assert f0.corpus == "iemocap"
    assert f0.video_path.endswith("Session1/dialog/avi/DivX/Ses01F_impro01.avi")
    assert f0.audio_path.endswith("Session1/dialog/wav/Ses01F_impro01.wav")
    assert f0.sentence_wav.endswith("Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_F000.wav")
    # overlapping windows (F001 starts before M000 ends) are normal; only the XX turn is reported
    assert [p.reason for p in data.problems] == ["unlabelled turn: Ses01F_impro01_MXX0"]
    assert data.problems[0].line == 4 and data.problems[0].file.endswith("transcriptions/Ses01F_impro01.txt")


def test_root_may_be_release_dir_or_parent_and_registry(impro01):
    a = read(impro01)
    b = read(impro01 / "IEMOCAP_full_release")
    c = read_corpus("iemocap", str(impro01))
    assert [u.utt_id for u in a.utterances] == [u.utt_id for u in b.utterances] == [u.utt_id for u in c.utterances]
    with pytest.raises(FileNotFoundError, match="not found"):
        read(impro01 / "nowhere")
    with pytest.raises(FileNotFoundError, match="Session1"):
        read(impro01 / "IEMOCAP_full_release" / "Session1")


def test_crlf_reads_like_lf(tmp_path):
    crlf = tmp_path / "crlf"
    write(
        crlf,
        {
            evaluation(1, "Ses01F_impro01"): EVAL_IMPRO01.replace("\n", "\r\n"),
            transcription(1, "Ses01F_impro01"): TRANS_IMPRO01.replace("\n", "\r\n"),
        },
    )
    lf = tmp_path / "lf"
    write(lf, {evaluation(1, "Ses01F_impro01"): EVAL_IMPRO01, transcription(1, "Ses01F_impro01"): TRANS_IMPRO01})
    a, b = read(crlf), read(lf)
    assert [(u.utt_id, u.text, u.evaluators, u.dom) for u in a.utterances] == [
        (u.utt_id, u.text, u.evaluators, u.dom) for u in b.utterances
    ]
    assert a.utterances[0].text == "Excuse me."  # no stray '\r'
    assert a.problem_counts() == b.problem_counts()


def test_appledouble_and_evaluation_subfolders_ignored(impro01):
    junk = b"\x00\x05\x16\x07Mac OS X        garbage [1 - ] ..."
    write(
        impro01,
        {
            "Session1/dialog/EmoEvaluation/._Ses01F_impro01.txt": junk,
            "Session1/dialog/EmoEvaluation/Categorical/Ses01F_impro01_e1_cat.txt": "Ses01F_impro01_F000 :Neutral; ()",
            "Session1/dialog/EmoEvaluation/Attribute/Ses01F_impro01_e4_atr.txt": "Ses01F_impro01_F000 :act 2; val 3;",
            "Session1/dialog/EmoEvaluation/Self-evaluation/Ses01F_impro01.txt": "nothing to read",
            "Session1/dialog/transcriptions/._Ses01F_impro01.txt": junk,
            "Session1/sentences/wav/Ses01F_impro01/._Ses01F_impro01_F000.wav": junk,
            "._Session1": junk,
        },
    )
    data = read(impro01)
    assert len(data.utterances) == 3
    assert [p.reason for p in data.problems] == ["unlabelled turn: Ses01F_impro01_MXX0"]


def test_transcription_quirks(tmp_path):
    eval_text = "\n".join(
        [HEADER, ""]
        + [
            f"[{i}.0000 - {i}.9000]\tSes02M_impro03_{g}00{i}\tneu\t[3.0000, 3.0000, 3.0000]\nC-E1:\tNeutral;\t()\n"
            for i, g in [(1, "F"), (2, "F"), (3, "F"), (4, "M")]
        ]
    )
    trans = "\n".join(
        [
            "Ses02M_impro03_F001 [001.0000-001.9000]: Hi [LAUGHTER] there.",  # 1
            "Ses02M_impro03_MXX0 [001.5000-002.0000]: Hm.",  # 2 unlabelled XX turn
            "Ses02M_impro03_MXX1 : Yeah.",  # 3 XX turn without time
            "Ses02M_impro03_F002 []: No time here.",  # 4 labelled, time unusable: text kept
            "M: odd speaker line",  # 5
            "   ",  # 6 blank
            "Ses02M_impro03_F001 [001.0000-001.9000]: Again.",  # 7 duplicate
            "Ses02M_impro03_M004 [004.0000-004.9000]:",  # 8 empty text is fine
        ]
    )
    write(tmp_path, {evaluation(2, "Ses02M_impro03"): eval_text, transcription(2, "Ses02M_impro03"): trans})
    data = read(tmp_path)
    text = {u.utt_id: u.text for u in data.utterances}
    assert text == {
        "Ses02M_impro03_F001": "Hi [LAUGHTER] there.",
        "Ses02M_impro03_F002": "No time here.",
        "Ses02M_impro03_F003": "",
        "Ses02M_impro03_M004": "",
    }
    tr_file = "transcriptions/Ses02M_impro03.txt"
    tr = [(p.line, p.reason.split(":")[0]) for p in data.problems if p.file.endswith(tr_file)]
    assert tr == [
        (2, "unlabelled turn"),
        (3, "unlabelled turn"),
        (4, "transcript time unusable"),
        (5, "unparsable transcript line"),
        (7, "duplicate transcript"),
        (0, "no transcript"),
    ]
    assert "Ses02M_impro03_F003" in by_reason(data, "no transcript")[0].reason


def test_missing_transcription_file_reported_once(tmp_path):
    write(tmp_path, {evaluation(1, "Ses01F_impro01"): EVAL_IMPRO01})
    data = read(tmp_path)
    assert len(data.utterances) == 3 and all(u.text == "" for u in data.utterances)
    assert len(by_reason(data, "missing transcription")) == 1
    assert by_reason(data, "no transcript") == []


def test_extra_dialog_names_speaker_side_script(tmp_path):
    eval_05a = "\n".join(
        [
            HEADER,
            "",
            "[5.7300 - 7.5300]\tSes03M_impro05a_F000\tneu\t[3.5000, 2.5000, 2.5000]",
            "",
            "[8.0000 - 9.0000]\tSes03M_impro05a_M000\tsad\t[2.0000, 2.0000, 2.0000]",
            "",
        ]
    )
    eval_1b = "\n".join(
        [
            HEADER,
            "",
            "[1.0000 - 2.0000]\tSes05M_script01_1b_F000\tfru\t[2.0000, 3.5000, 3.0000]",
            "",
            "[2.5000 - 4.0000]\tSes05M_script01_1b_M003\tang\t[1.5000, 4.0000, 4.0000]",
            "",
        ]
    )
    eval_s2 = "\n".join([HEADER, "", "[1.0000 - 2.0000]\tSes04F_script02_2_M010\texc\t[4.0000, 4.0000, 3.0000]"])
    write(
        tmp_path,
        {
            evaluation(3, "Ses03M_impro05a"): eval_05a,
            evaluation(5, "Ses05M_script01_1b"): eval_1b,
            evaluation(4, "Ses04F_script02_2"): eval_s2,
        },
    )
    data = read(tmp_path)
    u = {x.utt_id: x for x in data.utterances}
    a = u["Ses03M_impro05a_F000"]
    assert (a.speaker, a.gender, a.side, a.session, a.scripted, a.script, a.dialog) == (
        "Ses03F",
        "F",
        "right",
        3,
        False,
        "",
        "Ses03M_impro05a",
    )
    assert (u["Ses03M_impro05a_M000"].speaker, u["Ses03M_impro05a_M000"].side) == ("Ses03M", "left")
    b = u["Ses05M_script01_1b_M003"]
    assert (b.speaker, b.gender, b.side, b.session, b.group, b.scripted, b.script) == (
        "Ses05M",
        "M",
        "left",
        5,
        "5",
        True,
        "script01_1",
    )
    assert u["Ses05M_script01_1b_F000"].side == "right"
    c = u["Ses04F_script02_2_M010"]
    assert (c.speaker, c.side, c.script) == ("Ses04M", "right", "script02_2")
    # corpus order: sessions ascending
    assert [x.session for x in data.utterances] == [3, 3, 4, 5, 5]


def test_bad_blocks_reported_with_file_and_line(tmp_path):
    lines = [
        HEADER,  # 1
        "",  # 2
        "[1.0000 - 2.0000]\tSes01M_impro02_F000\tneu\t[3.0000, 3.0000, 3.0000]",  # 3 ok
        "C-E1:\tNeutral;\t()",  # 4
        "",  # 5
        "[5.3661 - ]\tSes01M_impro02_F001\tneu\t[4.0000, 3.0000, 2.0000]",  # 6 malformed head
        "C-E1:\tNeutral;\t()",  # 7 belongs to the skipped block: not reported again
        "",  # 8
        "[3.0000 - 4.0000]\tSes01M_impro02_F002\tjoy\t[3.0000, 3.0000, 3.0000]",  # 9 unknown label
        "",  # 10
        "[9.0000 - 8.0000]\tSes01M_impro02_F003\tang\t[3.0000, 3.0000, 3.0000]",  # 11 end < start
        "",  # 12
        "[1.0000 - 2.5000]\tSes01M_impro02_F000\tsad\t[3.0000, 3.0000, 3.0000]",  # 13 duplicate id
        "",  # 14
        "this line is odd",  # 15
        "[6.0000 - 7.0000]\tSes01M_impro02_M000\thap\t[4.0000, 3.0000, 3.0000",  # 16 truncated
        "[6.0000 - 7.0000]\tSes01M_impro02_X000\thap\t[4.0000, 3.0000, 3.0000]",  # 17 no gender letter
        "[6.0000 - 7.0000]\tSes01F_impro02_M001\thap\t[4.0000, 3.0000, 3.0000]",  # 18 other dialog's turn
        "[6.0000 - 6.5000]\tSes01M_impro02_M002\thap\t[4.0000, 3.0000, 3.0000]",  # 19 ok, no blank before
        "A-E2:\tval 4; act 3; dom  3;\t()",  # 20
    ]
    write(tmp_path, {evaluation(1, "Ses01M_impro02"): "\n".join(lines)})
    data = read(tmp_path)
    assert [(u.utt_id, u.label) for u in data.utterances] == [
        ("Ses01M_impro02_F000", "neu"),
        ("Ses01M_impro02_M002", "hap"),
    ]
    eval_problems = [(p.line, p.reason.split(":")[0]) for p in data.problems if "EmoEvaluation" in p.file]
    assert eval_problems == [
        (6, "malformed block head"),
        (9, "unknown label"),
        (11, "bad window"),
        (13, "duplicate id"),
        (15, "unparsable line"),
        (16, "malformed block head"),
        (17, "bad turn name"),
        (18, "turn of another dialog"),
    ]
    assert all(p.file.endswith("Session1/dialog/EmoEvaluation/Ses01M_impro02.txt") for p in data.problems if p.line)
    assert "'joy'" in data.problems[[p.line for p in data.problems].index(9)].reason
    assert data.problem_counts()["malformed block head"] == 2


def test_missing_media_reported_once_and_utterances_kept(tmp_path):
    ids = ["Ses01F_impro01_F000", "Ses01F_impro01_F001", "Ses01F_impro01_M000"]
    files = {
        evaluation(1, "Ses01F_impro01"): EVAL_IMPRO01,
        transcription(1, "Ses01F_impro01"): TRANS_IMPRO01,
        evaluation(1, "Ses01M_impro02"): EVAL_IMPRO01.replace("Ses01F_impro01", "Ses01M_impro02"),
        transcription(1, "Ses01M_impro02"): TRANS_IMPRO01.replace("Ses01F_impro01", "Ses01M_impro02"),
    }
    files.update(media(1, "Ses01F_impro01", ids[:2]))  # M000's sentence wav is missing
    del files["Session1/dialog/avi/DivX/Ses01F_impro01.avi"]
    write(tmp_path, files)
    data = read(tmp_path)
    assert len(data.utterances) == 6
    counts = data.problem_counts()
    assert counts["missing video"] == 2  # one per dialog, not per utterance
    assert counts["missing dialog wav"] == 1  # Ses01M_impro02 only
    missing_sentences = by_reason(data, "missing sentence wav")
    assert len(missing_sentences) == 2
    assert missing_sentences[0].file.endswith("Ses01F_impro01/Ses01F_impro01_M000.wav")
    assert "folder" in missing_sentences[1].reason
    assert missing_sentences[1].file.endswith("sentences/wav/Ses01M_impro02")


def test_corpus_order_and_sessions_filter(tmp_path):
    def one(dialog, turns):
        blocks = [f"[{i}.0 - {i}.5]\t{dialog}_{t}\tneu\t[3.0, 3.0, 3.0]\n" for i, t in enumerate(turns)]
        return "\n".join([HEADER, ""] + blocks)

    write(
        tmp_path,
        {
            evaluation(2, "Ses02M_impro01"): one("Ses02M_impro01", ["F000", "F001", "M000"]),
            evaluation(2, "Ses02F_script01_1"): one("Ses02F_script01_1", ["F000", "M000", "M001"]),
            evaluation(1, "Ses01M_impro05"): one("Ses01M_impro05", ["F000", "M000"]),
            evaluation(1, "Ses01F_impro05"): one("Ses01F_impro05", ["F000"]),
        },
    )
    data = read(tmp_path)
    assert [u.utt_id for u in data.utterances] == [
        "Ses01F_impro05_F000",
        "Ses01M_impro05_F000",
        "Ses01M_impro05_M000",
        "Ses02F_script01_1_F000",
        "Ses02F_script01_1_M000",
        "Ses02F_script01_1_M001",
        "Ses02M_impro01_F000",
        "Ses02M_impro01_F001",
        "Ses02M_impro01_M000",
    ]
    assert [u.order for u in data.utterances] == list(range(9))
    assert {u.session for u in read(tmp_path, sessions=[2]).utterances} == {2}
    assert {u.session for u in read(tmp_path, sessions=["1"]).utterances} == {1}


def test_odd_files_and_folders_reported(tmp_path):
    write(
        tmp_path,
        {
            evaluation(1, "Ses01F_impro01"): EVAL_IMPRO01,
            "Session1/dialog/EmoEvaluation/notes.txt": "not a dialog",
            evaluation(1, "Ses01F_impro02"): HEADER + "\nC-E1:\tNeutral;\t()\n",  # no block at all
            "Session2/dialog/transcriptions/Ses02F_impro01.txt": "Ses02F_impro01_F000 [001.0-002.0]: hi",
        },
    )
    data = read(tmp_path)
    assert len(data.utterances) == 3
    reasons = {(Path(p.file).name, p.line, p.reason.split(":")[0]) for p in data.problems}
    assert ("notes.txt", 0, "unexpected file") in reasons
    assert ("Ses01F_impro02.txt", 2, "evaluator line outside a block") in reasons
    assert ("Ses01F_impro02.txt", 0, "no utterances") in reasons
    assert ("EmoEvaluation", 0, "missing EmoEvaluation") in reasons  # Session2 has no EmoEvaluation folder


# ---- property: the reader never raises and accounts for every line ----

DIALOGS = ["Ses01F_impro01", "Ses03M_impro05a", "Ses05M_script01_1b", "Ses04F_script03_2"]
_LINE_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r")  # CR ends a line too
_num = st.sampled_from(["0.5", "1", "2.5000", "5.5", "12.3456", "003.1000", "7."])
_code = st.sampled_from(["neu", "hap", "xxx", "exc", "fru", "joy", "NEU", ""])


@st.composite
def eval_line(draw, dialog):
    turn = f"{dialog}_{draw(st.sampled_from('FM'))}{draw(st.integers(0, 12)):03d}"
    head = f"[{draw(_num)} - {draw(_num)}]\t{turn}\t{draw(_code)}\t[{draw(_num)}, {draw(_num)}, {draw(_num)}]"
    return draw(
        st.one_of(
            st.just(head),
            st.integers(0, len(head)).map(lambda k: head[:k]),  # truncated head
            st.sampled_from(
                [
                    "C-E1:\tExcited;\t()",
                    "C-F2:\t;\t()",
                    "C-M1:\tFrustration; Other;\t(disbelief)",
                    "A-E4:\tval 4; act 4; dom  3;\t(optimistic, cheerful, polite)",
                    HEADER,
                    "",
                    "  ",
                ]
            ),
            st.text(_LINE_CHARS, max_size=40),
            st.text(_LINE_CHARS, max_size=20).map(lambda t: "[" + t),
        )
    )


@st.composite
def transcript_line(draw, dialog):
    turn = f"{dialog}_{draw(st.sampled_from(['F', 'M', 'MXX', 'FXX']))}{draw(st.integers(0, 12)):03d}"
    text = draw(st.text(_LINE_CHARS, max_size=20))
    return draw(
        st.one_of(
            st.just(f"{turn} [{draw(_num)}-{draw(_num)}]: {text}"),
            st.just(f"{turn} : {text}"),
            st.just(f"{turn} [{draw(_num)}-]: {text}"),
            st.text(_LINE_CHARS, max_size=40),
        )
    )


@st.composite
def dialog_files(draw):
    dialog = draw(st.sampled_from(DIALOGS))
    ev = draw(st.lists(eval_line(dialog), max_size=25))
    tr = draw(st.lists(transcript_line(dialog), max_size=15))
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return dialog, ev, tr, eol


_EVALUATOR = re.compile(r"^[A-Z]-[A-Za-z0-9]+:")


def _nonblank(lines):
    return [(n, s) for n, s in ((i, line.strip()) for i, line in enumerate(lines, 1)) if s]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dialog_files())
def test_property_never_raises_and_accounts_for_lines(case):
    dialog, ev, tr, eol = case
    session = int(dialog[3:5])
    with tempfile.TemporaryDirectory() as tmp:
        release = write(
            Path(tmp),
            {
                evaluation(session, dialog): eol.join(ev),
                transcription(session, dialog): eol.join(tr),
                f"Session{session}/dialog/EmoEvaluation/._{dialog}.txt": "\x00junk [1 - ",
            },
        )
        data = read(Path(tmp))
    ev_file = str(release / evaluation(session, dialog))
    tr_file = str(release / transcription(session, dialog))
    assert all(not Path(p.file).name.startswith("._") for p in data.problems)
    reported_ev = {p.line for p in data.problems if p.file == ev_file and p.line}
    unreported_heads = 0
    for n, s in _nonblank(ev):
        if n in reported_ev or s.startswith("%") or (not s.startswith("[") and _EVALUATOR.match(s)):
            continue
        assert s.startswith("["), f"EmoEvaluation line {n} neither parsed nor reported: {s!r}"
        unreported_heads += 1
    assert len(data.utterances) == unreported_heads  # every head is an utterance or a reported problem
    assert len({u.utt_id for u in data.utterances}) == len(data.utterances)
    for u in data.utterances:
        assert u.dialog == dialog and u.label in {"neu", "hap", "xxx", "exc", "fru"}
        assert u.end >= u.start and u.speaker == f"Ses{session:02d}{u.gender}"
    reported_tr = {p.line for p in data.problems if p.file == tr_file and p.line}
    no_text = {p.reason.split(": ", 1)[1] for p in data.problems if p.reason.startswith("no transcript:")}
    kept_untimed = sum(1 for p in data.problems if p.reason.startswith("transcript time unusable:"))
    joined = 0
    for n, s in _nonblank(tr):
        if n not in reported_tr:
            joined += 1
            assert any(s.startswith(u.utt_id + " ") and u.utt_id not in no_text for u in data.utterances), s
    assert no_text <= {u.utt_id for u in data.utterances}
    assert joined + kept_untimed == len(data.utterances) - len(no_text)  # one text line per utterance


# ---- the full label table written as a tree ----


@pytest.fixture(scope="module")
def table_root(shared_data, tmp_path_factory):
    return write_tree_from_table(shared_data / "iemocap_labels" / "df_iemocap.csv", tmp_path_factory.mktemp("table"))


def test_table_tree_counts(table_root):
    t = time.perf_counter()
    data = read(table_root.parent)
    elapsed = time.perf_counter() - t
    assert elapsed < 3.0, f"reading the full corpus text took {elapsed:.2f}s"
    assert len(data.utterances) == 10039
    assert Counter(u.label for u in data.utterances) == {
        "xxx": 2507,
        "fru": 1849,
        "neu": 1708,
        "ang": 1103,
        "sad": 1084,
        "exc": 1041,
        "hap": 595,
        "sur": 107,
        "fea": 40,
        "oth": 3,
        "dis": 2,
    }
    four, dropped = get_label_set("iemocap4").apply(data.utterances)
    assert len(four) == 5531
    assert Counter(u.label for u in four) == {"neu": 1708, "hap": 1636, "ang": 1103, "sad": 1084}
    assert [Counter(u.group for u in four)[str(s)] for s in range(1, 6)] == [1085, 1023, 1151, 1031, 1241]
    assert sum(dropped.values()) == 10039 - 5531
    dialogs = {u.dialog for u in data.utterances}
    assert len(dialogs) == 151 and {"Ses03M_impro05b", "Ses03M_impro08a", "Ses05M_script01_1b"} <= dialogs
    # no media in the tree: each dialog's video, wav and sentence folder reported once; all utterances kept
    counts = data.problem_counts()
    assert counts["missing video"] == counts["missing dialog wav"] == counts["missing sentence wav"] == 151
    assert counts["unlabelled turn"] == 151  # one XX turn per dialog
    assert set(counts) == {"missing video", "missing dialog wav", "missing sentence wav", "unlabelled turn"}
    assert all(u.text.startswith("Line ") for u in data.utterances)
    assert {u.speaker for u in data.utterances} == {f"Ses0{s}{g}" for s in range(1, 6) for g in "FM"}
    assert Counter(u.side for u in data.utterances).keys() == {"left", "right"}
    assert {u.script for u in data.utterances if u.scripted} == {
        "script01_1",
        "script01_2",
        "script01_3",
        "script02_1",
        "script02_2",
        "script03_1",
        "script03_2",
    }
    assert {v for u in data.utterances for v in (u.val, u.act, u.dom)} >= {0.5, 5.5}
