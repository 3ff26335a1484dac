"""The email channel's tables, shared by :mod:`.sql` and the ``0014_email`` migration.

- ``support_mail_messages``: every mail the channel saw or sent, keyed by its
  Message-ID (or the SHA-256 of its bytes when it has none), with the raw
  message kept and what became of it. The unique key is the de-duplication
  backstop: a mail is imported once however many workers or routes see it.
- ``support_mail_checkpoints``: per IMAP mailbox, the UIDVALIDITY and the last
  UID imported, advanced after each message, and the last error.
- ``support_mail_participants``: addresses a requester copied on a ticket's
  mail; their replies join the ticket instead of opening a new one.
- ``support_mail_preferences``: users who asked for admin replies on their app
  tickets by mail.

Times are Unix seconds as double precision, as the jobs' tables have them.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..sqlschema.tables import Id

__all__ = ["checkpoints", "messages", "metadata", "participants", "preferences"]

metadata = sa.MetaData()

messages = sa.Table(
    "support_mail_messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    #: The normalised Message-ID (``local@domain``), or ``sha256:<hex>`` of the raw bytes.
    sa.Column("message_key", sa.Text, nullable=False),
    #: ``in`` (received) or ``out`` (sent by the desk).
    sa.Column("direction", sa.Text, nullable=False),
    #: ``claimed`` while an import is under way, ``done`` once its effect is written.
    sa.Column("state", sa.Text, nullable=False),
    #: What the mail became: new_ticket, reply, follow_up, automatic, own, rejected; for ``out``: reply, ack, notice.
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("mailbox", sa.Text),
    sa.Column("ticket_id", Id),
    sa.Column("support_message_id", Id),
    sa.Column("user_id", Id),
    #: A new ticket's number, drawn before it is written, so a crash after the write finds it.
    sa.Column("ticket_number", sa.Text),
    #: For a follow-up: the ticket the mail claimed to answer.
    sa.Column("follow_up_of", Id),
    #: Sender (inbound) or recipient (outbound), lower case.
    sa.Column("address", sa.Text),
    sa.Column("subject", sa.Text),
    #: Outbound mail sent without a person writing it (acknowledgements): what the rate limit counts.
    sa.Column("automatic", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("raw", sa.LargeBinary),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("finished_at", sa.Float),
    sa.UniqueConstraint("message_key", name="uq_support_mail_messages_key"),
    sa.CheckConstraint("direction IN ('in', 'out')", name="ck_support_mail_messages_direction"),
    sa.CheckConstraint("state IN ('claimed', 'done')", name="ck_support_mail_messages_state"),
    sqlite_autoincrement=True,
)
sa.Index("ix_support_mail_messages_ticket", messages.c.ticket_id)
sa.Index("ix_support_mail_messages_number", messages.c.ticket_number)
sa.Index("ix_support_mail_messages_address", messages.c.address, messages.c.created_at)

checkpoints = sa.Table(
    "support_mail_checkpoints",
    metadata,
    sa.Column("mailbox", sa.Text, primary_key=True),
    sa.Column("uidvalidity", sa.BigInteger, nullable=False),
    sa.Column("last_uid", sa.BigInteger, nullable=False),
    sa.Column("imported", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("polled_at", sa.Float),
    sa.Column("last_error", sa.Text),
    sa.Column("last_error_at", sa.Float),
)

participants = sa.Table(
    "support_mail_participants",
    metadata,
    sa.Column("ticket_id", Id, primary_key=True),
    sa.Column("address", sa.Text, primary_key=True),
)

preferences = sa.Table(
    "support_mail_preferences",
    metadata,
    sa.Column("user_id", Id, primary_key=True),
    sa.Column("notify_replies", sa.Boolean, nullable=False),
)
