"""Procedures as data: versioned definitions (form, workflow, SLA, routing) loaded without code."""
