"""The export tests' world: a campaign of a survey with every question type, answered like a respondent would.

:class:`ExportWorld` creates a campaign of the :data:`EXPORT_SURVEY_YAML`
survey and answers it either through :class:`bot.service.SurveyService` (an
invitation, ``/start`` with its token, then engine actions, as a Telegram
respondent would) or by writing answer rows and submissions directly, for
values the engine would never let through (a leading tab, a NUL...).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from openpyxl.workbook.workbook import Workbook

from bot.core.actions import Action, AnswerText, ChooseOption, Finish, Skip, Submit, ToggleOption, Upload
from bot.core.events import Rejected
from bot.core.loading import parse_survey
from bot.core.survey import Survey
from bot.service import ChannelUser, SurveyService
from bot.settings import Settings
from exports import BundleMode, ExportResult, export_campaign
from storage.campaigns import create_campaign
from storage.database import Database
from storage.invitations import create_invitation
from storage.models import Answer, Respondent, RespondentUnit, Response, ResponseStatus, Unit
from storage.rosters import add_units, get_unit
from storage.surveys import get_or_create_survey_version

EXPORT_SURVEY_YAML = """\
id: export-test
version: "1"
title: {zh: 导出测试, en: Export test}
languages: [zh, en]
sections:
  - id: basic
    title: {zh: 基本信息, en: Basic information}
    questions:
      - id: unit_name
        type: text
        label: {zh: 填报单位, en: Reporting unit}
      - id: members
        type: integer
        label: {zh: 成员单位数（个）, en: Member units}
      - id: budget
        type: decimal
        label: {zh: 经费（万元）, en: Budget (10k yuan)}
        required: false
      - id: filled_on
        type: date
        label: {zh: 填表日期, en: Date filled in}
      - id: has_plan
        type: yes_no
        label: {zh: 是否制定实施方案, en: "Is there an implementation plan?"}
  - id: detail
    title: {zh: 具体情况, en: Details}
    questions:
      - id: plan_note
        type: note
        label: {zh: 以下问题关于实施方案。, en: The next questions are about the plan.}
      - id: plan_by
        type: select_multiple
        label: {zh: 方案由谁印发, en: Issued by}
        relevant: "${has_plan} = 'yes'"
        choices:
          - {value: party, label: {zh: 党委, en: Party committee}}
          - {value: gov, label: {zh: 政府, en: Government}}
        other: {label: {zh: 其他（名称）, en: Other (name)}}
      - id: body
        type: select_one
        label: {zh: 协调机构, en: Coordinating body}
        choices:
          - {value: group, label: {zh: 领导小组, en: Leading group}}
          - {value: office, label: {zh: 办公室, en: Office}}
          - {value: none, label: {zh: 无, en: None}}
        other: {label: {zh: 其他（名称）, en: Other (name)}, before: none}
      - id: phone
        type: phone
        label: {zh: 联系电话, en: Phone}
        required: false
      - id: email
        type: email
        label: {zh: 电子邮箱, en: E-mail}
        required: false
  - id: report
    title: {zh: 评估报告, en: Evaluation report}
    questions:
      - id: summary_text
        type: long_text
        label: {zh: 一、工作总结, en: I. Summary}
      - id: problems
        type: long_text
        label: {zh: 二、问题和建议, en: II. Problems and suggestions}
        required: false
      - id: scan
        type: file
        label: {zh: 盖章扫描件, en: Stamped scan}
        required: false
"""

#: The summary sheet's columns for :data:`EXPORT_SURVEY_YAML`, letter by letter.
SUMMARY_KEYS: tuple[str, ...] = (
    "_unit",
    "_status",
    "unit_name",
    "members",
    "budget",
    "filled_on",
    "has_plan",
    "plan_by",
    "plan_by.other",
    "plan_by=party",
    "plan_by=gov",
    "plan_by=other",
    "body",
    "body.other",
    "phone",
    "email",
    "summary_text",
    "problems",
    "scan",
)

DEFAULT_UNITS: tuple[str, ...] = ("崇川区", "海门区", "如皋市", "启东市")


def export_survey() -> Survey:
    return parse_survey(EXPORT_SURVEY_YAML, source="export-test")


@dataclass
class ExportWorld:
    """A campaign of the export survey and the means to answer it and export it."""

    database: Database
    data_dir: Path
    out_dir: Path
    now: datetime
    campaign_id: int = 0
    survey: Survey = field(default_factory=export_survey)
    _next_account: int = 1000

    @property
    def settings(self) -> Settings:
        return Settings(data_dir=self.data_dir, database_url="sqlite+aiosqlite:///unused.db")

    async def create(self, units: Sequence[str] = DEFAULT_UNITS, *, title: str = "导出测试活动") -> None:
        definition = self.survey.definition.model_dump(mode="json", exclude_none=True)
        async with self.database.transaction() as session:
            version = await get_or_create_survey_version(
                session=session,
                definition_json=definition,
                survey_id=self.survey.id,
                version=self.survey.version,
                content_hash=self.survey.content_hash,
            )
            campaign = await create_campaign(
                session=session,
                survey_version=version,
                title=title,
                deadline=self.now + timedelta(days=20),
                timezone="Asia/Shanghai",
                now=self.now,
            )
            if units:
                await add_units(session=session, campaign=campaign, names=list(units))
            self.campaign_id = campaign.id

    def service(self, *, at: datetime | None = None) -> SurveyService:
        moment = at or self.now
        return SurveyService(database=self.database, settings=self.settings, clock=lambda: moment)

    async def respond(
        self,
        unit_name: str,
        actions: Sequence[Action],
        *,
        display_name: str = "张三",
        at: datetime | None = None,
    ) -> ChannelUser:
        """Join ``unit_name`` through a fresh invitation and apply ``actions``; none may be rejected."""
        async with self.database.transaction() as session:
            unit = await get_unit(session=session, campaign=self.campaign_id, name=unit_name)
            _, token = await create_invitation(session=session, unit=unit, now=self.now)
        self._next_account += 1
        user = ChannelUser(
            channel="telegram",
            external_id=str(self._next_account),
            display_name=display_name,
            language_code="zh",
        )
        service = self.service(at=at)
        outcome = await service.start(user=user, update_id=None, token=token)
        _no_rejection(outcome.events, "start")
        for action in actions:
            outcome = await service.act(user=user, update_id=None, action=action)
            _no_rejection(outcome.events, action)
        return user

    async def set_current(
        self,
        unit_name: str,
        answers: dict[str, Any],
        others: dict[str, str] | None = None,
        *,
        status: ResponseStatus = ResponseStatus.IN_PROGRESS,
    ) -> None:
        """Store ``answers`` as the unit's current Answer rows (bypassing the engine)."""
        others = others or {}
        async with self.database.transaction() as session:
            unit = await get_unit(session=session, campaign=self.campaign_id, name=unit_name)
            response = unit.response
            response.status = status
            response.started_at = self.now
            response.last_activity_at = self.now
            for question_id in sorted(set(answers) | set(others)):
                session.add(
                    Answer(
                        response_id=response.id,
                        question_id=question_id,
                        value=answers.get(question_id),
                        other_text=others.get(question_id),
                        updated_at=self.now,
                    )
                )

    async def set_submitted(
        self, unit_name: str, answers: dict[str, Any], others: dict[str, str] | None = None
    ) -> None:
        """Store a submission of ``answers`` for the unit (bypassing the engine)."""
        async with self.database.transaction() as session:
            unit = await get_unit(session=session, campaign=self.campaign_id, name=unit_name)
            response = unit.response
            response.status = ResponseStatus.SUBMITTED
            response.started_at = self.now
            response.last_activity_at = self.now
            response.submitted_at = self.now
            response.revision += 1
            response.submitted_values = {"answers": answers, "others": others or {}}

    async def add_respondent(
        self, unit_name: str, display_name: str | None, *, unreachable: bool = False
    ) -> None:
        async with self.database.transaction() as session:
            unit = await get_unit(session=session, campaign=self.campaign_id, name=unit_name)
            self._next_account += 1
            respondent = Respondent(
                channel="telegram",
                external_id=str(self._next_account),
                display_name=display_name,
                unreachable=unreachable,
                created_at=self.now,
            )
            session.add(respondent)
            await session.flush()
            session.add(RespondentUnit(respondent_id=respondent.id, unit_id=unit.id, created_at=self.now))

    async def response_of(self, unit_name: str) -> Response:
        async with self.database.read() as session:
            unit: Unit = await get_unit(session=session, campaign=self.campaign_id, name=unit_name)
            return unit.response

    async def export(
        self,
        name: str = "export.xlsx",
        *,
        bundle: BundleMode = BundleMode.AUTO,
        page_size: int | None = None,
    ) -> ExportResult:
        options: dict[str, Any] = {}
        if page_size is not None:
            options["page_size"] = page_size
        return await export_campaign(
            database=self.database,
            campaign_id=self.campaign_id,
            workbook_path=self.out_dir / name,
            data_dir=self.data_dir,
            bundle=bundle,
            now=self.now + timedelta(hours=1),
            **options,
        )


def _no_rejection(events: Sequence[object], action: object) -> None:
    rejected = [event for event in events if isinstance(event, Rejected)]
    assert not rejected, f"{action!r} was rejected: {rejected[0].reason}"


# -- answering and reading back ------------------------------------------------------------

LONG_TEXT = "一、成立了领导小组，明确了分管领导。" * 12 + "\n二、经费纳入财政预算。"


def summary_rows(book: Workbook) -> dict[str, dict[str, Any]]:
    """Unit name → {column key → cell} of the summary sheet."""
    sheet = book["汇总"]
    rows: dict[str, dict[str, Any]] = {}
    for row in sheet.iter_rows(min_row=3):
        if row[0].value is None:
            continue
        rows[row[0].value] = {key: cell for key, cell in zip(SUMMARY_KEYS, row, strict=False)}
    return rows


async def answer_fully(world: ExportWorld, unit: str, upload: Path, *, file_name: str = "盖章扫描件.pdf") -> None:
    """A complete response through the service: every type, both "other" names, a file."""
    await world.respond(
        unit,
        [
            AnswerText("崇川区科学技术协会"),
            AnswerText("１２ 个"),
            AnswerText("3.5"),
            AnswerText("2023年4月26日"),
            ChooseOption("yes"),
            ToggleOption("party"),
            ToggleOption("other"),
            Finish(),
            AnswerText("人大常委会"),
            ChooseOption("other"),
            AnswerText("全民科学素质工作联席会议"),
            AnswerText("0513-59003013"),
            AnswerText("kx@example.com"),
            AnswerText(LONG_TEXT),
            Finish(),
            AnswerText("基层力量薄弱。"),
            Finish(),
            Upload(name=file_name, size=upload.stat().st_size, mime="application/pdf", ref=str(upload)),
            Submit(),
        ],
        display_name="李四",
    )


async def answer_minimal(world: ExportWorld, unit: str, *, has_plan: str = "no", members: str = "8") -> None:
    """A submission through the service with the optional questions skipped."""
    actions = [
        AnswerText(f"{unit}科协"),
        AnswerText(members),
        Skip(),
        AnswerText("2023-04-20"),
        ChooseOption(has_plan),
    ]
    if has_plan == "yes":
        actions += [ToggleOption("gov"), Finish()]
    actions += [
        ChooseOption("group"),
        Skip(),
        Skip(),
        AnswerText("总结。"),
        Finish(),
        Skip(),
        Skip(),
        Submit(),
    ]
    await world.respond(unit, actions, display_name="王五")


async def answer_with_file(world: ExportWorld, unit: str, file_name: str, upload: Path) -> None:
    await world.respond(
        unit,
        [
            AnswerText("填报单位"),
            AnswerText("3"),
            Skip(),
            AnswerText("2023-04-20"),
            ChooseOption("no"),
            ChooseOption("office"),
            Skip(),
            Skip(),
            AnswerText("总结。"),
            Finish(),
            Skip(),
            Upload(name=file_name, size=upload.stat().st_size, mime=None, ref=str(upload)),
            Submit(),
        ],
    )
