"""Appointment indicators through the real booking API."""

from __future__ import annotations

from tests.api.appointments_support import book_as_citizen, days_ahead, local, make_agenda, make_citizen, ok
from tests.api.test_appointments_booking import CANCEL

APPOINTMENTS = """
query($filter: AppointmentIndicatorFilter!, $granularity: Granularity! = TOTAL, $dimension: AppointmentDimension) {
  appointmentIndicators(filter: $filter, granularity: $granularity, dimension: $dimension) {
    periodStart dimensionKey suppressed booked honoured noShow cancelled pending noShowRate seatsOffered seatsTaken fillRate
  }
}
"""


async def test_outcomes_and_fill_rate_of_the_offered_capacity(gql, tenant):
    # given an agenda open 08:00-18:00 every day, 15-minute slots, capacity 3
    ids = await make_agenda(gql, tenant, capacity=3)
    day = days_ahead(3)
    booked = []
    for i, hour in enumerate((9, 10, 11, 14)):
        citizen = await make_citizen(gql, tenant, f"Usager{i}")
        result = await book_as_citizen(gql, tenant, ids, citizen, local(day, hour))
        booked.append((citizen, (await ok(result, "appointmentBook"))["appointment"]))
    # and one booking cancelled by an agent
    await ok(await gql(CANCEL, {"input": {"id": booked[0][1]["id"], "version": 1, "reason": "doublon"}}, token=tenant.tokens["AGENT"]), "appointmentCancel")
    filter_ = {"from": day.isoformat(), "to": day.isoformat()}

    # when the admin asks for that day
    r = await gql(APPOINTMENTS, {"filter": filter_}, token=tenant.tokens["ADMIN"])
    # then outcomes are counted and the fill rate is seats taken over the 40 slots x 3 seats offered
    assert r.errors == []
    (point,) = r.data["appointmentIndicators"]
    assert (point["booked"], point["cancelled"], point["pending"], point["honoured"], point["noShow"]) == (4, 1, 3, 0, 0)
    assert point["noShowRate"] is None
    assert point["seatsOffered"] == 40 * 3 and point["seatsTaken"] == 3
    assert point["fillRate"] == 3 / 120

    # per booking channel: no capacity figures
    r = await gql(APPOINTMENTS, {"filter": filter_, "dimension": "CHANNEL"}, token=tenant.tokens["ADMIN"])
    assert [(p["dimensionKey"], p["booked"], p["seatsOffered"]) for p in r.data["appointmentIndicators"]] == [("WEB", 4, None)]

    # the supervisor of the agenda's department sees it; analysts get the small group suppressed
    r = await gql(APPOINTMENTS, {"filter": filter_, "dimension": "DEPARTMENT"}, token=tenant.tokens["SUPERVISOR"])
    assert [(p["dimensionKey"], p["booked"]) for p in r.data["appointmentIndicators"]] == [("accueil", 4)]
    r = await gql(APPOINTMENTS, {"filter": filter_}, token=tenant.tokens["ANALYST"])
    (hidden,) = r.data["appointmentIndicators"]
    assert hidden["suppressed"] is True and hidden["booked"] is None and hidden["seatsOffered"] == 120

    # agents may not, and bad periods are precise errors
    r = await gql(APPOINTMENTS, {"filter": filter_}, token=tenant.tokens["AGENT"])
    assert r.error_codes == ["FORBIDDEN"]
    r = await gql(APPOINTMENTS, {"filter": {"from": "2026-01-01", "to": "2027-12-31"}}, token=tenant.tokens["ADMIN"])
    assert r.error_codes == ["BAD_USER_INPUT"] and r.errors[0]["extensions"]["reason"] == "RANGE_TOO_LARGE"


async def test_appointments_csv_is_pseudonymised(gql, tenant, client):
    import csv
    import io

    # given two bookings of the same citizen
    ids = await make_agenda(gql, tenant, capacity=2)
    day = days_ahead(4)
    citizen = await make_citizen(gql, tenant, "Dupont")
    for hour in (9, 15):
        await ok(await book_as_citizen(gql, tenant, ids, citizen, local(day, hour)), "appointmentBook")
    # when an analyst exports the day
    r = await client.get("/exports/appointments.csv", params={"from": day.isoformat(), "to": day.isoformat(), "sep": ";"},
                         headers={"Authorization": f"Bearer {tenant.tokens['ANALYST']}"})
    # then two lines, one pseudonym, no name
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.text), delimiter=";"))
    assert [(x["status"], x["department_code"], x["channel"]) for x in rows] == [("BOOKED", "accueil", "WEB")] * 2
    assert len({x["citizen_pseudonym"] for x in rows}) == 1 and len(rows[0]["citizen_pseudonym"]) == 32
    assert "Dupont" not in r.text and "Camille" not in r.text
    # and an agent may not export
    r = await client.get("/exports/appointments.csv", params={"from": day.isoformat(), "to": day.isoformat()},
                         headers={"Authorization": f"Bearer {tenant.tokens['AGENT']}"})
    assert r.status_code == 403
