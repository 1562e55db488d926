"""Start the assistant in production, or check that it can be: `.env` and the documented defaults reach Rasa.

    .venv/bin/python scripts/production.py check            # exit 1 with one line naming every missing setting
    .venv/bin/python scripts/production.py rasa [rasa args]  # rasa run with endpoints.production.yml (port 5005)
    .venv/bin/python scripts/production.py actions [args]    # the action server, loopback only (port 5055)

Rasa expands the ${VARS} of endpoints.production.yml from its own environment only: it neither reads `.env`
nor knows defaults. This wrapper builds that environment (settings.production_env: `.env`, the real
environment on top, then settings.PRODUCTION_DEFAULTS for what is unset or empty), refuses to start when a
required setting is missing (settings.missing_for_production), and replaces itself with the server, so the
process manager sees Rasa itself. Arguments after `rasa` / `actions` go to the server (the last --port wins).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import settings  # noqa: E402

RASA = Path(sys.executable).parent / "rasa"
MODEL = "models/care.tar.gz"
# what the action server itself needs (it does not talk to WhatsApp or to Rasa's tracker and lock stores; it
# seals and keeps call-back requests, so it needs the secret and the assistant database)
ACTIONS_REQUIRED = (
    "CARE_BASE_URL",
    "CARE_USERNAME",
    "CARE_PASSWORD",
    "HOSPITAL_EMERGENCY_NUMBER",
    "HOSPITAL_HELPDESK_NUMBER",
    "ASSISTANT_SECRET_KEY",
    "ASSISTANT_DATABASE_URL",
)


def command(server: str, extra: list[str]) -> list[str]:
    if server == "rasa":
        return [
            str(RASA),
            "run",
            "--model",
            MODEL,
            "--endpoints",
            "endpoints.production.yml",
            "--credentials",
            "credentials.yml",
            "--port",
            "5005",
            *extra,
        ]
    return [str(RASA), "run", "actions", "--actions", "actions", "--port", "5055", *extra]


def server_env(server: str, env: dict[str, str]) -> dict[str, str]:
    env = dict(env)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    if server == "actions":
        # no authentication on the action server: loopback unless told otherwise; outlive Rasa's 15 s keep-alive
        env.setdefault("SANIC_HOST", "127.0.0.1")
        env.setdefault("SANIC_KEEP_ALIVE_TIMEOUT", "75")
    return env


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="scripts/production.py", description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["check", "rasa", "actions"])
    args, extra = ap.parse_known_args(argv)
    if args.what == "check" and extra:
        ap.error(f"check takes no arguments: {' '.join(extra)}")
    env = settings.production_env()
    if args.what == "actions":
        missing = [name for name in settings.missing_for_production(env) if name in ACTIONS_REQUIRED]
    else:
        missing = settings.missing_for_production(env)
    if missing:
        print(settings.missing_message(missing), file=sys.stderr, flush=True)
        return 1
    if args.what == "check":
        print(
            "production settings: complete ("
            + ", ".join(
                f"{name}={env[name] or '(empty)'}" for name in settings.PRODUCTION_DEFAULTS if "PASSWORD" not in name
            )
            + ")",
            flush=True,
        )
        return 0
    os.chdir(ROOT)
    cmd = command(args.what, extra)
    os.execve(cmd[0], cmd, server_env(args.what, env))  # replaces this process: never returns


if __name__ == "__main__":
    sys.exit(main())
