"""compact histograms: channels combined ('c' per day, 'C' per month), then departments too ('p', 'P')

Revision ID: 0013_compact_month_histograms
Revises: 0012_outbox_stream_index
Create Date: 2026-11-29 10:00:00

No schema change: ``request_daily_histograms.grain`` gains four values, filled here from the
existing day ('D') and month ('M') rows so that indicators stay right without waiting for a
rebuild. From now on ``rollups`` maintains them with the rows they derive from. Queries that
neither filter nor group by channel read 'c'/'C' (and those that also ignore departments read
'p'/'P'): histograms are the bulk of a query, and these have several times fewer rows.
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
    op.execute("DELETE FROM request_daily_histograms WHERE grain IN ('c', 'p', 'C', 'P')")
    for full, by_procedure_and_department, by_procedure in (("D", "c", "p"), ("M", "C", "P")):
        op.execute(FILL.format(grain=by_procedure_and_department, source=full, keep="procedure_id, department_id", department="department_id"))
        op.execute(FILL.format(grain=by_procedure, source=by_procedure_and_department, keep="procedure_id", department="NULL::uuid"))
    # new grain values: without fresh statistics the planner would misjudge them (see rollups.analyze_rollup_tables)
    op.execute("ANALYZE request_daily_histograms")


def downgrade() -> None:
    op.execute("DELETE FROM request_daily_histograms WHERE grain IN ('c', 'p', 'C', 'P')")
