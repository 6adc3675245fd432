"""Conventions shared by every type: global IDs, Node, connections, user errors."""

from __future__ import annotations

import base64
import dataclasses
import enum
import uuid
from typing import Any, Callable, Generic, Iterable, TypeVar

import strawberry
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.unset import UNSET
from strawberry.utils.str_converters import to_camel_case

from domain.errors import DomainValidationError
from domain.messages import MESSAGES, translate
from domain.pagination import Page

T = TypeVar("T")
M = TypeVar("M")

# ---------------------------------------------------------------- global IDs


def to_global_id(type_name: str, raw_id: uuid.UUID) -> strawberry.ID:
    return strawberry.ID(base64.urlsafe_b64encode(f"{type_name}:{raw_id}".encode()).decode().rstrip("="))


def parse_global_id(global_id: str) -> tuple[str, uuid.UUID] | None:
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, raw = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        return type_name, uuid.UUID(raw)
    except (ValueError, UnicodeDecodeError):
        return None


def decode_id(global_id: str, expected_type: str | Iterable[str], field: tuple[str, ...] = ("id",)) -> uuid.UUID:
    """Decode an opaque ID of the expected type or raise an ``INVALID_ID`` user error."""
    expected = {expected_type} if isinstance(expected_type, str) else set(expected_type)
    parsed = parse_global_id(global_id)
    if parsed is None or parsed[0] not in expected:
        raise DomainValidationError.single(field, "INVALID_ID")
    return parsed[1]


@strawberry.interface(description="An object with a globally unique, opaque ID (Relay Global Object Identification).")
class Node:
    id: strawberry.ID


# ---------------------------------------------------------------- connections


@strawberry.type(description="Where a page of a connection stands (Relay cursor connections).")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo

    @strawberry.field(description="The nodes of the page, without cursors.")
    def nodes(self) -> list[T]:
        return [e.node for e in self.edges]


def connection_from_page(page: Page[M], mapper: Callable[[M], T]) -> Connection[T]:
    edges = [Edge(cursor=c, node=mapper(item)) for item, c in zip(page.items, page.cursors)]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
    )


# ---------------------------------------------------------------- user errors

ErrorCode = strawberry.enum(
    enum.Enum("ErrorCode", {code: code for code in MESSAGES}),  # type: ignore[misc]
    description="Why an input was refused. Stable: front-ends may branch on it.",
)


@strawberry.type(description="A problem with the input of a mutation, to show to the person who typed it.")
class UserError:
    field: list[str] | None = strawberry.field(
        description="Path to the faulty field inside `input` (camelCase, list indexes as strings); null for the whole input."
    )
    code: ErrorCode  # type: ignore[valid-type]
    message: str = strawberry.field(description="Plain-language message in the caller's language (Accept-Language: fr or en).")


def user_errors(exc: DomainValidationError, locale: str) -> list[UserError]:
    return [
        UserError(
            field=[to_camel_case(p) for p in e.field] if e.field else None,
            code=ErrorCode[e.code],  # type: ignore[misc]
            message=translate(e.code, locale, e.params),
        )
        for e in exc.errors
    ]


# ---------------------------------------------------------------- inputs


def input_to_data(value: Any) -> Any:
    """A Strawberry input -> plain dict with snake_case keys, omitting fields not sent.

    ``None`` means "clear this field"; a field absent from the request is left out.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in dataclasses.fields(value):
            v = getattr(value, f.name)
            if v is UNSET:
                continue
            out[f.name] = input_to_data(v)
        return out
    if isinstance(value, list):
        return [input_to_data(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    return value


def is_object_type(obj: Any) -> bool:
    return isinstance(getattr(type(obj), "__strawberry_definition__", None), StrawberryObjectDefinition)


def selected_fields(selections: list[Any]) -> list[Any]:
    """The fields of a selection set, fragments (named and inline) flattened in."""
    from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

    fields: list[SelectedField] = []
    for sel in selections:
        if isinstance(sel, SelectedField):
            fields.append(sel)
        elif isinstance(sel, (FragmentSpread, InlineFragment)):
            fields.extend(selected_fields(sel.selections))
    return fields


def selected_names(selections: list[Any]) -> set[str]:
    """Every field name asked anywhere below these selections (to skip work nobody asked for)."""
    out: set[str] = set()
    for f in selected_fields(selections):
        out.add(f.name)
        out |= selected_names(f.selections)
    return out
