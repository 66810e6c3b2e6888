"""`emorec data ...`: look at a corpus before training (reads text files only)."""

from __future__ import annotations

import json

import typer

data_app = typer.Typer(help="Inspect corpora: label counts, groups, problems, splits.", no_args_is_help=True)


@data_app.command("stats")
def stats(
    corpus: str = typer.Option(
        ..., "--corpus", help="Corpus name: iemocap, meld, ravdess, cremad, ckplus, facial_expressions, manifest."
    ),
    root: str = typer.Option(..., "--root", help="Corpus folder (IEMOCAP: IEMOCAP_full_release or its parent)."),
    label_set: str | None = typer.Option(None, "--label-set", help="Built-in label set name or a .yaml file."),
    split: str | None = typer.Option(
        None,
        "--split",
        help="loso, random, official, group_kfold, session:GROUPS (e.g. session:5) or a .yaml split file.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Count utterances by label and group, list reader problems, and show split sizes with leakage."""
    from emorec.corpora.corpora import corpus_names, read_corpus
    from emorec.corpora.labels import get_label_set
    from emorec.corpora.splits import load_split_spec
    from emorec.corpora.stats import corpus_stats, format_stats

    if corpus not in corpus_names():
        _fail(f"unknown corpus {corpus!r}; known: {', '.join(corpus_names())}")
    labels = None
    if label_set:
        try:
            labels = get_label_set(label_set)
        except KeyError as e:
            _fail(e.args[0])
        except (ValueError, FileNotFoundError) as e:
            _fail(str(e))
        if labels.corpus and labels.corpus != corpus:
            _fail(f"label set {labels.name!r} is for corpus {labels.corpus!r}, not {corpus!r}")
    try:
        spec = load_split_spec(split)
    except (ValueError, FileNotFoundError) as e:
        _fail(str(e))
    try:
        data = read_corpus(corpus, root)
    except ModuleNotFoundError as e:
        _fail(f"no reader available for corpus {corpus!r} ({e.name})")
    except (FileNotFoundError, NotADirectoryError, ValueError) as e:
        _fail(str(e))
    try:
        result = corpus_stats(data, labels, spec)
    except ValueError as e:  # a split that does not fit the corpus, e.g. unknown test groups
        _fail(str(e))
    typer.echo(json.dumps(result) if as_json else format_stats(result))


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")
