"""XLSForm in and out: the spreadsheet format of ODK, KoboToolbox and SurveyCTO.

Reading runs in stages with plain data in between, like pyxform itself:
workbook bytes → sheets of cells (:mod:`bot.xlsform.workbook`, with pyxform's
own reader) → the raw survey dict our YAML files hold, with the place of every
element (:mod:`bot.xlsform.reader`) → the same validation as a YAML file
(:mod:`bot.loading`). Writing (:mod:`bot.xlsform.writer`) goes the other way.
Nothing here belongs to the pure core: it reads and writes files.
"""

from __future__ import annotations

from bot.xlsform.problems import Place, XLSFormError, XLSFormProblem
from bot.xlsform.reader import ReadResult, read_xlsform
from bot.xlsform.writer import write_xlsform

__all__ = ["Place", "ReadResult", "XLSFormError", "XLSFormProblem", "read_xlsform", "write_xlsform"]
