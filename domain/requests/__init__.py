"""Requests: submissions of a procedure by a citizen on any channel, tracked end to end."""
