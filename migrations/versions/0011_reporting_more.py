"""reporting views of appointments and reports

Revision ID: 0011_reporting_more
Revises: 0010_dashboards
Create Date: 2026-11-29 08:44:41.186628

Autogenerate found no table change (views are not tracked by it): this revision only adds
``reporting.appointments`` and ``reporting.reports`` and grants SELECT on them to
``guichet_reporting``. No names, contacts, booking codes, free text or reporter e-mail; citizens as
the same keyed pseudonym as ``reporting.requests``; report coordinates rounded to 3 decimals
(~110 m north-south, ~75 m east-west at 48° N) because an exact point can be someone's doorstep.
"""

from __future__ import annotations

from typing import Sequence, Union

from alembic import op


revision: str = '0011_reporting_more'
down_revision: Union[str, Sequence[str], None] = '0010_dashboards'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


# Same expression as 0010_dashboards (a migration must not import another one).
PSEUDONYM = "left(encode(sha256(convert_to(k.secret || ':' || {col}::text, 'UTF8')), 'hex'), 32)"

REPORTING_UP = [
    f"""CREATE VIEW reporting.appointments AS
    SELECT a.id AS appointment_id, a.tenant_id, t.slug AS tenant, g.name AS agenda, d.code AS department_code,
           ty.label_fr AS appointment_type, ty.procedure_code, a.channel, a.status, a.booked_by_type AS booked_by,
           a.starts_at, a.ends_at, a.created_at AS booked_at, a.cancelled_at, a.request_id,
           {PSEUDONYM.format(col='a.citizen_id')} AS citizen_pseudonym
    FROM appointments a
    JOIN tenants t ON t.id = a.tenant_id
    JOIN reporting.tenant_keys k ON k.tenant_id = a.tenant_id
    JOIN agendas g ON g.id = a.agenda_id
    JOIN departments d ON d.id = g.department_id
    JOIN appointment_types ty ON ty.id = a.appointment_type_id""",
    # A merged duplicate was folded into another report, not resolved: no resolution figures.
    f"""CREATE VIEW reporting.reports AS
    SELECT r.id AS request_id, r.tenant_id, t.slug AS tenant, r.reference,
           c.code AS category_code, pc.code AS parent_category_code, d.code AS department_code, r.channel,
           r.status, r.state, x.public, x.merged_into_id IS NOT NULL AS merged, x.merged_into_id AS merged_into_request_id,
           x.support_count, round(x.latitude::numeric, 3) AS latitude, round(x.longitude::numeric, 3) AS longitude,
           r.submitted_at, r.closed_at, c.target_resolution_days,
           CASE WHEN r.closed_at IS NOT NULL AND r.status <> 'CANCELLED' AND x.merged_into_id IS NULL
                THEN floor(extract(epoch FROM r.closed_at - r.submitted_at))::bigint END AS resolution_seconds,
           CASE WHEN r.closed_at IS NOT NULL AND r.status <> 'CANCELLED' AND x.merged_into_id IS NULL
                     AND c.target_resolution_days IS NOT NULL
                THEN r.closed_at <= r.submitted_at + make_interval(days => c.target_resolution_days) END AS within_target,
           {PSEUDONYM.format(col='r.citizen_id')} AS citizen_pseudonym
    FROM report_details x
    JOIN requests r ON r.id = x.request_id
    JOIN tenants t ON t.id = r.tenant_id
    JOIN reporting.tenant_keys k ON k.tenant_id = r.tenant_id
    JOIN report_categories c ON c.id = x.category_id
    LEFT JOIN report_categories pc ON pc.id = c.parent_id
    LEFT JOIN departments d ON d.id = r.department_id
    WHERE r.submitted_at IS NOT NULL""",
    """DO $$
    BEGIN
        IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'guichet_reporting') THEN
            GRANT SELECT ON reporting.appointments, reporting.reports TO guichet_reporting;
        END IF;
    END $$""",
]


def upgrade() -> None:
    for statement in REPORTING_UP:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS reporting.reports")
    op.execute("DROP VIEW IF EXISTS reporting.appointments")
