"""The links a console session issued, kept in memory: per session and campaign, forgotten after their lifetime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.invitations import IssuedLink
from handlers.console.link_sheets import LinkSheets

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def issued(invitation_id: int, unit_id: int = 1) -> IssuedLink:
    return IssuedLink(unit_id=unit_id, unit_name=f"unit {unit_id}", invitation_id=invitation_id, token=f"token-{invitation_id}")


def test_links__are_shown_only_to_the_session_and_campaign_that_issued_them() -> None:
    sheets = LinkSheets()
    sheets.keep(session=1, campaign_id=7, links=[issued(10), issued(11, unit_id=2)], now=NOW)
    assert {key: shown.link.token for key, shown in sheets.shown(session=1, campaign_id=7, now=NOW).items()} == {
        10: "token-10",
        11: "token-11",
    }
    assert sheets.shown(session=2, campaign_id=7, now=NOW) == {}
    assert sheets.shown(session=1, campaign_id=8, now=NOW) == {}


def test_links__are_forgotten_after_their_lifetime() -> None:
    sheets = LinkSheets(lifetime=timedelta(hours=12))
    sheets.keep(session=1, campaign_id=7, links=[issued(10)], now=NOW)
    sheets.keep(session=1, campaign_id=7, links=[issued(11)], now=NOW + timedelta(hours=6))
    later = NOW + timedelta(hours=12, minutes=1)
    assert list(sheets.shown(session=1, campaign_id=7, now=later)) == [11]
    sheets.keep(session=2, campaign_id=7, links=[issued(12)], now=NOW + timedelta(days=1))
    assert sheets.shown(session=1, campaign_id=7, now=NOW + timedelta(days=1)) == {}


def test_the_least_recently_used_sessions__are_forgotten_first() -> None:
    sheets = LinkSheets(max_sessions=2)
    for session in (1, 2):
        sheets.keep(session=session, campaign_id=7, links=[issued(session)], now=NOW)
    sheets.keep(session=1, campaign_id=7, links=[issued(10)], now=NOW)  # session 1 used again
    sheets.keep(session=3, campaign_id=7, links=[issued(3)], now=NOW)
    assert sheets.shown(session=2, campaign_id=7, now=NOW) == {}
    assert list(sheets.shown(session=1, campaign_id=7, now=NOW)) == [1, 10]
