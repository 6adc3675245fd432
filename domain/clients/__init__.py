"""API clients: scoped, revocable credentials for municipal IT systems (integrators)."""
