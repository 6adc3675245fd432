"""Idempotency keys: a retried request with the same key returns the first response."""
