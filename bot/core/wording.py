"""Channel-neutral wording of engine events: the texts every channel shows alike.

Channels add their own controls (buttons in Telegram, numbered choices in the
terminal) around these texts. Everything here comes from the catalogs.
"""

from __future__ import annotations

from bot.core.catalog import translate
from bot.core.definition import QuestionType
from bot.core.events import DraftUpdated, Prompt, ReviewShown

PROGRESS_WIDTH = 10


def progress_bar(position: int, total: int, *, width: int = PROGRESS_WIDTH) -> str:
    """A bar such as ``▰▰▰▱▱▱▱▱▱▱`` for question ``position`` of ``total``."""
    filled = round(width * position / total) if total else width
    return "▰" * filled + "▱" * (width - filled)


def progress_line(language: str, position: int, total: int) -> str:
    return translate(language, "prompt.position", position=position, total=total) + " " + progress_bar(position, total)


def draft_line(language: str, length: int, max_length: int) -> str:
    return translate(language, "prompt.draft", length=length, max=max_length)


def prompt_text(prompt: Prompt, language: str) -> str:
    """The question as one message: section, position, label, hint and state."""
    lines = [f"【{prompt.section_title}】", progress_line(language, prompt.position, prompt.total), "", prompt.label]
    if prompt.hint:
        lines.append(translate(language, "prompt.hint", hint=prompt.hint))
    if not prompt.required:
        lines.append(translate(language, "prompt.optional"))
    if prompt.kind is QuestionType.SELECT_MULTIPLE:
        if prompt.max_selected:
            lines.append(translate(language, "prompt.select_up_to", max=prompt.max_selected))
        else:
            lines.append(translate(language, "prompt.select_many"))
    if prompt.kind is QuestionType.FILE:
        accept = "/".join(prompt.accept) or "pdf/jpg/png"
        lines.append(translate(language, "prompt.file", accept=accept, max_size=f"{prompt.max_size_mb or 20:g}"))
    if prompt.current_display is not None and not prompt.awaiting_other:
        current = prompt.current_display
        if len(current) > 300:
            current = current[:300] + "…"
        lines.append(translate(language, "prompt.current", answer=current))
    if prompt.previous_display is not None:
        # A long text is offered as a draft: show all of it, the channel's message limit cuts it.
        previous = prompt.previous_display
        if prompt.kind is not QuestionType.LONG_TEXT and len(previous) > 300:
            previous = previous[:300] + "…"
        lines.append(translate(language, "prompt.previous", answer=previous))
    if prompt.kind is QuestionType.LONG_TEXT:
        if prompt.draft_length:
            lines.append(draft_line(language, prompt.draft_length, prompt.max_length or 0))
        else:
            lines.append(translate(language, "prompt.long_text", max=prompt.max_length))
    if prompt.awaiting_other:
        lines.append("")
        lines.append(translate(language, "prompt.other", label=prompt.other_label))
    return "\n".join(lines)


def draft_text(event: DraftUpdated, language: str) -> str:
    return draft_line(language, event.length, event.max_length) + "\n" + translate(language, "prompt.draft_more")


def review_blocks(review: ReviewShown, language: str) -> list[str]:
    """The review as blocks (a header, one per section, a footer) to be packed into messages."""
    header_key = "review.header_submitted" if review.submitted else "review.header"
    blocks = [translate(language, header_key, revision=review.revision)]
    for section in review.sections:
        lines = [f"【{section.title}】"]
        for item in section.items:
            lines.append(translate(language, "review.item", number=item.number, label=item.label, answer=item.display))
        blocks.append("\n".join(lines))
    if review.missing:
        blocks.append(translate(language, "review.missing", numbers=", ".join(str(n) for n in review.missing)))
    elif review.submitted:
        blocks.append(translate(language, "review.footer_submitted"))
    else:
        blocks.append(translate(language, "review.footer"))
    return blocks


def pack_messages(blocks: list[str], *, limit: int) -> list[str]:
    """Join blocks into as few messages as possible, each at most ``limit`` characters.

    A block longer than the limit is cut at line breaks, and a single line
    longer than the limit is cut hard.
    """
    pieces: list[str] = []
    for block in blocks:
        if len(block) <= limit:
            pieces.append(block)
            continue
        for line in block.split("\n"):
            while len(line) > limit:
                pieces.append(line[:limit])
                line = line[limit:]
            pieces.append(line)
    messages: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}\n\n{piece}" if current else piece
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            messages.append(current)
        current = piece
    if current:
        messages.append(current)
    return messages
