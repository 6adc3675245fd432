"""compact month histograms: channels combined ('C'), then departments too ('P')

Revision ID: 0013_compact_month_histograms
Revises: 0012_outbox_stream_index
Create Date: 2026-11-29 10:00:00

No schema change: ``request_daily_histograms.grain`` gains two values, filled here from the
existing month rows ('M') so that indicators stay right without waiting for a rebuild. From now on
``rollups.rebuild_months`` maintains them with the 'M' rows. Long queries that neither filter nor
group by channel read 'C' (and those that also ignore departments read 'P'): the histograms are
the bulk of a long query, and these have several times fewer rows.
"""

from __future__ import annotations

from typing import Sequence, Union

from alembic import op


revision: str = '0013_compact_month_histograms'
down_revision: Union[str, Sequence[str], None] = '0012_outbox_stream_index'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


# Same statements as domain.dashboards.rollups.COMPACT_HISTOGRAMS (a migration must not import
# application code that may change after it).
FILL = """
INSERT INTO request_daily_histograms (tenant_id, grain, day, procedure_id, department_id, channel, kind, bucket, count)
SELECT tenant_id, '{grain}', day, procedure_id, {department}, '*', kind, bucket, sum(count)
FROM request_daily_histograms WHERE grain = '{source}'
GROUP BY tenant_id, day, {keep}, kind, bucket
"""


def upgrade() -> None:
    op.execute("DELETE FROM request_daily_histograms WHERE grain IN ('C', 'P')")
    op.execute(FILL.format(grain="C", source="M", keep="procedure_id, department_id", department="department_id"))
    op.execute(FILL.format(grain="P", source="C", keep="procedure_id", department="NULL::uuid"))


def downgrade() -> None:
    op.execute("DELETE FROM request_daily_histograms WHERE grain IN ('C', 'P')")
