"""What the coordinator reads about a batch: the status message ("已发送 120/300") and the summary.

Channel-neutral and pure: strings from the catalogs, built from the counts and
problems of :mod:`storage.outbox`. The outbox sender sends them through the
transport of the batch's ``requested_channel``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.core.catalog import translate
from bot.core.wording import pack_messages
from storage.models import DeliveryStatus, OutboxKind
from storage.outbox import DeliveryProblem


def kind_name(language: str, kind: OutboxKind) -> str:
    return translate(language, f"remind.kind_{kind.value}")


def progress_text(
    *,
    language: str,
    campaign_id: int,
    campaign_title: str,
    kind: OutboxKind,
    counts: Mapping[DeliveryStatus, int],
    total: int,
    final: bool = False,
) -> str:
    """The coordinator's status message: "已发送 120/300" (and what went wrong so far)."""
    params = {
        "id": campaign_id,
        "title": campaign_title,
        "kind": kind_name(language, kind),
        "sent": counts.get(DeliveryStatus.SENT, 0),
        "total": total,
    }
    text = translate(language, "remind.progress_done" if final else "remind.progress", **params)
    failed = counts.get(DeliveryStatus.FAILED, 0)
    unreachable = counts.get(DeliveryStatus.UNREACHABLE, 0)
    skipped = counts.get(DeliveryStatus.SKIPPED, 0)
    if failed or unreachable or skipped:
        text += translate(
            language, "remind.progress_details", failed=failed, unreachable=unreachable, skipped=skipped
        )
    return text


def summary_messages(
    *,
    language: str,
    campaign_id: int,
    campaign_title: str,
    kind: OutboxKind,
    counts: Mapping[DeliveryStatus, int],
    problems: Sequence[DeliveryProblem],
    limit: int,
) -> list[str]:
    """The summary after a batch: the counts, then who failed and who cannot be reached, by name.

    Packed into as few messages as fit ``limit`` characters each (the channel's longest message).
    """
    blocks = [
        translate(
            language,
            "remind.summary",
            id=campaign_id,
            title=campaign_title,
            kind=kind_name(language, kind),
            sent=counts.get(DeliveryStatus.SENT, 0),
            failed=counts.get(DeliveryStatus.FAILED, 0),
            unreachable=counts.get(DeliveryStatus.UNREACHABLE, 0),
            skipped=counts.get(DeliveryStatus.SKIPPED, 0),
        )
    ]
    for status, heading in (
        (DeliveryStatus.FAILED, "remind.summary_failed"),
        (DeliveryStatus.UNREACHABLE, "remind.summary_unreachable"),
    ):
        listed = [problem for problem in problems if problem.status is status]
        if not listed:
            continue
        lines = [
            translate(
                language,
                "remind.problem_line_reason" if status is DeliveryStatus.FAILED else "remind.problem_line",
                units="、".join(problem.units) or "—",
                name=problem.name,
                reason=problem.reason,
            )
            for problem in listed
        ]
        blocks.append(translate(language, heading, count=len(listed)) + "\n" + "\n".join(lines))
    return pack_messages(blocks, limit=limit)
