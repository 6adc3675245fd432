"""Procedure catalogue types: procedures, their versions, forms and workflows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.procedures import models
from domain.procedures.rules import sla_days, transition_sources
from domain.procedures.services import list_versions, load_procedure_versions, prefill_for
from schema.common import Node, UserError, decode_id, to_global_id
from schema.enums import AssuranceLevel
from schema.request_enums import Channel, RequestStatus


@strawberry.type(description="A text in French and English.")
class LocalizedText:
    fr: str
    en: str

    @classmethod
    def of(cls, value: dict[str, str] | None) -> LocalizedText | None:
        return cls(fr=value["fr"], en=value["en"]) if value else None


@strawberry.type(description="A state of a procedure's workflow.")
class WorkflowState:
    code: str
    label: LocalizedText = strawberry.field(description="Label for agents.")
    public_label: LocalizedText = strawberry.field(description="Label shown to the citizen (defaults to `label`).")
    status: RequestStatus  # type: ignore[valid-type]
    terminal: bool

    @classmethod
    def of(cls, s: dict[str, Any]) -> WorkflowState:
        return cls(
            code=s["code"],
            label=LocalizedText.of(s["label"]),
            public_label=LocalizedText.of(s.get("publicLabel") or s["label"]),
            status=RequestStatus(s["status"]),
            terminal=bool(s.get("terminal")),
        )


@strawberry.type(description="A move from one state to another, taken by `requestTransition`.")
class WorkflowTransition:
    name: str
    label: LocalizedText | None
    from_states: list[str]
    to_state: str
    roles: list[str] = strawberry.field(description="CITIZEN (the request's own citizen), AGENT, SUPERVISOR, ADMIN.")
    required_inputs: list[str] = strawberry.field(description="Keys that `requestTransition(input: {inputs})` must carry, e.g. reason.")
    notify_citizen: bool

    @classmethod
    def of(cls, t: dict[str, Any]) -> WorkflowTransition:
        return cls(
            name=t["name"],
            label=LocalizedText.of(t.get("label")),
            from_states=transition_sources(t),
            to_state=t["to"],
            roles=list(t["roles"]),
            required_inputs=list(t.get("requiredInputs") or []),
            notify_citizen=bool(t.get("notifyCitizen")),
        )


@strawberry.type
class Workflow:
    initial_state: str
    states: list[WorkflowState]
    transitions: list[WorkflowTransition]

    @classmethod
    def of(cls, definition: dict[str, Any]) -> Workflow:
        wf = definition["workflow"]
        return cls(
            initial_state=wf.get("initial") or wf["states"][0]["code"],
            states=[WorkflowState.of(s) for s in wf["states"]],
            transitions=[WorkflowTransition.of(t) for t in wf["transitions"]],
        )


@strawberry.type(description="An immutable published definition of a procedure. Requests keep the version they were submitted under.")
class ProcedureVersion(Node):
    number: int
    published_at: datetime
    _model: strawberry.Private[models.ProcedureVersion]

    @strawberry.field(description="The whole definition as published (YAML/JSON document).")
    def definition(self) -> JSON:
        return self._model.definition

    @strawberry.field(description="The form: `{schema: <JSON Schema 2020-12>, ui: {steps, fields}}`. See docs/requests.md.")
    def form(self) -> JSON:
        return self._model.definition["form"]

    @strawberry.field
    def workflow(self) -> Workflow:
        return Workflow.of(self._model.definition)

    @strawberry.field(description="Target processing time in business days (weekends and French public holidays excluded).")
    def sla_business_days(self) -> int:
        return sla_days(self._model.definition)

    @strawberry.field(description="Channels the procedure accepts.")
    def channels(self) -> list[Channel]:  # type: ignore[valid-type]
        return [Channel(c) for c in self._model.definition.get("channels") or [c.value for c in Channel]]

    @strawberry.field(description="Minimum identity assurance level of the citizen.")
    def assurance_level(self) -> AssuranceLevel:  # type: ignore[valid-type]
        return AssuranceLevel(self._model.definition.get("assuranceLevel", "DECLARED"))

    @strawberry.field(description="Documents to provide: `[{code, label {fr en}, required, field, visibleWhen}]`.")
    def required_documents(self) -> JSON:
        return self._model.definition.get("requiredDocuments") or []

    @strawberry.field(description="Form fields prefilled from the citizen profile: `{field: profileField}`.")
    def prefill_mapping(self) -> JSON:
        return self._model.definition.get("prefill") or {}

    @strawberry.field(
        description="Values of the prefilled fields for the authenticated citizen (or, for agents, for `citizenId`): "
        "tell us once, never ask again what the profile holds."
    )
    async def prefill(self, info: Info, citizen_id: strawberry.ID | None = None) -> JSON:
        ctx = info.context
        raw = decode_id(citizen_id, "Citizen", ("citizen_id",)) if citizen_id else None
        async with ctx.read() as s:
            return await prefill_for(s, ctx.principal, self._model, raw)

    @classmethod
    def from_model(cls, m: models.ProcedureVersion) -> ProcedureVersion:
        return cls(id=to_global_id("ProcedureVersion", m.id), number=m.number, published_at=m.published_at, _model=m)


@strawberry.type(description="A procedure (démarche) offered by the local authority, defined as data.")
class Procedure(Node):
    code: str
    category: str
    title: LocalizedText
    active: bool
    current_version_number: int
    _model: strawberry.Private[models.Procedure]

    async def _current(self, info: Info) -> models.ProcedureVersion:
        return await info.context.loader("procedure_version", load_procedure_versions).load(self._model.current_version_id)

    @strawberry.field(description="The version new requests are submitted under.")
    async def current_version(self, info: Info) -> ProcedureVersion:
        return ProcedureVersion.from_model(await self._current(info))

    @strawberry.field(description="Every published version, oldest first.")
    async def versions(self, info: Info) -> list[ProcedureVersion]:
        ctx = info.context
        async with ctx.read() as s:
            rows = await list_versions(s, ctx.principal, self._model.id)
        return [ProcedureVersion.from_model(v) for v in rows]

    @strawberry.field
    async def description(self, info: Info) -> LocalizedText | None:
        return LocalizedText.of((await self._current(info)).definition.get("description"))

    @strawberry.field(description="The current form (see `ProcedureVersion.form`).")
    async def form(self, info: Info) -> JSON:
        return (await self._current(info)).definition["form"]

    @strawberry.field(description="The current workflow.")
    async def workflow(self, info: Info) -> Workflow:
        return Workflow.of((await self._current(info)).definition)

    @strawberry.field(description="Prefilled values of the current form (see `ProcedureVersion.prefill`).")
    async def prefill(self, info: Info, citizen_id: strawberry.ID | None = None) -> JSON:
        return await ProcedureVersion.from_model(await self._current(info)).prefill(info, citizen_id)

    @classmethod
    def from_model(cls, m: models.Procedure) -> Procedure:
        return cls(
            id=to_global_id("Procedure", m.id),
            code=m.code,
            category=m.category,
            title=LocalizedText(fr=m.title_fr, en=m.title_en),
            active=m.active,
            current_version_number=m.current_version,
            _model=m,
        )


@strawberry.input
class ProcedurePublishInput:
    definition: JSON = strawberry.field(description="The whole definition (the YAML file as JSON). See docs/requests.md.")


@strawberry.input(description="Withdraw a procedure from the catalogue (active: false) or offer it again.")
class ProcedureSetActiveInput:
    code: str
    active: bool


@strawberry.type
class ProcedurePayload:
    procedure: Procedure | None
    user_errors: list[UserError]
