"""links: appointments.request_id foreign key; merge of the context heads

The contexts were built on parallel branches (requests, appointments, files,
integrations each revise 0001); this revision joins them and adds what links them:
appointments.request_id -> requests.id (ON DELETE SET NULL). Appointments booked
before with a request id that matches no request lose it (set to NULL) first.
Request attachments need no schema change (stored_files.owner_type/owner_id).

Revision ID: 0008_links
Revises: 0002_requests, 0003_appointments, 0004_files, 0005_integrations
Create Date: 2026-11-29 08:16:42.568773
"""

from __future__ import annotations

from typing import Sequence, Union

from alembic import op


revision: str = '0008_links'
down_revision: Union[str, Sequence[str], None] = ('0002_requests', '0003_appointments', '0004_files', '0005_integrations')
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


FK_NAME = "fk_appointments_request_id"


def upgrade() -> None:
    op.execute(
        "UPDATE appointments SET request_id = NULL WHERE request_id IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM requests WHERE requests.id = appointments.request_id)"
    )
    op.create_foreign_key(FK_NAME, "appointments", "requests", ["request_id"], ["id"], ondelete="SET NULL")


def downgrade() -> None:
    op.drop_constraint(FK_NAME, "appointments", type_="foreignkey")
