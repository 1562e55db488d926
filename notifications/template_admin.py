"""`python -m notifications.templates create|sync`: the registry's templates in the WhatsApp Business Account.

- `create`: creates every registry template (name + language) the account lacks (POST /{WABA_ID}/message_templates
  with `creation_payload`); the ones it has are left alone (Meta refuses a second one of the same name anyway).
- `sync`: reads the account's templates (GET /{WABA_ID}/message_templates), prints each one's name, language and
  status (APPROVED, PENDING, REJECTED, PAUSED, DISABLED) and keeps the statuses in the assistant database
  (notifications/store.py `whatsapp_templates`): the sender refuses a template that is not APPROVED and the
  health check names the paused and disabled ones.

Both go through the one Graph client (connectors/whatsapp/graph.py) and need WHATSAPP_BUSINESS_ACCOUNT_ID.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from connectors.whatsapp.graph import GraphClient, GraphError
from notifications.store import NotificationStore
from notifications.templates import Registry, creation_payload, registry


@dataclass(frozen=True)
class TemplateState:
    name: str
    language: str
    status: str
    category: str = ""


def _state(raw: dict[str, Any]) -> TemplateState:
    return TemplateState(
        name=str(raw.get("name") or ""),
        language=str(raw.get("language") or ""),
        status=str(raw.get("status") or "").upper(),
        category=str(raw.get("category") or ""),
    )


async def create_missing(client: GraphClient, templates: Registry) -> list[TemplateState]:
    """Creates the registry templates the account lacks; returns what Graph answered for each one created."""
    existing = {(s.name, s.language) for s in map(_state, await client.list_templates())}
    created = []
    for template in templates:
        if (template.name, template.language) in existing:
            continue
        answer = await client.create_template(creation_payload(template))
        status = str(answer.get("status") or "PENDING").upper()
        created.append(TemplateState(template.name, template.language, status, str(answer.get("category") or "")))
    return created


async def fetch_statuses(client: GraphClient) -> list[TemplateState]:
    return sorted(map(_state, await client.list_templates()), key=lambda s: (s.name, s.language))


def save_statuses(store: NotificationStore, states: Sequence[TemplateState]) -> None:
    for state in states:
        if state.name and state.language and state.status:
            store.set_template_status(state.name, state.language, state.status)


def _print(states: Sequence[TemplateState], templates: Registry, out: TextIO) -> None:
    for s in states:
        ours = "" if templates.get(s.name, s.language) else "  (not in the registry)"
        out.write(f"{s.name:<32} {s.language:<8} {s.status}{ours}\n")


def run(command: str, client: GraphClient, store: NotificationStore, templates: Registry, out: TextIO) -> int:
    if command == "create":
        created = client.run_sync(create_missing(client, templates))
        save_statuses(store, created)
        if not created:
            out.write(f"all {len(templates)} registry templates are already in the WhatsApp Business Account\n")
        _print(created, templates, out)
        return 0
    states = client.run_sync(fetch_statuses(client))
    save_statuses(store, states)
    _print(states, templates, out)
    missing = [t for t in templates if not any((s.name, s.language) == (t.name, t.language) for s in states)]
    for t in missing:
        out.write(f"{t.name:<32} {t.language:<8} MISSING (run `python -m notifications.templates create`)\n")
    return 0


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(prog="python -m notifications.templates", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("create", "sync"), help="create the missing templates, or sync statuses")
    args = parser.parse_args(argv)
    from notifications.store import get_notification_store
    from settings import get_settings

    settings = get_settings()
    if not settings.graph_templates_url:
        sys.stderr.write("set WHATSAPP_BUSINESS_ACCOUNT_ID (the WhatsApp Business Account that owns the templates)\n")
        return 2
    client = GraphClient.from_settings(settings)
    try:
        return run(args.command, client, get_notification_store(), registry(), out)
    except GraphError as exc:  # its text carries the title and codes, never the token
        sys.stderr.write(f"Graph refused: {type(exc).__name__}: {exc} {exc.details}\n")
        return 1
    finally:
        client.close_sync()
