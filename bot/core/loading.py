"""Reading a survey file: YAML → validated definition → compiled :class:`Survey`.

Loading runs in stages with plain data in between (bytes → YAML data →
pydantic models → semantic checks → compiled survey). Every problem found is
collected, not just the first, and each one says where (the path in the file
and the question id), what is wrong, and how to fix it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import ValidationError

from bot.core.definition import (
    NUMERIC_TYPES,
    OTHER_VALUE,
    TYPE_FIELDS,
    TYPE_SPECIFIC_FIELDS,
    LocalizedText,
    Question,
    QuestionType,
    SurveyDefinition,
)
from bot.core.expressions import Expression, ExpressionError, parse_expression
from bot.core.previous import hint_references
from bot.core.survey import CompiledQuestion, Survey, compile_question

#: Survey files larger than this are refused before parsing.
MAX_FILE_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a survey file."""

    path: str
    message: str
    question_id: str | None = None

    def render(self, source: str) -> str:
        where = " ".join(part for part in (self.path, f"({self.question_id})" if self.question_id else "") if part)
        return f"{source}: {where}: {self.message}" if where else f"{source}: {self.message}"


class DefinitionError(Exception):
    """A survey file is not a valid survey; ``problems`` lists every reason."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("\n".join(problem.render(source) for problem in problems))


def parse_survey(data: bytes | str, *, source: str = "<survey>") -> Survey:
    """Validate and compile a survey from the text of a YAML file."""
    raw = _read_yaml(data, source)
    definition = _validate_structure(raw, source)
    problems = list(_check_semantics(definition))
    problems.extend(_check_previous_period(definition))
    expressions, expression_problems = _compile_expressions(definition)
    problems.extend(expression_problems)
    if problems:
        raise DefinitionError(source, problems)
    return _compile(definition, expressions, source)


def content_hash(definition: SurveyDefinition) -> str:
    """A sha256 of the definition's content, blind to YAML layout and comments."""
    canonical = json.dumps(
        definition.model_dump(mode="json", exclude_none=True),
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# -- stage 1: bytes to YAML data ---------------------------------------------------------


def _read_yaml(data: bytes | str, source: str) -> dict[str, Any]:
    def fail(message: str) -> DefinitionError:
        return DefinitionError(source, [Problem("", message)])

    if isinstance(data, bytes):
        if len(data) > MAX_FILE_BYTES:
            raise fail(f"is larger than {MAX_FILE_BYTES // 1024 // 1024} MB; is it really a survey?")
        if b"\x00" in data:
            raise fail("is a binary file, not YAML text; save the survey as UTF-8 text")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise fail(
                f"is not UTF-8 text (bad byte at offset {error.start}); save the file as UTF-8"
            ) from None
    else:
        text = data
    if not text.strip():
        raise fail("is empty; a survey needs id, version, title, languages and sections")
    try:
        raw = yaml.safe_load(text)
    except RecursionError:
        raise fail("nests too deeply to be a survey; check the brackets and indentation") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise fail(f"{where}{problem}; fix the YAML syntax (indentation, quotes, colons)") from None
    if not isinstance(raw, dict):
        raise fail(
            "is not a YAML mapping; a survey starts with keys such as `id:`, `title:` and `sections:`"
        )
    return raw


# -- stage 2: YAML data to pydantic models ------------------------------------------------


def _validate_structure(raw: dict[str, Any], source: str) -> SurveyDefinition:
    try:
        return SurveyDefinition.model_validate(raw)
    except ValidationError as error:
        problems: list[Problem] = []
        seen: set[tuple[str, str]] = set()
        for detail in error.errors():
            problem = _problem_from_pydantic(raw, detail)
            key = (problem.path, problem.message)
            if key not in seen:
                seen.add(key)
                problems.append(problem)
        raise DefinitionError(source, problems) from None


def _format_path(location: tuple[Any, ...]) -> str:
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _question_id_at(raw: Any, location: tuple[Any, ...]) -> str | None:
    """The id of the question a pydantic error location points into, if any."""
    if len(location) < 4 or location[0] != "sections" or location[2] != "questions":
        return None
    try:
        question = raw["sections"][location[1]]["questions"][location[3]]
    except (KeyError, IndexError, TypeError):
        return None
    if isinstance(question, dict) and isinstance(question.get("id"), str):
        return question["id"]
    return None


_LOCALIZED_UNION_TAGS = {"str", "constrained-str", "dict[str,str]", "dict[constrained-str,str]"}


def _problem_from_pydantic(raw: dict[str, Any], detail: Any) -> Problem:
    # Union members add their names to the location; a localized text is a
    # union of a string and a map, so fold both branches into one message.
    location = tuple(
        part
        for part in detail["loc"]
        if not (isinstance(part, str) and (part in _LOCALIZED_UNION_TAGS or "[" in part))
    )
    kind = detail["type"]
    field = location[-1] if location else ""
    parent = location[:-1]
    question_id = _question_id_at(raw, location)
    value = detail.get("input")
    if kind == "missing":
        return Problem(_format_path(parent), f"`{field}` is required; add it", question_id)
    if kind == "extra_forbidden":
        return Problem(
            _format_path(parent),
            f"unknown field `{field}`; remove it or check its spelling (see docs/survey-format.md)",
            question_id,
        )
    path = _format_path(location)
    if field == "type" and kind == "enum":
        known = ", ".join(t.value for t in QuestionType)
        return Problem(path, f"unknown question type {value!r}; use one of: {known}", question_id)
    if field == "id" and kind == "string_pattern_mismatch":
        return Problem(
            path,
            f"id {value!r} is not valid; use lowercase letters, digits and _, starting with a letter",
            question_id,
        )
    if field in {"label", "title", "hint", "intro", "constraint_message", "pattern_message"} or (
        len(location) >= 2 and location[-2] in {"label", "title", "hint", "intro"}
    ):
        return Problem(
            _format_path(location[: location.index(field) + 1]) if field in location else path,
            "must be a non-empty text or a map of language to text, e.g. {zh: 名称, en: Name}",
            question_id,
        )
    message = str(detail["msg"]).removeprefix("Value error, ")
    shown = repr(value) if not isinstance(value, dict | list) else type(value).__name__
    return Problem(path, f"{message} (got {shown}); correct the value", question_id)


# -- stage 3: checks across the whole definition ------------------------------------------


def _check_previous_period(definition: SurveyDefinition) -> Iterator[Problem]:
    """``change_of`` names an earlier or later numeric question; hints' ``${previous:ID}`` name questions."""
    kinds = {question.id: question.type for section in definition.sections for question in section.questions}
    for s_index, section in enumerate(definition.sections):
        for q_index, question in enumerate(section.questions):
            path = f"sections[{s_index}].questions[{q_index}]"
            qid = question.id
            target = question.change_of
            if target is not None:
                numeric = ", ".join(sorted(t.value for t in NUMERIC_TYPES))
                if question.type not in NUMERIC_TYPES:
                    yield Problem(
                        f"{path}.change_of",
                        f"a change is a number, but this question is `{question.type}`; make it {numeric} or remove `change_of`",
                        qid,
                    )
                if target == qid:
                    yield Problem(f"{path}.change_of", "names the question itself; name the question this one is the change of", qid)
                elif target not in kinds:
                    yield Problem(f"{path}.change_of", f"names unknown question `{target}`; check the id", qid)
                elif kinds[target] not in NUMERIC_TYPES:
                    yield Problem(
                        f"{path}.change_of",
                        f"names `{target}`, a `{kinds[target]}` question; a change is taken of a number ({numeric})",
                        qid,
                    )
            hint = question.hint
            texts = [hint] if isinstance(hint, str) else list(hint.values()) if hint else []
            named = dict.fromkeys(name for text in texts for name in hint_references(text))
            for name in named:
                if name not in kinds:
                    yield Problem(f"{path}.hint", f"refers to unknown question ${{previous:{name}}}; check the id", qid)


def _localized_fields(question: Question) -> Iterator[tuple[str, LocalizedText | None]]:
    yield "label", question.label
    yield "hint", question.hint
    yield "constraint_message", question.constraint_message
    yield "pattern_message", question.pattern_message
    for index, choice in enumerate(question.choices or ()):
        yield f"choices[{index}].label", choice.label
    if question.other is not None:
        yield "other.label", question.other.label


def _check_semantics(definition: SurveyDefinition) -> Iterator[Problem]:
    languages = definition.languages
    if len(set(languages)) != len(languages):
        yield Problem("languages", "lists a language twice; list each language once")

    def check_text(path: str, text: LocalizedText | None, question_id: str | None = None) -> Iterator[Problem]:
        if not isinstance(text, dict):
            return
        missing = [language for language in languages if not text.get(language, "").strip()]
        extra = [language for language in text if language not in languages]
        if missing:
            yield Problem(path, f"has no text for {', '.join(missing)}; add it or use one plain string", question_id)
        if extra:
            yield Problem(
                path,
                f"has text for {', '.join(extra)}, which is not in `languages`; add the language or remove the text",
                question_id,
            )

    yield from check_text("title", definition.title)
    yield from check_text("intro", definition.intro)
    section_ids: dict[str, str] = {}
    question_ids: dict[str, str] = {}
    for s_index, section in enumerate(definition.sections):
        section_path = f"sections[{s_index}]"
        if section.id in section_ids:
            yield Problem(
                f"{section_path}.id",
                f"section id `{section.id}` is already used by {section_ids[section.id]}; give each section its own id",
            )
        section_ids.setdefault(section.id, section_path)
        yield from check_text(f"{section_path}.title", section.title)
        for q_index, question in enumerate(section.questions):
            path = f"{section_path}.questions[{q_index}]"
            if question.id in question_ids:
                yield Problem(
                    path,
                    f"question id `{question.id}` is already used by {question_ids[question.id]}; ids must be unique",
                    question.id,
                )
            question_ids.setdefault(question.id, path)
            for name, text in _localized_fields(question):
                yield from check_text(f"{path}.{name}", text, question.id)
            yield from _check_question(question, path)


def _check_question(question: Question, path: str) -> Iterator[Problem]:
    qid = question.id
    kind = question.type
    allowed = TYPE_FIELDS[kind]
    for name in sorted(TYPE_SPECIFIC_FIELDS - allowed):
        if getattr(question, name) is not None:
            yield Problem(f"{path}.{name}", f"`{name}` does not apply to type `{kind}`; remove it", qid)
    if kind is QuestionType.NOTE and question.constraint is not None:
        yield Problem(f"{path}.constraint", "a note is never answered, so it cannot have a constraint; remove it", qid)
    if question.constraint_message is not None and question.constraint is None:
        yield Problem(f"{path}.constraint_message", "has no `constraint` to explain; add the constraint or remove the message", qid)
    if question.pattern_message is not None and question.pattern is None:
        yield Problem(f"{path}.pattern_message", "has no `pattern` to explain; add the pattern or remove the message", qid)
    if question.pattern is not None:
        try:
            re.compile(question.pattern)
        except re.error as error:
            yield Problem(f"{path}.pattern", f"is not a valid regular expression ({error}); fix or remove it", qid)
    if question.min is not None and question.max is not None and question.min > question.max:
        yield Problem(f"{path}.min", f"min {question.min} is greater than max {question.max}; swap them", qid)
    if kind is QuestionType.INTEGER:
        for name in ("min", "max"):
            bound = getattr(question, name)
            if bound is not None and bound != bound.to_integral_value():
                yield Problem(f"{path}.{name}", f"{name} of an integer question must be a whole number (got {bound})", qid)
    if kind in {QuestionType.SELECT_ONE, QuestionType.SELECT_MULTIPLE}:
        yield from _check_choices(question, path)


def _check_choices(question: Question, path: str) -> Iterator[Problem]:
    qid = question.id
    choices = question.choices or []
    if not choices:
        yield Problem(f"{path}.choices", f"a `{question.type}` question needs at least one choice; add `choices:`", qid)
    seen: dict[str, int] = {}
    for index, choice in enumerate(choices):
        if choice.value in seen:
            yield Problem(
                f"{path}.choices[{index}].value",
                f"choice value {choice.value!r} repeats choices[{seen[choice.value]}]; give each choice its own value",
                qid,
            )
        seen.setdefault(choice.value, index)
        if choice.value == OTHER_VALUE and question.other is not None:
            yield Problem(
                f"{path}.choices[{index}].value",
                f"the value {OTHER_VALUE!r} is reserved for `other:`; rename this choice",
                qid,
            )
    if question.other is not None and question.other.before is not None and question.other.before not in seen:
        yield Problem(
            f"{path}.other.before",
            f"names no choice of this question ({question.other.before!r}); use one of: {', '.join(seen) or '(none)'}",
            qid,
        )
    option_count = len(choices) + (1 if question.other is not None else 0)
    low, high = question.min_selected, question.max_selected
    if low is not None and high is not None and low > high:
        yield Problem(f"{path}.min_selected", f"min_selected {low} is greater than max_selected {high}; swap them", qid)
    if low is not None and low > option_count:
        yield Problem(f"{path}.min_selected", f"asks for {low} choices but the question offers {option_count}; lower it", qid)
    if high is not None and high > option_count:
        yield Problem(f"{path}.max_selected", f"allows {high} choices but the question offers {option_count}; lower it", qid)


def _compile_expressions(
    definition: SurveyDefinition,
) -> tuple[dict[tuple[str, str], Expression], list[Problem]]:
    """Parse every ``relevant`` and ``constraint`` and check what they refer to."""
    order = {
        question.id: index
        for index, question in enumerate(q for section in definition.sections for q in section.questions)
    }
    compiled: dict[tuple[str, str], Expression] = {}
    problems: list[Problem] = []
    for s_index, section in enumerate(definition.sections):
        for q_index, question in enumerate(section.questions):
            for field in ("relevant", "constraint"):
                source = getattr(question, field)
                if source is None:
                    continue
                path = f"sections[{s_index}].questions[{q_index}].{field}"
                try:
                    expression = parse_expression(source)
                except ExpressionError as error:
                    problems.append(Problem(path, f"{error} (in {source!r})", question.id))
                    continue
                problems.extend(_check_references(expression, field, question.id, order, path))
                compiled[(question.id, field)] = expression
    return compiled, problems


def _check_references(
    expression: Expression, field: str, question_id: str, order: dict[str, int], path: str
) -> Iterator[Problem]:
    own = order[question_id]
    if field == "relevant" and expression.uses_dot:
        yield Problem(
            path,
            f"`.` (the value being checked) only works in a constraint; write ${{{question_id}}} or another question (in {expression.source!r})",
            question_id,
        )
    for reference in expression.references:
        target = reference.question_id
        where = f"at position {reference.position} (in {expression.source!r})"
        if reference.previous:
            if target not in order:
                yield Problem(path, f"refers to unknown question ${{previous:{target}}} {where}; check the id", question_id)
            elif field == "relevant":
                yield Problem(
                    path,
                    f"refers to last period's answer ${{previous:{target}}} {where}; whether a question is asked "
                    "cannot depend on last period, so use it in a constraint or a hint",
                    question_id,
                )
            continue
        if target not in order:
            yield Problem(path, f"refers to unknown question ${{{target}}} {where}; check the id", question_id)
        elif field == "relevant" and target == question_id:
            yield Problem(
                path,
                f"refers to itself {where}; whether a question is asked cannot depend on its own answer, "
                "so refer to an earlier question",
                question_id,
            )
        elif field == "relevant" and order[target] > own:
            yield Problem(
                path,
                f"refers to the later question ${{{target}}} {where}; relevance can only depend on earlier questions, "
                f"so move the question after ${{{target}}}",
                question_id,
            )


# -- stage 4: compile ---------------------------------------------------------------------


def _compile(
    definition: SurveyDefinition, expressions: dict[tuple[str, str], Expression], source: str
) -> Survey:
    questions: list[CompiledQuestion] = []
    for s_index, section in enumerate(definition.sections):
        for question in section.questions:
            questions.append(
                compile_question(
                    question,
                    section=section,
                    section_index=s_index,
                    index=len(questions),
                    relevant=expressions.get((question.id, "relevant")),
                    constraint=expressions.get((question.id, "constraint")),
                )
            )
    return Survey(
        definition=definition,
        content_hash=content_hash(definition),
        source=source,
        questions=tuple(questions),
        by_id={question.id: question for question in questions},
    )
