"""What the progress pages show, worded from the catalogs: table rows, chart bars, a unit's page.

Plain values for the templates (``progress_table.html``, ``campaign.html``,
``unit.html``); nothing here reads the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from bot.campaign_progress import (
    CampaignSummaries,
    ProgressSort,
    ProgressTable,
    StatusFilter,
    UnitDetail,
    UnitProgressRow,
)
from bot.core import answers as parsing
from bot.core.catalog import bot_language, catalog, translate
from bot.core.definition import QuestionType
from bot.core.statistics import ChoiceTally
from bot.core.survey import Survey
from handlers.console.presenting import local_time

#: Height of one bar's row in a chart's SVG user units; the chart is 100 units wide for the bars.
CHART_ROW = 24
CHART_BAR = 16
#: The bars start right of the option labels and leave room for the count after them.
CHART_LABEL_WIDTH = 120
CHART_BARS_WIDTH = 150
CHART_WIDTH = CHART_LABEL_WIDTH + CHART_BARS_WIDTH + 40
#: Characters of an option's label shown in the chart (the table beside it has the whole label).
CHART_LABEL_CHARACTERS = 9


@dataclass(frozen=True, slots=True)
class TableQuery:
    """The table's filter and order, from ``?status=&sort=&dir=`` (anything unknown: the default)."""

    status: StatusFilter = StatusFilter.ALL
    sort: ProgressSort = ProgressSort.ROSTER
    descending: bool = False

    @classmethod
    def parse(cls, query: dict[str, str]) -> TableQuery:
        status = query.get("status", "")
        sort = query.get("sort", "")
        return cls(
            status=StatusFilter(status) if status in StatusFilter.__members__.values() else StatusFilter.ALL,
            sort=ProgressSort(sort) if sort in ProgressSort.__members__.values() else ProgressSort.ROSTER,
            descending=query.get("dir") == "desc",
        )

    def query_string(self, **changes: str) -> str:
        values = {"status": self.status.value, "sort": self.sort.value, "dir": "desc" if self.descending else "asc"}
        values.update(changes)
        return urlencode(values)


@dataclass(frozen=True, slots=True)
class ProgressRowView:
    unit_id: int
    name: str
    state: str
    status: str
    answered: str
    last_activity: str
    channels: str
    reminders: int
    unreachable: str
    overdue: bool


@dataclass(frozen=True, slots=True)
class SortHeader:
    key: str
    label: str
    href: str
    #: ``ascending``/``descending`` for the column the table is sorted by, else None (``aria-sort``).
    aria_sort: str | None


@dataclass(frozen=True, slots=True)
class FilterOption:
    value: str
    label: str
    selected: bool


@dataclass(frozen=True, slots=True)
class ChartBar:
    label: str
    short_label: str
    count: int
    y: int
    width: float
    text_x: float


@dataclass(frozen=True, slots=True)
class ChoiceSummary:
    question: str
    answered: int
    bars: tuple[ChartBar, ...]
    height: int
    #: The chart's accessible name: the question and every option's count.
    description: str


@dataclass(frozen=True, slots=True)
class NumberSummary:
    question: str
    answered: int
    total: str
    mean: str
    minimum: str
    maximum: str


@dataclass(frozen=True, slots=True)
class TextSummary:
    question: str
    texts: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class SummariesView:
    submitted: int
    choices: tuple[ChoiceSummary, ...]
    numbers: tuple[NumberSummary, ...]
    texts: tuple[TextSummary, ...]


def channel_names(language: str, channels: tuple[str, ...]) -> str:
    """``网页、Telegram``: each channel's name from the catalog (an unknown one as it is stored)."""
    known = catalog(bot_language(language))
    names = []
    for channel in channels:
        key = f"console_progress.channel_{channel}"
        names.append(translate(language, key) if key in known else channel)
    return translate(language, "console_progress.list_separator").join(names)


def progress_row(language: str, table: ProgressTable, unit: UnitProgressRow) -> ProgressRowView:
    campaign = table.campaign
    none = translate(language, "console.never")
    return ProgressRowView(
        unit_id=unit.unit_id,
        name=unit.name,
        state=unit.state.value,
        status=translate(language, f"console.status_{unit.state.value}"),
        answered=translate(language, "console.answered", answered=unit.answered, questions=campaign.questions),
        last_activity=local_time(unit.last_activity, campaign.timezone) or none,
        channels=channel_names(language, unit.channels) or none,
        reminders=unit.reminders_sent,
        unreachable=translate(language, "console_progress.list_separator").join(unit.unreachable),
        overdue=unit.overdue,
    )


#: The table's sortable columns, in order, with their catalog keys.
SORT_COLUMNS: tuple[tuple[ProgressSort, str], ...] = (
    (ProgressSort.UNIT, "console.col_unit"),
    (ProgressSort.STATUS, "console.col_status"),
    (ProgressSort.ANSWERED, "console.col_answered"),
    (ProgressSort.LAST_ACTIVITY, "console.col_last_activity"),
)


def sort_headers(language: str, query: TableQuery) -> dict[str, SortHeader]:
    """Each sortable column's header link: the same filter, this column, the other direction if sorted by it."""
    headers: dict[str, SortHeader] = {}
    for sort, key in (*SORT_COLUMNS, (ProgressSort.REMINDERS, "console_progress.col_reminders")):
        current = query.sort is sort
        direction = "asc" if not current or query.descending else "desc"
        headers[sort.value] = SortHeader(
            key=sort.value,
            label=translate(language, key),
            href="?" + query.query_string(sort=sort.value, dir=direction),
            aria_sort=("descending" if query.descending else "ascending") if current else None,
        )
    return headers


def filter_options(language: str, table: ProgressTable, query: TableQuery) -> list[FilterOption]:
    return [
        FilterOption(
            value=status.value,
            label=translate(language, f"console_progress.filter_{status.value}", count=table.count(status)),
            selected=status is query.status,
        )
        for status in StatusFilter
    ]


def _plain(number: Decimal | None) -> str:
    if number is None:
        return "—"
    if number == number.to_integral_value():
        return str(number.quantize(Decimal(1)))
    return format(number.normalize(), "f")


def _mean(number: Decimal | None) -> str:
    if number is None:
        return "—"
    return _plain(round(number, 2))


def option_label(survey: Survey, tally: ChoiceTally, value: str, language: str) -> str:
    """An option's label as the 统计 sheet words it (yes/no from the catalog)."""
    question = tally.question
    if question.type is QuestionType.YES_NO:
        return translate(language, "engine.yes_label" if value == parsing.YES else "engine.no_label")
    option = question.option(value)
    return survey.text(option.label, language) if option is not None else value


def _short(label: str) -> str:
    return label if len(label) <= CHART_LABEL_CHARACTERS else label[: CHART_LABEL_CHARACTERS - 1] + "…"


def choice_summary(language: str, survey: Survey, tally: ChoiceTally, wording: str) -> ChoiceSummary:
    question = survey.text(tally.question.definition.label, wording)
    most = max(tally.counts.values(), default=0)
    bars: list[ChartBar] = []
    for index, (value, count) in enumerate(tally.counts.items()):
        label = option_label(survey, tally, value, wording)
        width = round(CHART_BARS_WIDTH * count / most, 2) if most else 0.0
        bars.append(
            ChartBar(
                label=label,
                short_label=_short(label),
                count=count,
                y=index * CHART_ROW,
                width=width,
                text_x=CHART_LABEL_WIDTH + width + 4,
            )
        )
    separator = translate(language, "console_progress.list_separator")
    description = translate(
        language,
        "console_progress.chart_label",
        question=question,
        counts=separator.join(
            translate(language, "console_progress.chart_count", option=bar.label, count=bar.count) for bar in bars
        ),
    )
    return ChoiceSummary(
        question=question,
        answered=tally.answered,
        bars=tuple(bars),
        height=max(1, len(bars)) * CHART_ROW,
        description=description,
    )


def summaries_view(language: str, summaries: CampaignSummaries) -> SummariesView:
    """The 统计 sheet's numbers for a page, in the survey's wording for ``language`` when it has it."""
    survey = summaries.survey
    wording = survey.language_for(language)
    statistics = summaries.statistics
    return SummariesView(
        submitted=statistics.submitted,
        choices=tuple(choice_summary(language, survey, tally, wording) for tally in statistics.choices),
        numbers=tuple(
            NumberSummary(
                question=survey.text(stats.question.definition.label, wording),
                answered=stats.count,
                total=_plain(stats.total) if stats.count else "—",
                mean=_mean(stats.mean),
                minimum=_plain(stats.minimum),
                maximum=_plain(stats.maximum),
            )
            for stats in statistics.numbers
        ),
        texts=tuple(
            TextSummary(question=survey.text(collected.question.definition.label, wording), texts=tuple(collected.texts))
            for collected in summaries.texts
        ),
    )


def file_size(size: int) -> str:
    return parsing.format_size(size)


def unit_view_times(detail: UnitDetail) -> dict[str, str | None]:
    zone = detail.campaign.timezone
    return {
        "last_activity": local_time(detail.last_activity, zone),
        "submitted_at": local_time(detail.submitted_at, zone),
    }
