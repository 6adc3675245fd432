"""The heart of Guichet: plain Python, no GraphQL, no HTTP.

One sub-package per bounded context (tenancy, citizens, events, ...). Each
exposes tables (SQLModel), pure rules, services (use cases taking an
``AsyncSession`` and a ``Principal``) and errors.
"""
