"""Remind now and send a notice from the console: pick units, preview who gets what, confirm once, watch it go.

The real root and console, the outreach service as ``surveybot run`` builds it,
and the real ReminderWorker whose senders deliver to the fake Bot API and to a
local SMTP server. What is asserted is what the coordinator sees on the pages
and what the respondents receive.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from storage.campaigns import get_campaign
from storage.models import DeliveryStatus
from storage.rosters import add_units
from tests.console.outreach_world import FORM_ID_FIELD, PUBLIC_URL, OutreachWorld, outreach_world
from tests.storage.conftest import Backend, backend  # noqa: F401  (fixture)

BATCH_PAGE = re.compile(r"/admin/outreach/(\d+)")


@pytest.fixture
async def world(backend: Backend, tmp_path: Path) -> AsyncIterator[OutreachWorld]:  # noqa: F811
    async with outreach_world(backend, tmp_path) as (world, _):
        yield world


def body_of(message: EmailMessage) -> str:
    content = message.get_content()
    assert isinstance(content, str)
    return content


async def page_text(response: Any) -> str:
    return html.unescape(await response.text())


async def preview(world: OutreachWorld, csrf: str, units: list[str], *, action: str = "remind", body: str | None = None) -> str:
    """Fill the form (the picked units, the text) and send it; the preview page's path."""
    form = await world.client.get(f"/admin/campaigns/{world.campaign_id}/{action}")
    assert form.status == 200
    match = FORM_ID_FIELD.search(await form.text())
    assert match is not None
    ids = await world.unit_ids()
    fields: list[tuple[str, str]] = [("csrf", csrf), ("form_id", match.group(1))]
    fields += [("unit", str(ids[name])) for name in units]
    if body is not None:
        fields.append(("body", body))
    response = await world.client.post(f"/admin/campaigns/{world.campaign_id}/{action}", data=fields, allow_redirects=False)
    assert response.status == 303, await response.text()
    location = response.headers["Location"]
    assert BATCH_PAGE.fullmatch(location), location
    return location


async def confirm(world: OutreachWorld, csrf: str, page: str) -> Any:
    return await world.client.post(f"{page}/confirm", data={"csrf": csrf}, allow_redirects=False)


async def finished(world: OutreachWorld, page: str) -> dict[str, Any]:
    """The progress JSON once the send is done."""
    progress: dict[str, Any] = {}

    async def poll() -> bool:
        nonlocal progress
        response = await world.client.get(f"{page}/progress.json")
        assert response.status == 200 and response.content_type == "application/json"
        progress = await response.json()
        return bool(progress["done"])

    for _ in range(200):
        if await poll():
            return progress
        await asyncio.sleep(0.05)
    raise AssertionError(f"the send did not finish: {progress}")


async def test_remind_form__ticks_the_units_not_submitted_and_shows_how_each_can_be_reached(world: OutreachWorld) -> None:
    await world.add_email("通州区", "lilei@tongzhou.example.cn")
    await world.add_telegram("崇川区", 9201, "王芳")
    await world.submit("海门区")
    await world.sign_in()

    form = await page_text(await world.client.get(f"/admin/campaigns/{world.campaign_id}/remind"))

    ids = await world.unit_ids()
    assert re.search(rf'value="{ids["崇川区"]}" checked> 崇川区', form)
    assert re.search(rf'value="{ids["通州区"]}" checked> 通州区', form)
    assert re.search(rf'value="{ids["海门区"]}"> 海门区', form)  # submitted: not ticked
    row = form[form.index("> 崇川区") :]
    assert "Telegram" in row[: row.index("</tr>")]
    row = form[form.index("> 通州区") :]
    assert "电子邮件" in row[: row.index("</tr>")]
    campaign_page = await page_text(await world.client.get(f"/admin/campaigns/{world.campaign_id}"))
    assert f'href="/admin/campaigns/{world.campaign_id}/remind">立即提醒</a>' in campaign_page
    assert f'href="/admin/campaigns/{world.campaign_id}/broadcast">发送通知</a>' in campaign_page


async def test_preview__lists_per_unit_the_channel_and_the_message_and_the_units_to_phone_and_sends_nothing(
    world: OutreachWorld,
) -> None:
    await world.add_telegram("崇川区", 9201, "王芳")
    await world.add_telegram("通州区", 9202, "Li Lei", language="en")
    await world.add_email("通州区", "lilei@tongzhou.example.cn")
    csrf = await world.sign_in()

    page = await preview(world, csrf, ["崇川区", "通州区", "海门区"])
    text = await page_text(await world.client.get(page))

    assert "将发送给 2 个单位的 3 个联系人。" in text
    recipients = text[text.index("谁将收到什么") : text.index("无法发送的单位")]
    chongchuan = recipients[recipients.index("崇川区") : recipients.index("通州区")]
    assert "Telegram" in chongchuan and "中文" in chongchuan
    assert "⏰ 填报提醒" in chongchuan and "崇川区：已答 0/" in chongchuan
    tongzhou = recipients[recipients.index("通州区") :]
    assert "English" in tongzhou and "⏰ Reminder:" in tongzhou and "通州区: 0/" in tongzhou  # in the respondent's language
    # The unit's e-mail goes in the language of the unit's people (Li Lei reads English).
    email = tongzhou[tongzhou.index("电子邮件") :]
    assert "Reminder: " in email and "填报提醒：" not in email
    assert f"{PUBLIC_URL}/s/…" in tongzhou  # the personal link is made when sending, not for a preview
    no_contact = text[text.index("无法发送的单位（1 个）") :]
    assert "<li>海门区</li>" in no_contact
    assert "确认发送（3 人）" in text
    # A preview sends nothing and issues no link.
    assert await world.outbox() == [] and world.smtp.mailbox.messages == []


async def test_confirm_twice__each_recipient_gets_one_message(world: OutreachWorld) -> None:
    telegram_user = await world.add_telegram("崇川区", 9201, "王芳")
    await world.add_email("通州区", "lilei@tongzhou.example.cn")
    csrf = await world.sign_in()
    page = await preview(world, csrf, ["崇川区", "通州区"])

    first, second = await confirm(world, csrf, page), await confirm(world, csrf, page)
    progress = await finished(world, page)

    assert (first.status, first.headers["Location"]) == (303, page)
    assert (second.status, second.headers["Location"]) == (303, f"{page}?notice=already_handled")
    assert progress | {"state_text": ""} == {
        "state": "done",
        "total": 2,
        "queued": 0,
        "sent": 2,
        "failed": 0,
        "unreachable": 0,
        "skipped": 0,
        "done": True,
        "state_text": "",
        "problems": [],
        "problems_heading": "发送失败或无法送达（0）",
        "no_contact": [],
        "no_contact_heading": "没有发送的单位（0）",
    }
    assert progress["state_text"] == "已完成"
    [mail] = world.smtp.mailbox.messages
    assert mail["To"] == "lilei@tongzhou.example.cn" and "通州区：已答 0/" in body_of(mail)
    assert sum("⏰ 填报提醒" in (message.text or "") for message in telegram_user.messages) == 1
    # The form sent again (its id names the draft) and the confirmation again send nothing more.
    again = await confirm(world, csrf, page)
    assert again.headers["Location"] == f"{page}?notice=already_handled"
    shown = await page_text(await world.client.get(again.headers["Location"]))
    assert "这次发送已经确认过，不会重复发送。" in shown
    assert len(await world.outbox()) == 2 and len(world.smtp.mailbox.messages) == 1


async def test_the_same_form_sent_twice__makes_one_draft(world: OutreachWorld) -> None:
    await world.add_email("通州区", "lilei@tongzhou.example.cn")
    csrf = await world.sign_in()
    form = await world.client.get(f"/admin/campaigns/{world.campaign_id}/remind")
    match = FORM_ID_FIELD.search(await form.text())
    assert match is not None
    fields = {"csrf": csrf, "form_id": match.group(1), "unit": str((await world.unit_ids())["通州区"])}

    first = await world.client.post(f"/admin/campaigns/{world.campaign_id}/remind", data=fields, allow_redirects=False)
    second = await world.client.post(f"/admin/campaigns/{world.campaign_id}/remind", data=fields, allow_redirects=False)
    await confirm(world, csrf, first.headers["Location"])
    third = await world.client.post(f"/admin/campaigns/{world.campaign_id}/remind", data=fields, allow_redirects=False)

    assert first.headers["Location"] == second.headers["Location"]
    assert third.headers["Location"] == f"{first.headers['Location']}?notice=already_handled"
    assert await world.batches() == 1


async def test_selected_units_only__the_others_get_nothing_and_a_contact_of_two_units_reads_of_the_picked_one(
    world: OutreachWorld,
) -> None:
    telegram_user = await world.add_telegram("崇川区", 9201, "王芳")
    await world.add_email("通州区", "office@nantong.example.cn")
    await world.add_email("海门区", "office@nantong.example.cn")  # one contact for two units
    csrf = await world.sign_in()

    page = await preview(world, csrf, ["海门区"])
    shown = await page_text(await world.client.get(page))
    await confirm(world, csrf, page)
    progress = await finished(world, page)

    recipients = shown[shown.index("谁将收到什么") :]
    assert "海门区" in recipients and "崇川区" not in recipients and "通州区" not in recipients
    assert progress["sent"] == 1 and progress["total"] == 1
    [mail] = world.smtp.mailbox.messages
    body = body_of(mail)
    assert "海门区：已答 0/" in body and "通州区" not in body
    assert telegram_user.messages == []


async def test_broadcast__previews_the_text_and_delivers_it_to_the_picked_units(world: OutreachWorld) -> None:
    telegram_user = await world.add_telegram("崇川区", 9201, "王芳")
    await world.add_email("通州区", "lilei@tongzhou.example.cn")
    await world.submit("通州区")  # a notice goes to submitted units too
    csrf = await world.sign_in()
    form = await page_text(await world.client.get(f"/admin/campaigns/{world.campaign_id}/broadcast"))
    assert '<label for="body">通知内容</label>' in form and form.count(" checked>") == 3

    page = await preview(world, csrf, ["崇川区", "通州区"], action="broadcast", body="请于周五前寄出盖章纸质表。")
    shown = await page_text(await world.client.get(page))
    await confirm(world, csrf, page)
    progress = await finished(world, page)

    assert "确认通知" in shown and shown.count("请于周五前寄出盖章纸质表。") >= 3  # the text, and each recipient's message
    assert progress["sent"] == 2
    [mail] = world.smtp.mailbox.messages
    assert mail["Subject"] == "通知：南通中期评估" and body_of(mail).startswith("请于周五前寄出盖章纸质表。")
    assert sum("请于周五前寄出盖章纸质表。" in (message.text or "") for message in telegram_user.messages) == 1


async def test_broadcast_without_text_or_units__the_form_again_with_the_reason_and_nothing_stored(world: OutreachWorld) -> None:
    await world.add_email("通州区", "lilei@tongzhou.example.cn")
    csrf = await world.sign_in()
    ids = await world.unit_ids()
    url = f"/admin/campaigns/{world.campaign_id}/broadcast"

    no_text = await world.client.post(url, data={"csrf": csrf, "unit": str(ids["通州区"]), "body": "  "})
    no_units = await world.client.post(
        url, data=[("csrf", csrf), ("body", "请于周五前寄出。"), ("unit", "²"), ("unit", "9" * 40)]
    )
    too_long = await world.client.post(url, data={"csrf": csrf, "unit": str(ids["通州区"]), "body": "长" * 3001})

    assert no_text.status == 400 and "请填写通知内容。" in await no_text.text()
    assert no_units.status == 400 and "请至少勾选一个单位。" in await no_units.text()
    assert "请于周五前寄出。" in await no_units.text()  # the text typed is kept
    assert too_long.status == 400 and "通知内容太长，最多 3000 字。" in await too_long.text()
    assert await world.batches() == 0


async def test_closed_campaign__a_reminder_is_refused_with_the_reason_and_nothing_queued(world: OutreachWorld) -> None:
    await world.add_email("通州区", "lilei@tongzhou.example.cn")
    csrf = await world.sign_in()
    page = await preview(world, csrf, ["通州区"])  # a draft made before closing
    await world.close()

    form = await page_text(await world.client.get(f"/admin/campaigns/{world.campaign_id}/remind"))
    ids = await world.unit_ids()
    refused = await world.client.post(
        f"/admin/campaigns/{world.campaign_id}/remind", data={"csrf": csrf, "unit": str(ids["通州区"])}
    )
    confirmed = await confirm(world, csrf, page)

    assert "is closed" not in form and "已关闭，不再发送填报提醒" in form and "disabled>" in form
    assert refused.status == 409 and "已关闭，不再发送填报提醒" in await page_text(refused)
    assert confirmed.status == 409 and "已关闭，不再发送填报提醒" in await page_text(confirmed)
    assert await world.outbox() == [] and world.smtp.mailbox.messages == []


async def test_past_the_deadline__a_reminder_is_refused_and_a_notice_is_not(world: OutreachWorld) -> None:
    await world.add_email("通州区", "lilei@tongzhou.example.cn")
    world.clock.now = datetime(2026, 12, 15, 9, 1, tzinfo=UTC)
    csrf = await world.sign_in()
    unit = str((await world.unit_ids())["通州区"])

    refused = await world.client.post(f"/admin/campaigns/{world.campaign_id}/remind", data={"csrf": csrf, "unit": unit})
    notice = await world.client.post(
        f"/admin/campaigns/{world.campaign_id}/broadcast",
        data={"csrf": csrf, "unit": unit, "body": "纸质表请于下周一前寄出。"},
        allow_redirects=False,
    )

    assert refused.status == 409 and "已截止，不再发送填报提醒" in await page_text(refused)
    assert notice.status == 303  # as in Telegram: a notice after the deadline is allowed
    assert await world.batches() == 1


async def test_progress__counts_an_address_the_server_refuses_as_unreachable(world: OutreachWorld) -> None:
    await world.add_email("通州区", "lilei@tongzhou.example.cn")
    await world.add_email("海门区", "gone@haimen.example.cn")
    world.smtp.mailbox.script("gone@haimen.example.cn", "550 5.1.1 no such user")
    csrf = await world.sign_in()
    page = await preview(world, csrf, ["通州区", "海门区"])

    await confirm(world, csrf, page)
    progress = await finished(world, page)
    shown = await page_text(await world.client.get(page))

    assert (progress["sent"], progress["unreachable"], progress["queued"], progress["total"]) == (1, 1, 0, 2)
    assert await world.outbox() == [
        ("email", "lilei@tongzhou.example.cn", DeliveryStatus.SENT),
        ("email", "gone@haimen.example.cn", DeliveryStatus.UNREACHABLE),
    ]
    assert re.search(r'<dt>无法送达</dt><dd data-field="unreachable">1</dd>', shown)
    assert '<a href="' + page + '" class="refresh">刷新</a>' in shown  # without JavaScript
    assert re.search(r'<script src="/admin/assets/outreach-progress\.[0-9a-f]{10}\.js" defer></script>', shown)


async def test_progress__names_the_unit_whose_address_is_refused_with_the_reason_and_not_the_delivered_ones(
    world: OutreachWorld,
) -> None:
    async with world.database.transaction() as session:
        campaign = await get_campaign(session=session, campaign_id=world.campaign_id)
        await add_units(session=session, campaign=campaign, names=["港闸区<b>老城</b>"])  # unit names are user text
    telegram_user = await world.add_telegram("崇川区", 9201, "王芳")
    await world.add_email("通州区", "lilei@tongzhou.example.cn")
    await world.add_email("港闸区<b>老城</b>", "gone@gangzha.example.cn")
    world.smtp.mailbox.script("gone@gangzha.example.cn", "550 5.1.1 no such user")
    csrf = await world.sign_in()
    page = await preview(world, csrf, ["崇川区", "通州区", "港闸区<b>老城</b>"])

    await confirm(world, csrf, page)
    progress = await finished(world, page)
    raw = await (await world.client.get(page)).text()
    shown = html.unescape(raw)

    assert (progress["sent"], progress["unreachable"]) == (2, 1)
    assert progress["problems"] == [
        {
            "units": "港闸区<b>老城</b>",
            "name": "gone@gangzha.example.cn",
            "channel": "电子邮件",
            "reason": "邮件服务器拒收此地址（地址不存在或已停用）",
            "detail": "详情：SMTP 550 5.1.1 no such user",
        }
    ]
    assert progress["problems_heading"] == "发送失败或无法送达（1）" and progress["no_contact"] == []
    # The page lists it under the counts, escaped; the delivered ones are not listed.
    assert "港闸区&lt;b&gt;老城&lt;/b&gt;" in raw and "<b>老城</b>" not in raw
    heading = shown.index("发送失败或无法送达（1）")
    assert heading > shown.index('data-field="skipped"')
    listed = shown[shown.index('<ul class="problems"', heading) : shown.index("</ul>", heading)]
    [row] = re.findall(r"<li>(.*?)</li>", listed, re.S)
    assert "港闸区<b>老城</b>" in row and "gone@gangzha.example.cn" in row and "电子邮件" in row
    assert "邮件服务器拒收此地址（地址不存在或已停用）" in row and "SMTP 550 5.1.1 no such user" in row
    assert "崇川区" not in listed and "通州区" not in listed and "lilei@" not in listed
    assert sum("⏰ 填报提醒" in (message.text or "") for message in telegram_user.messages) == 1


async def test_progress__lists_the_picked_units_with_nobody_to_message_to_phone_them(world: OutreachWorld) -> None:
    await world.add_email("通州区", "lilei@tongzhou.example.cn")
    csrf = await world.sign_in()
    page = await preview(world, csrf, ["通州区", "海门区"])

    await confirm(world, csrf, page)
    progress = await finished(world, page)
    shown = await page_text(await world.client.get(page))

    assert progress["no_contact"] == ["海门区"] and progress["no_contact_heading"] == "没有发送的单位（1）"
    assert progress["problems"] == []
    no_contact = shown[shown.index("没有发送的单位（1）") :]
    assert "<li>海门区</li>" in no_contact and "通州区" not in no_contact[: no_contact.index("</ul>")]
    assert re.search(r'data-list-section="problems" hidden>', shown)  # nothing failed: that list stays hidden
    english = await (await world.client.get(f"{page}/progress.json?lang=en")).json()
    assert english["no_contact_heading"] == "Units not messaged (1)"


async def test_cancel__drops_the_draft_and_a_later_confirmation_sends_nothing(world: OutreachWorld) -> None:
    await world.add_email("通州区", "lilei@tongzhou.example.cn")
    csrf = await world.sign_in()
    page = await preview(world, csrf, ["通州区"])

    cancelled = await world.client.post(f"{page}/cancel", data={"csrf": csrf}, allow_redirects=False)
    confirmed = await confirm(world, csrf, page)

    assert cancelled.headers["Location"] == f"{page}?notice=cancelled"
    assert confirmed.headers["Location"] == f"{page}?notice=already_handled"
    assert "已取消" in await page_text(await world.client.get(page))
    assert await world.outbox() == []


async def test_english__the_pages_in_english(world: OutreachWorld) -> None:
    await world.add_email("通州区", "lilei@tongzhou.example.cn")
    csrf = await world.sign_in()
    form = await page_text(await world.client.get(f"/admin/campaigns/{world.campaign_id}/remind?lang=en"))
    page = await preview(world, csrf, ["通州区", "海门区"])
    shown = await page_text(await world.client.get(page))

    assert "<h1>Remind the units that have not submitted</h1>" in form and "Reachable through" in form
    assert "It will go to 1 contact(s) of 1 unit(s)." in shown and "Units nobody can be messaged for (1)" in shown
    assert "填报提醒：" in shown  # the respondent's message stays in the respondent's language


async def test_without_a_session__every_page_and_action_goes_to_the_sign_in(world: OutreachWorld) -> None:
    await world.add_email("通州区", "lilei@tongzhou.example.cn")
    csrf = await world.sign_in()
    page = await preview(world, csrf, ["通州区"])
    world.client.session.cookie_jar.clear()

    for method, path in (
        ("GET", f"/admin/campaigns/{world.campaign_id}/remind"),
        ("GET", f"/admin/campaigns/{world.campaign_id}/broadcast"),
        ("POST", f"/admin/campaigns/{world.campaign_id}/remind"),
        ("POST", f"/admin/campaigns/{world.campaign_id}/broadcast"),
        ("GET", page),
        ("POST", f"{page}/confirm"),
        ("POST", f"{page}/cancel"),
        ("GET", f"{page}/progress.json"),
        ("GET", "/admin/outreach/999999"),
    ):
        response = await world.client.request(method, path, data={"csrf": csrf}, allow_redirects=False)
        assert (response.status, response.headers.get("Location")) == (303, "/admin/sign-in"), (method, path)
        assert "通州区" not in await response.text()
    assert await world.outbox() == []


async def test_without_the_csrf_token__403_and_nothing_stored_or_sent(world: OutreachWorld) -> None:
    await world.add_email("通州区", "lilei@tongzhou.example.cn")
    csrf = await world.sign_in()
    page = await preview(world, csrf, ["通州区"])
    unit = str((await world.unit_ids())["通州区"])

    for path, data in (
        (f"/admin/campaigns/{world.campaign_id}/remind", {"unit": unit}),
        (f"/admin/campaigns/{world.campaign_id}/broadcast", {"unit": unit, "body": "x", "csrf": "forged"}),
        (f"{page}/confirm", {}),
        (f"{page}/confirm", {"csrf": "forged"}),
        (f"{page}/cancel", {}),
    ):
        response = await world.client.post(path, data=data, allow_redirects=False)
        assert response.status == 403, path
    cross_site = await world.client.post(f"{page}/confirm", data={"csrf": csrf}, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross_site.status == 403

    assert await world.batches() == 1  # the draft made above, still a draft
    assert "确认发送（1 人）" in await page_text(await world.client.get(page))
    assert await world.outbox() == [] and world.smtp.mailbox.messages == []


async def test_pages__no_inline_script_or_style_and_the_script_is_served_from_here(world: OutreachWorld) -> None:
    await world.add_email("通州区", "lilei@tongzhou.example.cn")
    csrf = await world.sign_in()
    page = await preview(world, csrf, ["通州区"])
    await confirm(world, csrf, page)
    await finished(world, page)

    for path in (f"/admin/campaigns/{world.campaign_id}/remind", f"/admin/campaigns/{world.campaign_id}/broadcast", page):
        response = await world.client.get(path)
        text = await response.text()
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        assert "style=" not in text and "<style" not in text
        assert all(" src=" in tag for tag in re.findall(r"<script[^>]*>", text))
    [script_url] = re.findall(r'<script src="([^"]+)"', await (await world.client.get(page)).text())
    script = await world.client.get(script_url)
    assert script.status == 200 and script.content_type == "text/javascript"
    assert "data-progress-url" in await script.text()
