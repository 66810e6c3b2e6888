"""Run the preprocessing stage: plan work units, process the unfinished ones (in parallel), consolidate.

Resumable: each finished unit is a shard on disk; a rerun skips them, and a complete store returns at once.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import shutil
import sys
import time
from collections import Counter
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import fields
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from emorec.corpora.records import Utterance
from emorec.preprocess.config import MODALITIES, PreprocessConfig
from emorec.preprocess.context import dialogue_context
from emorec.preprocess.lock import die_with_parent, store_lock
from emorec.preprocess.store import (
    COMPLETE,
    NOT_COMPUTED,
    SHARDS,
    FeatureStore,
    StoreError,
    consolidate,
    is_complete,
    open_arrays,
    remove_temporaries,
    shard_matches,
    shard_name,
    write_json,
)
from emorec.preprocess.unit import UnitTask, decode_frames, process_unit

LEADING_COLUMNS = [
    "utt_id",
    "order",
    "corpus",
    "label",
    "text",
    "speaker",
    "group",
    "dialog",
    "session",
    "gender",
    "side",
    "split",
    "start",
    "end",
]


def preprocess(
    config: PreprocessConfig, *, workers: int = 1, limit: int | None = None, progress: bool = True
) -> FeatureStore:
    """Read the corpus named by the config and preprocess it into `config.store_dir(limit)` (resumable)."""
    store = config.store_dir(limit)
    if is_complete(store):
        return FeatureStore.open(store)
    from emorec.corpora.corpora import read_corpus

    data = read_corpus(config.corpus, config.root, **config.corpus_options)
    utterances = data.utterances if limit is None else data.utterances[: int(limit)]
    return preprocess_utterances(
        utterances, config, workers=workers, progress=progress, store_dir=store, reader_problems=len(data.problems)
    )


def preprocess_utterances(
    utterances: list[Utterance],
    config: PreprocessConfig,
    *,
    workers: int = 1,
    limit: int | None = None,
    progress: bool = True,
    store_dir: str | Path | None = None,
    reader_problems: int = 0,
) -> FeatureStore:
    """Preprocess a list of utterances (store rows in list order) into a store; resumable.

    The store goes to `store_dir`, by default `config.store_dir(limit)`. `limit` keeps the first N utterances.
    One process at a time writes a store: another one gets StoreError naming the writer's pid.
    """
    started = time.perf_counter()
    if limit is not None:
        utterances = utterances[: int(limit)]
    store = Path(store_dir) if store_dir is not None else config.store_dir(limit)
    ids = [u.utt_id for u in utterances]
    if is_complete(store):
        return _open_complete(store, ids)
    _check_inputs(utterances, config)
    with store_lock(store) as lock:
        if lock.stale_owner is not None:
            tqdm.write(
                f"note: {store} was left by process {lock.stale_owner}, which is gone; resuming its work",
                file=sys.stderr,
            )
        if is_complete(store):  # another writer finished it meanwhile
            return _open_complete(store, ids)
        return _write_store(
            utterances,
            config,
            store,
            ids,
            workers=workers,
            progress=progress,
            reader_problems=reader_problems,
            started=started,
        )


def _open_complete(store: Path, ids: list[str]) -> FeatureStore:
    fs = FeatureStore.open(store)
    if fs.manifest["utt_id"].tolist() != ids:
        raise StoreError(f"{store} is complete but holds other utterances; delete it or choose another `out`")
    return fs


def _write_store(
    utterances: list[Utterance],
    config: PreprocessConfig,
    store: Path,
    ids: list[str],
    *,
    workers: int,
    progress: bool,
    reader_problems: int,
    started: float,
) -> FeatureStore:
    """The work of preprocess_utterances once the store is locked for this process."""
    (store / SHARDS).mkdir(parents=True, exist_ok=True)
    remove_temporaries(store / SHARDS)
    if open_arrays(store, config, len(ids)):  # new (or unusable) arrays: no earlier shard has its rows there
        for old in (store / SHARDS).glob("*.npz"):
            old.unlink()
    (store / "config.yaml").write_text(config.to_yaml(), encoding="utf-8")
    units = plan_units(utterances)
    todo = [
        (k, rows)
        for k, rows in units
        if not shard_matches(store / SHARDS / shard_name(k), rows, [ids[r] for r in rows])
    ]
    tasks = _tasks(utterances, config, store, todo, workers)
    done_before = sum(len(rows) for _, rows in units) - sum(len(rows) for _, rows in todo)
    _work(tasks, workers, len(ids), done_before, progress)
    manifest, infos = consolidate(store, config, manifest_base(utterances), units)
    summary = make_summary(
        manifest,
        config,
        infos,
        store=store,
        units=len(units),
        units_now=len(tasks),
        utterances_now=sum(len(t.rows) for t in tasks),
        seconds=time.perf_counter() - started,
        workers=workers,
        reader_problems=reader_problems,
    )
    write_json(store / "summary.json", summary)
    (store / "config.yaml").write_text(config.to_yaml(), encoding="utf-8")
    (store / COMPLETE).write_text(time.strftime("%Y-%m-%dT%H:%M:%S") + "\n", encoding="utf-8")
    shutil.rmtree(store / SHARDS, ignore_errors=True)
    return FeatureStore.open(store)


def _tasks(utterances: list[Utterance], config: PreprocessConfig, store: Path, todo, workers: int) -> list[UnitTask]:
    cfg_dump = config.model_dump(mode="json")
    contexts = None
    if config.text_context > 0 and "text" in config.modalities:
        ctx = dialogue_context(utterances, config.text_context, speaker_tags=config.context_speaker_tags)
        contexts = [ctx[u.utt_id] for u in utterances]
    return [
        UnitTask(
            key=k,
            rows=rows,
            utterances=[utterances[r] for r in rows],
            config=cfg_dump,
            shard=str(store / SHARDS / shard_name(k)),
            contexts=None if contexts is None else [contexts[r] for r in rows],
            video_passes=2 if workers <= 1 else 1,
        )
        for k, rows in todo
    ]


def _work(tasks: list[UnitTask], workers: int, total: int, done_before: int, progress: bool) -> None:
    """Run the units with one progress bar; each file's problems are told once."""
    bar = tqdm(
        total=total,
        initial=done_before,
        unit="utt",
        desc="preprocess",
        file=sys.stderr,
        disable=not progress,
        dynamic_ncols=True,
        smoothing=0.1,
        leave=False,
    )
    warned: set[str] = set()
    try:
        for res in _run(tasks, workers):
            for w in res["warnings"]:
                if w not in warned:
                    warned.add(w)
                    tqdm.write(f"warning: {w}", file=sys.stderr)
            bar.update(res["n"])
    finally:
        bar.close()


def _check_inputs(utterances: list[Utterance], config: PreprocessConfig) -> None:
    if not utterances:
        raise ValueError(f"no utterances to preprocess (corpus {config.corpus!r}, root {config.root!r})")
    seen: set[str] = set()
    dup = [u.utt_id for u in utterances if u.utt_id in seen or seen.add(u.utt_id)]
    if dup:
        raise ValueError(f"duplicate utterance ids, e.g. {dup[:3]}")
    if "text" in config.modalities:
        from emorec.inputs.tokens import load_tokenizer

        load_tokenizer(config.tokenizer)  # fail now, with the encoder's own message, not in every worker
        if config.text_source == "asr":
            from emorec.speech.asr import WHISPER_INSTALL
            from emorec.speech.audio import MissingPackageError, require

            try:
                require("faster_whisper", "text_source: asr (speech recognition)", WHISPER_INSTALL)
            except MissingPackageError as e:
                raise ValueError(str(e)) from None


def plan_units(utterances: list[Utterance]) -> list[tuple[str, list[int]]]:
    """Work units in first-appearance order: rows sharing a dialog (else video, else audio file)."""
    units: dict[str, list[int]] = {}
    for i, u in enumerate(utterances):
        key = u.dialog or u.video_path or u.audio_path or u.utt_id
        units.setdefault(key, []).append(i)
    return list(units.items())


def _run(tasks: list[UnitTask], workers: int):
    """Yield each unit's result as it finishes: in this process when workers <= 1, else in a spawn pool."""
    if not tasks:
        return
    if workers <= 1:
        with _one_thread_per_library(), ThreadPoolExecutor(1, thread_name_prefix="video") as video:
            try:
                for t, frames in _frames_ahead(tasks, video):
                    yield process_unit(t, frames=frames)
            finally:
                video.shutdown(cancel_futures=True)
        return
    ctx = mp.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=min(workers, len(tasks)), mp_context=ctx, initializer=_init_worker, initargs=(os.getpid(),)
    ) as pool:
        futures = [pool.submit(process_unit, t) for t in tasks]
        try:
            for f in as_completed(futures):
                yield f.result()
        except BaseException:
            for f in futures:
                f.cancel()
            raise


def _frames_ahead(tasks: list[UnitTask], video: ThreadPoolExecutor):
    """(task, its frame step's future or None) in order. One process: the frames of unit k + 1 are decoded
    (in the `video` thread) while unit k's audio and text are computed and its shard written, so decoding
    never waits for a unit's end; two units at most are in memory."""
    cfg = PreprocessConfig(**tasks[0].config)
    if "frame" not in cfg.modalities:
        yield from ((t, None) for t in tasks)
        return
    futures: dict[int, Future] = {}
    for i, t in enumerate(tasks):
        for j in (i, i + 1):
            if j < len(tasks) and j not in futures:
                futures[j] = video.submit(decode_frames, tasks[j])
        yield t, futures.pop(i)


def _init_worker(parent_pid: int | None = None) -> None:
    if parent_pid is not None:  # a worker never outlives the run that started it (kill -9 of the parent included)
        die_with_parent(parent_pid)
    import cv2

    cv2.setNumThreads(1)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # pragma: no cover
        pass


@contextlib.contextmanager
def _one_thread_per_library():
    """BLAS and OpenCV each on one thread while working: small matrices gain nothing from more, and on a
    shared machine oversubscribed thread pools are many times slower."""
    import cv2

    before = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        from threadpoolctl import threadpool_limits

        limits = threadpool_limits(1)
    except ImportError:  # pragma: no cover
        limits = contextlib.nullcontext()
    try:
        with limits:
            yield
    finally:
        cv2.setNumThreads(before)


def manifest_base(utterances: list[Utterance]) -> pd.DataFrame:
    """The utterance fields of every row, the store.md columns first."""
    names = [f.name for f in fields(Utterance)]
    cols = [c for c in LEADING_COLUMNS if c in names] + [c for c in names if c not in LEADING_COLUMNS]
    # by column, lists copied: asdict's deep copy of every row cost more than the rest of the manifest
    columns = {c: [_copied(getattr(u, c)) for u in utterances] for c in cols}
    return pd.DataFrame(columns, columns=cols)


def _copied(value):
    return list(value) if isinstance(value, list) else value


def make_summary(manifest: pd.DataFrame, config: PreprocessConfig, infos: list[dict], **run) -> dict:
    n = len(manifest)
    failures, ok = {}, {}
    for m in MODALITIES:
        col = manifest[f"status_{m}"]
        ok[m] = int((col == "ok").sum())
        failures[m] = {k: int(v) for k, v in Counter(s for s in col if s not in ("ok", NOT_COMPUTED)).most_common()}
    ok["all"] = int((manifest["status"] == "ok").sum())
    notes: Counter = Counter()
    for info in infos:
        notes.update(info.get("notes", {}))
    seconds = run.pop("seconds")
    store = run.pop("store")
    return {
        "store": str(store),
        "corpus": config.corpus,
        "utterances": n,
        "modalities": config.modalities,
        "ok": ok,
        "failures": failures,
        "notes": dict(notes),
        "warnings": [w for i in infos for w in i.get("warnings", [])],  # one line per file with problems
        "reader_problems": run.pop("reader_problems"),
        "run": {
            **run,
            "seconds": round(seconds, 2),
            "utterances_per_second": round(run["utterances_now"] / seconds, 2) if seconds > 0 else None,
        },
    }


def format_summary(summary: dict) -> str:
    """Readable end-of-run summary: ok counts per modality and each failure reason with its count."""
    n = summary["utterances"]
    lines = [f"{summary['corpus']}: {n} utterances, {summary['ok']['all']} ok in every modality"]
    for m in summary["modalities"]:
        lines.append(f"  {m:<5} ok {summary['ok'][m]}/{n}")
        for reason, count in summary["failures"][m].items():
            lines.append(f"        {count:>6}  {reason}")
    if summary.get("warnings"):
        lines.append(f"  {len(summary['warnings'])} files with problems (listed in summary.json)")
    for note, count in summary.get("notes", {}).items():
        lines.append(f"  note: {count} x {note}")
    if summary.get("reader_problems"):
        lines.append(f"  corpus reader reported {summary['reader_problems']} problems while reading")
    r = summary["run"]
    lines.append(
        f"  this run: {r['utterances_now']} utterances in {r['units_now']}/{r['units']} units, {r['seconds']} s"
        + (f" ({r['utterances_per_second']} utt/s, {r['workers']} workers)" if r["utterances_now"] else "")
    )
    return "\n".join(lines)
