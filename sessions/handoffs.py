"""Call-back requests: someone asked to talk to a person; the helpdesk calls them back.

Kept in the assistant's own database (ASSISTANT_DATABASE_URL: SQLite in `.run/` by default, PostgreSQL in
production), not in Rasa's tracker. The number to call and the user's note are sealed (sessions/crypto.py);
the row also has the sender's pseudonym (to see repeat requests) and the masked number for lists.

The helpdesk reads them with `python -m sessions.handoffs list [--reveal]` (the operator console will list
them too) and closes one with `python -m sessions.handoffs done REFERENCE`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import secrets
import sys
from dataclasses import dataclass

import sqlalchemy as sa

from common.phone import mask_phone
from sessions.crypto import Keys, keys

metadata = sa.MetaData()
callback_requests = sa.Table(
    "callback_requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("reference", sa.String(16), nullable=False, unique=True),
    sa.Column("sender_pseudonym", sa.String(64), nullable=False, index=True),
    sa.Column("phone_masked", sa.String(32), nullable=False),
    sa.Column("phone_sealed", sa.Text, nullable=False),
    sa.Column("note_sealed", sa.Text, nullable=True),
    sa.Column("user_kind", sa.String(16), nullable=False),  # anonymous, patient or staff
    sa.Column("status", sa.String(16), nullable=False, default="open"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
)


@dataclass(frozen=True)
class CallbackRequest:
    reference: str
    phone_masked: str
    user_kind: str
    status: str
    created_at: dt.datetime
    has_note: bool


class HandoffStore:
    def __init__(self, url: str, sealing: Keys) -> None:
        kwargs: dict = {"future": True, "pool_pre_ping": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 10, "check_same_thread": False}
        self.engine = sa.create_engine(url, **kwargs)
        self.keys = sealing
        metadata.create_all(self.engine)

    def request_callback(self, sender: str, phone_e164: str, note: str | None, user_kind: str) -> str:
        """Records a request and returns its reference (said to the user, e.g. CB-7F3A2C)."""
        reference = "CB-" + secrets.token_hex(3).upper()
        with self.engine.begin() as conn:
            conn.execute(
                callback_requests.insert().values(
                    reference=reference,
                    sender_pseudonym=self.keys.pseudonym(sender),
                    phone_masked=mask_phone(phone_e164),
                    phone_sealed=self.keys.seal(phone_e164),
                    note_sealed=self.keys.seal(note) if note else None,
                    user_kind=user_kind,
                    status="open",
                    created_at=dt.datetime.now(dt.timezone.utc),
                )
            )
        return reference

    def open_request_for(self, sender: str, within_hours: float = 24.0) -> str | None:
        """The reference of this sender's open request of the last `within_hours`, if any (asked twice, the
        helpdesk should call once)."""
        t = callback_requests
        since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=within_hours)
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(t.c.reference)
                .where(
                    t.c.sender_pseudonym == self.keys.pseudonym(sender),
                    t.c.status == "open",
                    t.c.created_at >= since,
                )
                .order_by(t.c.id.desc())
                .limit(1)
            ).scalar()

    def open_requests(self) -> list[CallbackRequest]:
        t = callback_requests
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t).where(t.c.status == "open").order_by(t.c.id)).mappings().all()
        return [
            CallbackRequest(
                r["reference"],
                r["phone_masked"],
                r["user_kind"],
                r["status"],
                r["created_at"],
                r["note_sealed"] is not None,
            )
            for r in rows
        ]

    def reveal(self, reference: str) -> tuple[str, str | None]:
        """The number to call and the note, for the helpdesk."""
        t = callback_requests
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.c.phone_sealed, t.c.note_sealed).where(t.c.reference == reference)).first()
        if row is None:
            raise KeyError(reference)
        return self.keys.unseal(row[0]), (self.keys.unseal(row[1]) if row[1] else None)

    def close(self, reference: str) -> bool:
        t = callback_requests
        with self.engine.begin() as conn:
            done = conn.execute(
                t.update()
                .where(t.c.reference == reference, t.c.status == "open")
                .values(status="done", closed_at=dt.datetime.now(dt.timezone.utc))
            )
        return done.rowcount == 1


def database_url() -> str:
    from settings import ROOT, get_settings

    url = get_settings().assistant_database_url
    if url:
        return url
    (ROOT / ".run").mkdir(exist_ok=True)
    return f"sqlite:///{ROOT / '.run' / 'assistant.db'}"


@functools.lru_cache(maxsize=1)
def get_handoff_store() -> HandoffStore:
    return HandoffStore(database_url(), keys())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sessions.handoffs", description="Call-back requests")
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="open requests, oldest first")
    listing.add_argument("--reveal", action="store_true", help="show the number to call and the note")
    done = sub.add_parser("done", help="close a request after calling back")
    done.add_argument("reference")
    args = parser.parse_args(argv)
    store = get_handoff_store()
    if args.command == "done":
        closed = store.close(args.reference)
        print(f"{args.reference}: closed" if closed else f"{args.reference}: no open request with that reference")
        return 0 if closed else 1
    requests = store.open_requests()
    for r in requests:
        line = f"{r.reference}  {r.created_at:%Y-%m-%d %H:%M} UTC  {r.user_kind:9}  {r.phone_masked}"
        if args.reveal:
            phone, note = store.reveal(r.reference)
            line += f"  call {phone}" + (f"  note: {note}" if note else "")
        elif r.has_note:
            line += "  (note: --reveal)"
        print(line)
    print(f"{len(requests)} open call-back request(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
