"""index of the outbox by tenant and aggregate type, in sequence order

Revision ID: 0012_outbox_stream_index
Revises: 0011_reporting_more
Create Date: 2026-11-29 09:30:00

Outbox consumers (the rollups refresh, the ``/metrics`` outbox backlog) read "this tenant's
``Request`` events after my cursor, in sequence order". The only index in sequence order was the
unique one on ``sequence``, so with many tenants a consumer walked every other tenant's events
after its cursor. This one answers it directly (a range scan, no sort).
"""

from __future__ import annotations

from typing import Sequence, Union

from alembic import op


revision: str = '0012_outbox_stream_index'
down_revision: Union[str, Sequence[str], None] = '0011_reporting_more'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index("ix_events_stream", "events", ["tenant_id", "aggregate_type", "sequence"])


def downgrade() -> None:
    op.drop_index("ix_events_stream", table_name="events")
