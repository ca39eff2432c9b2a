"""The chat page as server-rendered HTML, so that the survey can be finished with JavaScript off.

The page shows the same state the JSON API returns (:func:`handlers.web.presenting.state_json`):
every control is a small form posting its action to ``/s/{token}/form`` with a
fresh idempotency key, the position it was made for and a CSRF token; typed
answers and files are forms too. With JavaScript on, ``chat.js`` replaces all
of it with the live chat. Every text is escaped; there is no inline script or style.
"""

from __future__ import annotations

import hmac
import html
import json
import uuid
from hashlib import sha256
from typing import Any

from bot.core.catalog import translate


def csrf_token(secret: bytes, token: str) -> str:
    """The CSRF field of a link's forms: a MAC of the link's token under the server's secret."""
    return hmac.new(secret, token.encode("utf-8"), sha256).hexdigest()[:32]


def csrf_valid(secret: bytes, token: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(csrf_token(secret, token), given)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{_e(name)}" value="{_e(value)}">'


def _form_fields(state: dict[str, Any], csrf: str) -> str:
    """The fields every form carries: its CSRF token, a fresh key (a resent form is applied once), the position."""
    return (
        _hidden("csrf", csrf)
        + _hidden("key", uuid.uuid4().hex)
        + _hidden("position", state.get("position") or "")
        + _hidden("language", state["language"])
    )


def action_form(state: dict[str, Any], csrf: str, *, target: str, action: dict[str, Any], label: str, kind: str, selected: bool = False) -> str:
    mark = "\u2705 " if selected else ""
    css = ' class="selected"' if selected else ""
    return (
        f'<form method="post" action="{_e(target)}">{_form_fields(state, csrf)}'
        f'{_hidden("action", json.dumps(action, ensure_ascii=False))}'
        f'<button type="submit" data-kind="{_e(kind)}"{css}>{_e(mark + label)}</button></form>'
    )


def messages_html(state: dict[str, Any], csrf: str, *, target: str) -> str:
    parts: list[str] = ['<section class="group">']
    if state.get("notice"):
        parts.append(f'<div class="bubble notice">{_e(state["notice"])}</div>')
    for message in state["messages"]:
        css = "bubble warning" if message["warning"] else "bubble"
        parts.append(f'<div class="{css}">{_e(message["text"])}')
        if message["rows"]:
            parts.append('<div class="controls">')
            for row in message["rows"]:
                parts.append('<div class="row">')
                for control in row:
                    parts.append(
                        action_form(
                            state, csrf, target=target, action=control["action"], label=control["label"], kind=control["kind"], selected=control["selected"]
                        )
                    )
                parts.append("</div>")
            parts.append("</div>")
        parts.append("</div>")
    if state["edits"]:
        parts.append('<div class="edits">')
        for edit in state["edits"]:
            parts.append(action_form(state, csrf, target=target, action=edit["action"], label=edit["label"], kind="edit"))
        parts.append("</div>")
    parts.append("</section>")
    return "".join(parts)


def input_html(state: dict[str, Any], csrf: str, *, target: str, upload_target: str) -> str:
    """The typed answer, long text or file field of the current question, as a plain form."""
    field = state["input"]
    ui = state["ui"]
    kind = field["kind"]
    if kind == "text":
        return (
            f'<form method="post" action="{_e(target)}" class="composer">{_form_fields(state, csrf)}'
            f'<label for="nojs-text">{_e(ui["answer_label"])}</label>'
            f'<div class="row"><input id="nojs-text" name="text" autocomplete="off" required>'
            f'<button type="submit">{_e(ui["send"])}</button></div></form>'
        )
    if kind == "long_text":
        counter = ui["counter"].replace("{length}", str(field.get("length", 0))).replace("{max}", str(field.get("max_length", "")))
        return (
            f'<form method="post" action="{_e(target)}" class="composer">{_form_fields(state, csrf)}'
            f'<label for="nojs-long">{_e(ui["long_text_label"])}</label>'
            f'<textarea id="nojs-long" name="text" rows="5" required></textarea>'
            f'<div class="row"><span class="counter">{_e(counter)}</span><button type="submit">{_e(ui["send"])}</button></div></form>'
        )
    if kind == "file":
        accept = ",".join(f".{extension}" for extension in field.get("accept") or [])
        return (
            f'<form method="post" action="{_e(upload_target)}" enctype="multipart/form-data" class="composer">{_form_fields(state, csrf)}'
            f'{_hidden("form", "1")}<label for="nojs-file">{_e(ui["upload_label"])}</label>'
            f'<div class="row"><input id="nojs-file" name="file" type="file" accept="{_e(accept)}" required>'
            f'<button type="submit">{_e(ui["upload"])}</button></div></form>'
        )
    return ""


def page_html(template: str, *, state: dict[str, Any], link_path: str, csrf: str, css_url: str, js_url: str) -> str:
    """The whole page: the template with the state rendered into it (the script takes over when it runs).

    Forms post to ``{link_path}/form`` and ``{link_path}/upload`` (the link's path, ``/s/<token>``).
    """
    language = state["language"]
    target, upload_target = f"{link_path}/form", f"{link_path}/upload"
    switch = action_form(
        state, csrf, target=target, action={"type": "language", "language": state["other_language"]}, label=state["ui"]["switch_language"], kind="language"
    )
    return (
        template.replace("{{lang}}", _e(language))
        .replace("{{title}}", _e(translate(language, "web.page_title")))
        .replace("{{css}}", _e(css_url))
        .replace("{{js}}", _e(js_url))
        .replace("{{language_form}}", switch)
        .replace(
            "{{review_form}}",
            action_form(state, csrf, target=target, action={"type": "review"}, label=state["ui"]["review"], kind="review"),
        )
        .replace("{{messages}}", messages_html(state, csrf, target=target))
        .replace("{{input}}", input_html(state, csrf, target=target, upload_target=upload_target))
    )
