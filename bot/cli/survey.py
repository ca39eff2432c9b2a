"""``surveybot validate`` and ``surveybot try``: survey files (YAML or XLSForm) without any server."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bot.cli import CommandError
from bot.core.previous import NO_PREVIOUS, PreviousAnswers


def register(subparsers: Any) -> None:
    validate = subparsers.add_parser(
        "validate",
        help="check survey files",
        description="Check survey files; prints one summary line per valid file, every problem otherwise.",
    )
    validate.add_argument("files", nargs="+", metavar="FILE", help="a survey: .yaml, or an XLSForm .xlsx/.xls")
    validate.set_defaults(handler=validate_command)

    try_ = subparsers.add_parser(
        "try",
        help="answer a survey in this terminal",
        description="Answer a survey in the terminal, exactly as a respondent would in a chat.",
    )
    try_.add_argument("file", metavar="FILE", help="a survey: .yaml, or an XLSForm .xlsx/.xls")
    try_.add_argument("--lang", default=None, help="answer in this language (default: the survey's first)")
    try_.add_argument(
        "--previous",
        metavar="ANSWERS.json",
        help="answer as a second period: offer these answers of last period (the JSON a finished try prints) "
        "as defaults, /same takes one",
    )
    try_.set_defaults(handler=try_command)


def validate_command(args: argparse.Namespace) -> int:
    from bot.core.loading import DefinitionError
    from bot.survey_files import load_survey_file

    failed = False
    for path in args.files:
        try:
            loaded = load_survey_file(path)
        except DefinitionError as error:
            failed = True
            print(error, file=sys.stderr)
            continue
        print_warnings(loaded.warnings)
        survey = loaded.survey
        questions = len(survey.answerable_questions)
        notes = len(survey.questions) - questions
        print(
            f"{path}: ok: {survey.id} v{survey.version}, {len(survey.sections)} sections, "
            f"{questions} questions" + (f", {notes} notes" if notes else "") + f", languages {', '.join(survey.languages)}"
        )
    return 1 if failed else 0


def print_warnings(warnings: tuple[str, ...]) -> None:
    """What was dropped while reading a survey file (an XLSForm's metadata rows...), one a line."""
    for warning in warnings:
        print(warning, file=sys.stderr)


def try_command(args: argparse.Namespace) -> int:
    from bot.core.loading import DefinitionError
    from bot.survey_files import load_survey_file
    from handlers.terminal import TerminalSession

    try:
        loaded = load_survey_file(args.file)
    except DefinitionError as error:
        raise CommandError(f"the survey is not valid:\n{error}", exit_code=1) from None
    print_warnings(loaded.warnings)
    survey = loaded.survey
    if args.lang is not None and survey.language_for(args.lang) != args.lang:
        raise CommandError(
            f"--lang {args.lang}: the survey has {', '.join(survey.languages)}; choose one of them", exit_code=2
        )
    previous = read_previous_answers(args.previous) if args.previous else NO_PREVIOUS
    return TerminalSession(survey, language=args.lang, stdin=sys.stdin, stdout=sys.stdout, previous=previous).run()


def read_previous_answers(path: str) -> PreviousAnswers:
    """Last period's answers from a JSON file: ``{"answers": {...}, "others": {...}}`` as ``try`` prints them."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise CommandError(f"--previous {path}: cannot read it ({error.strerror or error})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CommandError(f"--previous {path}: not JSON text ({error}); give the JSON a finished `surveybot try` prints") from None
    if not isinstance(data, dict) or not isinstance(data.get("answers"), dict):
        raise CommandError(f'--previous {path}: expected an object with "answers", as a finished `surveybot try` prints it')
    return PreviousAnswers.from_submitted(data)
