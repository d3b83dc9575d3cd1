"""The HTML pages: the search page ``/`` and the passage page ``/passages/<id>``.

Server-rendered, so both work with JavaScript off. Library errors on the search page are
shown in the page (with the form kept) under the status the API would give.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, g, render_template, request, url_for

from search.errors import RenkeiError
from web import get_engine, render
from web.api import search_args
from web.errors import status_of

bp = Blueprint("pages", __name__)

FACET_NAMES = {"municipality": "自治体", "kind": "種類", "document": "文書", "year": "年"}
PARAM_NAMES_JA = {
    "q": "検索語",
    "page": "ページ番号",
    "size": "表示件数",
    "year_from": "開始年",
    "year_to": "終了年",
    "sort": "並び順",
    "kind": "種類",
}
SORTS = {"score": "関連度順", "date": "新しい順"}
FACET_LIMIT = 8  # entries shown per facet; the rest fold into a <details>


def _href(params: dict[str, str]) -> str:
    """A link to the search page with ``params`` (url_for is too slow for ~60 links a page)."""
    base = g.get("search_base")
    if base is None:
        base = g.search_base = url_for("pages.search")
    return f"{base}?{urlencode(params)}" if params else base


def _message_ja(exc: RenkeiError) -> str:
    if exc.code == "query_too_long":
        return "検索語が長すぎます。1,000文字以内で入力してください。"
    if exc.code == "index_missing":
        return "索引がまだ作られていません。管理者に `renkei index` の実行を依頼してください。"
    name = PARAM_NAMES_JA.get(exc.param or "")
    if exc.code == "invalid_parameter" and name:
        return f"{name}の指定が正しくありません。"
    return "リクエストを処理できませんでした。"


def _chips(params: dict[str, str], body: dict | None) -> list[dict]:
    """Applied filters, each with the link that removes it."""
    from search.api import KIND_LABELS

    labels = {}
    if body:
        labels = {e["value"]: e.get("label", e["value"]) for e in body["facets"].get("document", [])}
    chips = []
    for name in ("municipality", "kind", "document"):
        value = params.get(name)
        if value:
            shown = KIND_LABELS.get(value, value) if name == "kind" else labels.get(value, value)
            chips.append({"label": FACET_NAMES[name], "value": shown,
                          "url": _href(render.refine(params, **{name: None}))})
    y_from, y_to = params.get("year_from"), params.get("year_to")
    if y_from or y_to:
        shown = f"{y_from}年" if y_from == y_to else f"{y_from or ''}〜{y_to or ''}年"
        chips.append({"label": "年", "value": shown,
                      "url": _href(render.refine(params, year_from=None, year_to=None))})
    return chips


def _facets(params: dict[str, str], body: dict) -> list[dict]:
    """Facet groups whose entries link to the search refined by them."""
    groups = []
    for name, label in FACET_NAMES.items():
        entries = []
        for entry in body["facets"].get(name, []):
            value = entry["value"]
            if name == "year":
                change = {"year_from": value, "year_to": value}
                current = params.get("year_from") == value and params.get("year_to") == value
                shown = f"{value}年"
            else:
                change = {name: value}
                current = params.get(name) == value
                shown = entry.get("label", value)
            url = _href(render.refine(params, **change))
            entries.append({"label": shown, "count": entry["count"], "url": url, "current": current})
        if entries:
            groups.append({"name": name, "label": label, "entries": entries})
    return groups


@bp.get("/")
def search():
    """The search box; with ``q``, the hits, facets and pages of that search."""
    params = render.kept(request.args)
    q = request.args.get("q", "")
    context = {"q": q, "params": params, "sorts": SORTS, "sort": params.get("sort", "score"),
               "body": None, "error": None, "chips": _chips(params, None)}
    if not q.strip():
        return render_template("search.html", **context)
    try:
        body = get_engine().search(q, **search_args(request.args))
    except RenkeiError as exc:
        context["error"] = {"message": _message_ja(exc), "detail": exc.message}
        return render_template("search.html", **context), status_of(exc)
    context.update(
        body=body,
        chips=_chips(params, body),
        facets=_facets(params, body),
        facet_limit=FACET_LIMIT,
        window=render.page_window(body["page"], body["pages"]),
        page_url=lambda n: _href({**params, "page": str(n)}),
        passage_url=lambda pid: url_for("pages.passage", pid=pid, q=q),
    )
    return render_template("search.html", **context)


@bp.get("/passages/<path:pid>")
def passage(pid: str):
    """One passage in full with the query's terms marked, and its neighbours."""
    q = request.args.get("q") or None
    body = get_engine().passage(pid, q=q)
    return render_template(
        "passage.html",
        q=q or "",
        body=body,
        passage_url=lambda other: url_for("pages.passage", pid=other, q=q),
    )


@bp.app_template_filter("marked")
def marked(item: dict):
    """A passage's text, escaped, with its highlight spans in <mark>."""
    return render.mark_text(item.get("text", ""), item.get("highlights") or [])


@bp.app_template_filter("snippet")
def snippet(value: str):
    """The engine's snippet, trusted only if it holds no markup but <mark>."""
    return render.safe_snippet(value or "")


@bp.app_template_filter("basename")
def basename(path: str) -> str:
    """The file name of a source path: the server's folders are nobody's business."""
    return render.basename(path)


@bp.app_template_global("extra_fields")
def extra_fields(item: dict) -> dict:
    return render.extra_fields(item)


@bp.app_template_global("display_date")
def display_date(item: dict) -> str:
    return render.display_date(item)


@bp.app_template_global("kind_label")
def kind_label(kind: str) -> str:
    from search.api import KIND_LABELS

    return KIND_LABELS.get(kind, kind)
