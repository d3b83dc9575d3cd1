"""The ``renkei`` command line: a thin layer over the indexer, search and web libraries."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from search.errors import RenkeiError

DEFAULT_INDEX = Path("var/index")
DEFAULT_SEEDS = Path("seeds")

index_option = click.option(
    "--index",
    "index_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_INDEX,
    envvar="RENKEI_INDEX",
    show_default=True,
    show_envvar=True,
    help="Folder holding the index.",
)
seeds_option = click.option(
    "--seeds",
    "seeds_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_SEEDS,
    envvar="RENKEI_SEEDS",
    show_default=True,
    show_envvar=True,
    help="Folder of source documents (.txt, .md, .tsv, .csv).",
)


def _fail(exc: RenkeiError) -> click.ClickException:
    return click.ClickException(exc.message)


def _ensure_index(index_dir: Path, seeds_dir: Path) -> None:
    """Build the index from the seeds when none has been built yet, or by another version."""
    from search import store
    from search.schema import SCHEMA_VERSION

    if store.is_current(index_dir, SCHEMA_VERSION) or not seeds_dir.is_dir():
        return
    from renkei.progress import build_with_progress

    click.echo(f"no current index at {index_dir}: building it from {seeds_dir}", err=True)
    try:
        click.echo(build_with_progress(seeds_dir, index_dir).summary(), err=True)
    except RenkeiError as exc:
        raise _fail(exc) from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="renkei")
def main() -> None:
    """renkei: Japanese full-text search over documents of inter-municipal cooperation."""


@main.command("index")
@seeds_option
@index_option
@click.option("--strict", is_flag=True, help="Stop at the first file that cannot be read or parsed.")
@click.option(
    "--procs", type=click.IntRange(1, 64), default=None, help="Indexing processes (default: up to 2)."
)
def index_cmd(seeds_dir: Path, index_dir: Path, strict: bool, procs: int | None) -> None:
    """Rebuild the index from the source documents.

    The new index is written beside the served one and switched in only when complete.
    """
    from renkei.progress import build_with_progress

    try:
        report = build_with_progress(seeds_dir, index_dir, strict=strict, procs=procs)
    except RenkeiError as exc:
        raise _fail(exc) from exc
    for note in report.ignored:
        click.echo(f"note: ignored {note.path} ({note.reason})", err=True)
    for skipped in report.skipped:
        click.echo(f"warning: skipped {skipped.path}: {skipped.reason}", err=True)
    click.echo(report.summary())


@main.command("parse")
@click.argument(
    "paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per passage.")
def parse_cmd(paths: tuple[Path, ...], as_json: bool) -> None:
    """Print the passages each file splits into."""
    from indexer.build import parse_file

    failed = False
    for path in paths:
        try:
            _, passages = parse_file(path)
        except RenkeiError as exc:
            click.echo(f"error: {exc.message}", err=True)
            failed = True
            continue
        for passage in passages:
            body = passage.to_dict()
            if as_json:
                click.echo(json.dumps(body, ensure_ascii=False))
            else:
                click.echo(f"[{passage.ordinal}] {passage.kind} {passage.section} — {passage.title}")
                click.echo("    " + passage.text.replace("\n", "\n    "))
    if failed:
        sys.exit(1)


@main.command("search")
@click.argument("query", nargs=-1, required=True)
@index_option
@seeds_option
@click.option("--json", "as_json", is_flag=True, help="Print the JSON body the web endpoint returns.")
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True, help="Hits to show.")
@click.option("--page", type=click.IntRange(1), default=1, show_default=True)
@click.option("--kind", default=None, help="Only passages of this kind.")
@click.option("--municipality", default=None, help="Only passages naming this municipality.")
@click.option("--sort", type=click.Choice(["score", "date"]), default="score", show_default=True)
def search_cmd(
    query: tuple[str, ...],
    index_dir: Path,
    seeds_dir: Path,
    as_json: bool,
    limit: int,
    page: int,
    kind: str | None,
    municipality: str | None,
    sort: str,
) -> None:
    """Search the index and print ranked hits.

    Builds the index from the seeds first when none exists.
    """
    import re

    from search.api import Engine

    _ensure_index(index_dir, seeds_dir)
    try:
        body = Engine(index_dir).search(
            " ".join(query), size=limit, page=page, kind=kind, municipality=municipality, sort=sort
        )
    except RenkeiError as exc:
        raise _fail(exc) from exc
    if as_json:
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    click.echo(f"{body['total']} hits ({body['took_ms']} ms) for {body['parsed']}")
    for rank, hit in enumerate(body["hits"], (page - 1) * limit + 1):
        plain = re.sub(r"</?mark>", "**", hit["snippet"])
        click.echo(
            f"{rank:>3}. [{hit['score']:.2f}] {hit['document']['title']} / {hit['section'] or hit['kind']}"
        )
        click.echo(f"     {hit['title']}")
        click.echo(f"     {_unescape(plain)}")
        click.echo(f"     id={hit['id']}")


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


@main.command("eval")
@index_option
@click.option(
    "--cases",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=Path("tests/relevance/cases.json"),
    show_default=True,
    help="Judged queries.",
)
@click.option(
    "-k", "k", type=click.IntRange(1, 100), default=5, show_default=True, help="Cut-off for success@k."
)
@click.option("--verbose", "-v", is_flag=True, help="Print every case.")
def eval_cmd(index_dir: Path, cases: Path, k: int, verbose: bool) -> None:
    """Run the judged queries and print success@k and MRR."""
    from search.evaluation import evaluate, load_cases

    try:
        result = evaluate(index_dir, load_cases(cases), k=k)
    except RenkeiError as exc:
        raise _fail(exc) from exc
    click.echo(result.table(verbose=verbose))


@main.command("serve")
@click.option(
    "--host", default="127.0.0.1", show_default=True, envvar="RENKEI_HOST", help="Address to listen on."
)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, envvar="RENKEI_PORT")
@index_option
@seeds_option
@click.option(
    "--workers", type=click.IntRange(1, 64), default=None, help="Server processes/threads (see README)."
)
def serve_cmd(host: str, port: int, index_dir: Path, seeds_dir: Path, workers: int | None) -> None:
    """Serve the search page and JSON API with a production WSGI server.

    Builds the index from the seeds first when none exists.
    """
    _ensure_index(index_dir, seeds_dir)
    from web.serve import serve

    serve(host=host, port=port, index_dir=index_dir, workers=workers)


if __name__ == "__main__":
    main()
