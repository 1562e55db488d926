"""Builds the aiohttp application: seeded store, token issuer, shapes and the route tables."""

from __future__ import annotations

from aiohttp import web

from sandbox.care.config import SandboxConfig
from sandbox.care.routes import ALL
from sandbox.care.seed import load
from sandbox.care.shapes import Shapes
from sandbox.care.tokens import Tokens
from sandbox.care.web import CONTEXT, Context, care_errors


def create_app(config: SandboxConfig | None = None) -> web.Application:
    cfg = config or SandboxConfig.from_env()
    store = load(cfg.fixtures, cfg.today)
    tokens = Tokens(cfg.jwt_secret, cfg.access_lifetime, cfg.refresh_lifetime, cfg.patient_lifetime, cfg.mfa_lifetime)
    app = web.Application(middlewares=[care_errors])
    app[CONTEXT] = Context(store=store, tokens=tokens, shapes=Shapes(store))
    for table in ALL:
        app.add_routes(table)
    return app
