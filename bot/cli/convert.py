"""``surveybot convert IN -o OUT``: a survey file from YAML to XLSForm and back.

The input is any survey file (``.yaml``, ``.xlsx``, ``.xls``) and is fully
validated first; the output's suffix says what to write: ``.yaml``/``.yml``
our YAML format, ``.xlsx`` an XLSForm with survey, choices and settings
sheets (see docs/survey-format.md, "XLSForm").
"""

from __future__ import annotations

import argparse
import logging
import sys
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from bot.cli import CommandError

if TYPE_CHECKING:
    from bot.core.definition import SurveyDefinition

logger = logging.getLogger(__name__)

YAML_SUFFIXES: Final = frozenset({".yaml", ".yml"})
XLSFORM_SUFFIX: Final = ".xlsx"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "convert",
        help="convert a survey between YAML and XLSForm",
        description=(
            "Convert a survey file: an XLSForm (.xlsx, .xls) to our YAML, or YAML to an XLSForm "
            "(.xlsx). The input is validated first; the output's suffix chooses the format."
        ),
    )
    parser.add_argument("input", metavar="IN", help="the survey: .yaml, .xlsx or .xls")
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="where to write it: .yaml or .xlsx")
    parser.set_defaults(handler=convert_command)


def convert_command(args: argparse.Namespace) -> int:
    from bot.cli.survey import print_warnings
    from bot.core.loading import DefinitionError
    from bot.survey_files import load_survey_file

    output = Path(args.output)
    suffix = output.suffix.lower()
    if suffix not in YAML_SUFFIXES | {XLSFORM_SUFFIX}:
        raise CommandError(
            f"-o {args.output}: cannot tell the format from the suffix; name the output .yaml or .xlsx", exit_code=2
        )
    if output.resolve() == Path(args.input).resolve():
        raise CommandError(f"-o {args.output}: is the input itself; write to another file", exit_code=2)
    try:
        loaded = load_survey_file(args.input)
    except DefinitionError as error:
        raise CommandError(f"the survey is not valid:\n{error}") from None
    print_warnings(loaded.warnings)
    definition = loaded.survey.definition
    if suffix == XLSFORM_SUFFIX:
        from bot.xlsform.writer import write_xlsform

        content = write_xlsform(definition)
    else:
        content = survey_yaml(definition, source=Path(args.input).name).encode("utf-8")
    try:
        output.write_bytes(content)
    except OSError as error:
        raise CommandError(f"-o {args.output}: cannot be written ({error.strerror})") from None
    print(f"{args.input} → {args.output}: {definition.id} v{definition.version}, {len(loaded.survey.questions)} questions")
    sys.stdout.flush()
    return 0


def survey_yaml(definition: SurveyDefinition, *, source: str) -> str:
    """``definition`` as a YAML survey file, fields in the order of docs/survey-format.md."""
    import yaml

    data = definition.model_dump(mode="json", exclude_none=True, exclude_defaults=True)  # required: true goes
    for section in data["sections"]:
        for question in section["questions"]:
            for bound in ("min", "max"):
                if bound in question and Decimal(question[bound]) == Decimal(question[bound]).to_integral_value():
                    question[bound] = int(Decimal(question[bound]))  # 0, not '0'
    body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100, default_flow_style=False)
    return f"# Converted from {source} by `surveybot convert`.\n{body}"
