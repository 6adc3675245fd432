"""Citizen types, inputs and payloads."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.types import Info

from domain.citizens import models
from domain.citizens.services import load_external_ids
from schema.common import Node, UserError, to_global_id
from schema.enums import AssuranceLevel, ContactChannel, Gender, Language


@strawberry.type(description="A place of birth: INSEE code (99xxx abroad) and label.")
class BirthPlace:
    insee_code: str | None
    label: str | None


@strawberry.type(description="A French postal address.")
class PostalAddress:
    number: str | None
    street: str | None
    complement: str | None
    postcode: str | None
    city: str | None
    insee_code: str | None


@strawberry.type(description="The citizen's identifier in another system (family portal, civil-status software, ...).")
class ExternalIdentifier:
    source: str
    external_id: str


@strawberry.type(description="A person known to the local authority: one record shared by every procedure (tell us once).")
class Citizen(Node):
    given_names: str
    family_name: str
    birth_name: str | None
    birth_date: dt.date | None
    gender: Gender  # type: ignore[valid-type]
    email: str | None
    phone: str | None = strawberry.field(description="E.164 (+33612345678).")
    preferred_channel: ContactChannel  # type: ignore[valid-type]
    preferred_language: Language  # type: ignore[valid-type]
    assurance_level: AssuranceLevel  # type: ignore[valid-type]
    version: int = strawberry.field(description="Pass it back to citizenUpdate / myProfileUpdate (optimistic locking).")
    created_at: dt.datetime
    updated_at: dt.datetime
    _model: strawberry.Private[models.Citizen]

    @strawberry.field
    def display_name(self) -> str:
        return f"{self.given_names} {self.family_name}"

    @strawberry.field
    def birth_place(self) -> BirthPlace | None:
        m = self._model
        if not (m.birth_place_insee or m.birth_place_label):
            return None
        return BirthPlace(insee_code=m.birth_place_insee, label=m.birth_place_label)

    @strawberry.field
    def address(self) -> PostalAddress | None:
        m = self._model
        parts = {
            "number": m.address_number,
            "street": m.address_street,
            "complement": m.address_complement,
            "postcode": m.address_postcode,
            "city": m.address_city,
            "insee_code": m.address_insee,
        }
        if not any(parts.values()):
            return None
        return PostalAddress(**parts)

    @strawberry.field
    async def external_ids(self, info: Info) -> list[ExternalIdentifier]:
        rows = await info.context.loader("citizen_external_ids", load_external_ids).load(self._model.id)
        return [ExternalIdentifier(source=r.source, external_id=r.external_id) for r in rows]

    @classmethod
    def from_model(cls, m: models.Citizen) -> Citizen:
        return cls(
            id=to_global_id("Citizen", m.id),
            given_names=m.given_names,
            family_name=m.family_name,
            birth_name=m.birth_name,
            birth_date=m.birth_date,
            gender=Gender(m.gender),
            email=m.email,
            phone=m.phone,
            preferred_channel=ContactChannel(m.preferred_channel),
            preferred_language=Language(m.preferred_language),
            assurance_level=AssuranceLevel(m.assurance_level),
            version=m.version,
            created_at=m.created_at,
            updated_at=m.updated_at,
            _model=m,
        )


@strawberry.input
class BirthPlaceInput:
    insee_code: str | None = strawberry.UNSET
    label: str | None = strawberry.UNSET


@strawberry.input
class PostalAddressInput:
    number: str | None = strawberry.UNSET
    street: str | None = strawberry.UNSET
    complement: str | None = strawberry.UNSET
    postcode: str | None = strawberry.UNSET
    city: str | None = strawberry.UNSET
    insee_code: str | None = strawberry.UNSET


@strawberry.input
class ExternalIdentifierInput:
    source: str
    external_id: str


@strawberry.input(description="A new citizen record, typed by an agent (counter, phone, mail) or imported.")
class CitizenCreateInput:
    given_names: str
    family_name: str
    birth_name: str | None = strawberry.UNSET
    birth_date: dt.date | None = strawberry.UNSET
    birth_place: BirthPlaceInput | None = strawberry.UNSET
    gender: Gender | None = strawberry.UNSET  # type: ignore[valid-type]
    email: str | None = strawberry.UNSET
    phone: str | None = strawberry.field(default=strawberry.UNSET, description="National (06 12 34 56 78) or E.164 form.")
    address: PostalAddressInput | None = strawberry.UNSET
    preferred_channel: ContactChannel | None = strawberry.UNSET  # type: ignore[valid-type]
    preferred_language: Language | None = strawberry.UNSET  # type: ignore[valid-type]
    assurance_level: AssuranceLevel | None = strawberry.UNSET  # type: ignore[valid-type]
    external_ids: list[ExternalIdentifierInput] | None = strawberry.UNSET


@strawberry.input(description="Changes to a citizen: only the fields sent are changed; null clears a field.")
class CitizenUpdateInput:
    id: strawberry.ID
    version: int = strawberry.field(description="The version you read; a stale version is refused with CONFLICT.")
    given_names: str | None = strawberry.UNSET
    family_name: str | None = strawberry.UNSET
    birth_name: str | None = strawberry.UNSET
    birth_date: dt.date | None = strawberry.UNSET
    birth_place: BirthPlaceInput | None = strawberry.UNSET
    gender: Gender | None = strawberry.UNSET  # type: ignore[valid-type]
    email: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    address: PostalAddressInput | None = strawberry.UNSET
    preferred_channel: ContactChannel | None = strawberry.UNSET  # type: ignore[valid-type]
    preferred_language: Language | None = strawberry.UNSET  # type: ignore[valid-type]
    assurance_level: AssuranceLevel | None = strawberry.UNSET  # type: ignore[valid-type]
    external_ids: list[ExternalIdentifierInput] | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces the whole list when sent."
    )


@strawberry.input(description="A citizen's changes to their own profile. Verified identity fields are locked.")
class MyProfileUpdateInput:
    version: int
    given_names: str | None = strawberry.UNSET
    family_name: str | None = strawberry.UNSET
    birth_name: str | None = strawberry.UNSET
    birth_date: dt.date | None = strawberry.UNSET
    birth_place: BirthPlaceInput | None = strawberry.UNSET
    gender: Gender | None = strawberry.UNSET  # type: ignore[valid-type]
    email: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    address: PostalAddressInput | None = strawberry.UNSET
    preferred_channel: ContactChannel | None = strawberry.UNSET  # type: ignore[valid-type]
    preferred_language: Language | None = strawberry.UNSET  # type: ignore[valid-type]


@strawberry.type
class CitizenPayload:
    citizen: Citizen | None
    user_errors: list[UserError]
