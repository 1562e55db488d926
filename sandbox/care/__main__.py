"""`python -m sandbox.care --host 127.0.0.1 --port 9000`: the CARE stand-in (see sandbox/care/config.py
for the SANDBOX_* environment knobs)."""

from __future__ import annotations

import argparse
import logging

from aiohttp import web

from common.logs import install_log_masking
from sandbox.care.app import create_app
from sandbox.care.web import AccessLogger


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.care", description="CARE sandbox (recorded API shapes)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    install_log_masking()
    web.run_app(
        create_app(),
        host=args.host,
        port=args.port,
        access_log_class=AccessLogger,
        print=lambda text: logging.getLogger("sandbox.care").info("CARE sandbox on http://%s:%d", args.host, args.port),
    )


if __name__ == "__main__":
    main()
