"""The benchmark generator writes citizens that the citizen service finds, like citizens it created itself.

Guards bench/generate.py against drifting from domain.citizens.rules (sort_name, search_document);
it measures nothing.
"""

from __future__ import annotations

import asyncpg

from api import db
from bench.generate import copy_citizens
from domain.citizens.services import search_citizens
from domain.security import Principal, PrincipalKind, Role
from domain.text import fold


async def test_generated_citizens_are_found_by_the_service_search(app, database_url, tenant):
    conn = await asyncpg.connect(db.to_plain_url(database_url))
    try:
        await copy_citizens(conn, tenant.id, 200, seed=3)
        rows = await conn.fetch(
            "SELECT id, given_names, family_name, email, phone, sort_name FROM citizens WHERE tenant_id = $1", tenant.id
        )
    finally:
        await conn.close()
    assert len(rows) == 200
    agent = Principal(PrincipalKind.AGENT, tenant.agents["AGENT"], tenant.id, frozenset({Role.AGENT}))
    async with app.state.sessionmaker() as session:
        listed, after = [], None
        while True:
            page = await search_citizens(session, agent, None, 100, after)
            listed += [c.id for c in page.items]
            if not page.has_next_page:
                break
            after = page.cursors[-1]
        assert listed == [r["id"] for r in sorted(rows, key=lambda r: (r["sort_name"], r["id"]))]

        sample = rows[:: 37]
        for row in sample:
            # "fam giv" prefixes, typed with other case and without accents, as an agent would
            typed = f"{fold(row['family_name'])[:3].upper()} {fold(row['given_names'])[:3]}"
            found = await search_citizens(session, agent, typed, 100, None)
            assert row["id"] in {c.id for c in found.items}, typed
        with_phone = [r for r in rows if r["phone"]]
        with_email = [r for r in rows if r["email"]]
        assert with_phone and with_email
        phone = with_phone[0]
        national = "0" + phone["phone"][3:]
        found = await search_citizens(session, agent, f"{national[:2]} {national[2:4]} {national[4:6]} {national[6:8]} {national[8:]}", 20, None)
        assert [c.id for c in found.items] == [phone["id"]]
        found = await search_citizens(session, agent, with_email[0]["email"], 20, None)
        assert with_email[0]["id"] in {c.id for c in found.items}
