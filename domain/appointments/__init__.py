"""Appointments: places, agendas, opening rules, availability, bookings without overbooking."""
