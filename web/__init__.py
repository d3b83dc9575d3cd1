"""The renkei web layer: a Flask app serving the search page and the JSON API.

``create_app`` builds one app around one shared :class:`search.api.Engine`; ``web.serve``
runs it under a production WSGI server.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app

DEFAULT_INDEX_DIR = "var/index"
ENGINE_KEY = "renkei.engine"


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; ``INDEX_DIR`` defaults to ``$RENKEI_INDEX`` or ``var/index``."""
    from search.api import Engine
    from web import api, errors, pages
    from web.json_provider import OrjsonProvider

    app = Flask(__name__)
    app.json = OrjsonProvider(app)
    app.config.from_mapping(INDEX_DIR=os.environ.get("RENKEI_INDEX") or DEFAULT_INDEX_DIR)
    if test_config is not None:
        app.config.from_mapping(test_config)
    app.extensions[ENGINE_KEY] = Engine(app.config["INDEX_DIR"])

    errors.register(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    app.after_request(_security_headers)

    @app.cli.command("health")
    def health_command() -> None:
        """Print the served index's health as JSON (``flask --app web health``)."""
        import json

        import click

        click.echo(json.dumps(get_engine().health(), ensure_ascii=False))

    return app


def get_engine():
    """The :class:`search.api.Engine` of the current app."""
    return current_app.extensions[ENGINE_KEY]


def _security_headers(response):
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault(
        "Content-Security-Policy",
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'",
    )
    return response
