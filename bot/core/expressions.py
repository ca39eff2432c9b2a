"""XLSForm ``relevant`` / ``constraint`` expressions: parse once, evaluate often.

``parse_expression`` tokenizes the source by hand, builds a tree with a Pratt
parser and compiles the tree into nested closures, so an evaluation costs a
few Python calls. Supported: ``${id}`` references, ``.`` (the value being
checked), 'text' / "text", 12 / 1.5, ``= != < <= > >=``, ``and or``,
``+ - * div mod``, unary minus, parentheses and the functions of
``_FUNCTIONS``. Precedence follows XPath: or < and < = != < < <= > >= < + - <
* div mod < unary minus. Names and keywords are case-sensitive.

Semantics (ODK / XLSForm):

* A value is ``None`` (unanswered), ``str``, ``int``, ``Decimal``, ``list[str]``
  (select_multiple) or ``dict`` (file metadata: non-empty, its string form is
  its "name"). ``None`` and missing ids read as the empty string ''.
* ``${previous:id}`` is the unit's submitted answer of last period (a campaign
  linked with ``--previous``), read from the values under ``previous:id``;
  without one it is empty like an unanswered question, so ``. = ${x} -
  ${previous:x}`` is False (NaN) and ``${previous:x} = ''`` is True.
* ``=`` / ``!=``: numeric when both sides are numbers, or one is a number and
  the other's string form parses as a number; a boolean on either side compares
  truthiness (XPath); otherwise the string forms are compared (a list reads as
  its space-joined values). Empty vs number: ``=`` False, ``!=`` True.
* ``< <= > >=``: numeric when both sides convert to numbers, else string order
  when both are non-empty strings (ISO dates, ``today()``), else False.
* Arithmetic converts operands to numbers (int stays int for + - * mod and an
  exact div, otherwise Decimal); an empty or non-numeric operand, or ``div`` /
  ``mod`` by zero, gives NaN. ``mod`` takes the sign of the dividend. Every
  comparison with NaN is False, except ``!=`` which is True.
* ``and`` / ``or`` short-circuit and return booleans. ``truthy``: None, '',
  0, NaN, empty list and False are false; everything else is true.
* ``selected(x, v)``: v in the list x, or among the space-separated tokens of
  x's string form. ``count-selected(x)``: list length or token count.
  ``string-length(x)``: characters of the string form. ``if(c, a, b)``
  evaluates only the chosen branch. ``today()``: ISO date of ``today``.
  ``round(x, n)`` rounds half away from zero; ``int(x)`` truncates;
  ``coalesce(a, b)`` is a unless a is empty.
* Arity is checked at parse time; evaluation never raises for values of the
  types above. Parse errors are ``ExpressionError`` with a 0-based position.
"""

from __future__ import annotations

import datetime
import difflib
import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any, cast

__all__ = ["Expression", "ExpressionError", "Reference", "parse_expression", "truthy"]

NAN = float("nan")
#: ``${previous:ID}`` reads the value stored under ``previous:ID`` (see :mod:`bot.core.previous`).
PREVIOUS_PREFIX = "previous:"
MAX_DEPTH = 64  # tree depth and nesting limit: keeps parsing and evaluation far from the recursion limit
MAX_NUMBER_LENGTH = 100

Fn = Callable[[Mapping[str, object], object, datetime.date], object]  # (values, dot, today) -> value


class ExpressionError(Exception):
    """Bad expression source. str(error) is a complete sentence: what is wrong, at which position, how to fix."""

    def __init__(self, source: str, position: int, problem: str, hint: str, *, located: bool = True) -> None:
        self.source, self.position, self.message = source, position, f"{problem}; {hint}"
        super().__init__(f"{problem} at position {position}; {hint}" if located else self.message)


@dataclass(frozen=True, slots=True)
class Reference:
    question_id: str
    position: int  # 0-based offset of the `${` in the source
    #: ``${previous:ID}``: the unit's answer of last period, read from the values under ``previous:ID``.
    previous: bool = False

    @property
    def key(self) -> str:
        """The key of the value this reference reads in the values mapping."""
        return f"{PREVIOUS_PREFIX}{self.question_id}" if self.previous else self.question_id


@dataclass(frozen=True, slots=True)
class Expression:
    """A compiled expression; build it with ``parse_expression``."""

    source: str
    references: tuple[Reference, ...]  # every ${id}, in source order
    uses_dot: bool
    _value: Fn = field(repr=False, compare=False)
    _test: Fn = field(repr=False, compare=False)

    def evaluate(self, values: Mapping[str, object], *, dot: object = None, today: datetime.date) -> object:
        return self._value(values, dot, today)

    def test(self, values: Mapping[str, object], *, dot: object = None, today: datetime.date) -> bool:
        return self._test(values, dot, today)  # type: ignore[return-value]


# --------------------------------------------------------------------------- values


def truthy(value: object) -> bool:
    """XPath boolean(): None, '', 0, NaN, empty list and False are false."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, float):
        return value == value and value != 0
    if isinstance(value, Decimal):
        return not value.is_nan() and value != 0
    if isinstance(value, (int, str, list, tuple)):
        return bool(value)
    return True


def _number(value: object) -> int | Decimal | float:
    """XPath number(): an int, a finite Decimal, or NaN (the only float it returns)."""
    if type(value) is int:
        return value
    if type(value) is not str:
        if value is None:
            return NAN
        if isinstance(value, Decimal):
            return value if value.is_finite() else NAN
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, float):
            return Decimal(repr(value)) if math.isfinite(value) else NAN
        value = _string(value)
    if value.isdigit() and value.isascii() and len(value) <= 18:  # fast path: plain integer text
        return int(value)
    # XPath number syntax: optional '-', ASCII digits with at most one '.', surrounding spaces
    text = value.strip()
    digits = text[1:] if text[:1] == "-" else text
    whole, point, fraction = digits.partition(".")
    if not (whole or fraction) or not digits.isascii():
        return NAN
    if (whole and not whole.isdigit()) or (fraction and not fraction.isdigit()):
        return NAN
    return Decimal(text) if point or len(text) > 18 else int(text)


def _string(value: object) -> str:
    """XPath string(): None is '', a list joins its values with spaces, a file is its name."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        try:
            return str(value)
        except ValueError:  # beyond Python's int-to-str digit limit
            return "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, float):
        value = _number(value) if math.isfinite(value) else Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            return "NaN" if value.is_nan() else str(value)
        return format(value, "f") if -30 <= value.adjusted() <= 30 else str(value)
    if isinstance(value, (list, tuple)):
        return " ".join(map(str, value))
    if isinstance(value, dict):
        return str(value.get("name") or "file")
    return str(value)


def _is_nan(value: object) -> bool:
    return (isinstance(value, float) and value != value) or (isinstance(value, Decimal) and value.is_nan())


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _equals(a: object, b: object) -> bool:
    if type(a) is str and type(b) is str:
        return a == b
    if _is_nan(a) or _is_nan(b):
        return False
    if isinstance(a, bool) or isinstance(b, bool):
        return truthy(a) == truthy(b)
    a_number, b_number = _is_number(a), _is_number(b)
    if a_number and b_number:
        return a == b
    if a_number or b_number:
        number, other = (a, b) if a_number else (b, a)
        parsed = _number(_string(other))
        if type(parsed) is not float:
            return number == parsed
    return _string(a) == _string(b)


def _order(compare: Callable[[object, object], bool], a: object, b: object) -> bool:
    x, y = _number(a), _number(b)
    if type(x) is not float and type(y) is not float:
        return compare(x, y)
    # Not both numeric: only two non-empty strings (ISO dates, text) still have an order.
    return isinstance(a, str) and isinstance(b, str) and a != "" and b != "" and compare(a, b)


def _arithmetic(compute: Callable[[int | Decimal, int | Decimal], object]) -> Callable[[object, object], object]:
    """Lift ``compute`` to any two values: numbers in, NaN out for anything non-numeric or failing."""

    def apply(a: object, b: object) -> object:
        x, y = _number(a), _number(b)
        if type(x) is float or type(y) is float:
            return NAN
        try:
            return compute(x, y)  # type: ignore[arg-type]
        except (ArithmeticError, ValueError):
            return NAN

    return apply


def _divide(x: int | Decimal, y: int | Decimal) -> object:
    if y == 0:
        return NAN
    if type(x) is int and type(y) is int and x % y == 0:
        return x // y
    return Decimal(x) / Decimal(y)


def _modulo(x: int | Decimal, y: int | Decimal) -> object:
    if y == 0:
        return NAN
    if type(x) is int and type(y) is int:
        rest = abs(x) % abs(y)
        return -rest if x < 0 else rest
    return Decimal(x) % Decimal(y)  # Decimal's remainder already takes the dividend's sign


def _truncate(x: int | Decimal) -> int | Decimal:
    """Drop the fraction; a huge Decimal stays Decimal (int() of 1E+999999 takes minutes)."""
    if isinstance(x, int) or x.adjusted() < 30:
        return int(x)
    return x.to_integral_value(rounding=ROUND_DOWN)


def _round(x: int | Decimal, places: int | Decimal) -> object:
    digits = int(max(-1000, min(1000, places)))  # clamp first: int() of a huge Decimal is slow
    value = Decimal(x)
    if -value.as_tuple().exponent > digits:  # type: ignore[operator]  # finite, so the exponent is an int
        value = value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return _truncate(value) if digits <= 0 else value


def _selected(value: object, choice: object) -> bool:
    if isinstance(value, list):
        return _string(choice) in value
    return _string(choice) in _string(value).split()


def _count_selected(value: object) -> int:
    return len(value) if isinstance(value, list) else len(_string(value).split())


_ARITHMETIC: dict[str, Callable[[object, object], object]] = {
    "+": _arithmetic(operator.add), "-": _arithmetic(operator.sub), "*": _arithmetic(operator.mul),
    "div": _arithmetic(_divide), "mod": _arithmetic(_modulo),
}
_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
_PRECEDENCE: dict[str, int] = {
    "or": 1, "and": 2, "=": 3, "!=": 3, "<": 4, "<=": 4, ">": 4, ">=": 4, "+": 5, "-": 5, "*": 6, "div": 6, "mod": 6,
}
# name: (fewest arguments, most arguments or None for no limit, usage shown in hints)
_FUNCTIONS: dict[str, tuple[int, int | None, str]] = {
    "not": (1, 1, "not(${q1} = 'yes')"),
    "selected": (2, 2, "selected(${q1}, 'value')"),
    "count-selected": (1, 1, "count-selected(${q1})"),
    "string-length": (1, 1, "string-length(${q1})"),
    "if": (3, 3, "if(${q1} = 'yes', 1, 0)"),
    "today": (0, 0, "today()"),
    "number": (1, 1, "number(${q1})"),
    "string": (1, 1, "string(${q1})"),
    "concat": (1, None, "concat(${q1}, ' ', ${q2})"),
    "coalesce": (2, 2, "coalesce(${q1}, ${q2})"),
    "int": (1, 1, "int(${q1})"),
    "round": (1, 2, "round(${q1}, 2)"),
}
_SINGLE_ARGUMENT: dict[str, Callable[[object], object]] = {
    "count-selected": _count_selected,
    "string-length": lambda x: len(_string(x)),
    "number": _number,
    "string": _string,
    "int": lambda x: NAN if type(n := _number(x)) is float else _truncate(cast("int | Decimal", n)),
}

# --------------------------------------------------------------------------- tokens and tree


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # number string reference dot name op ( ) , end
    text: str  # exactly as in the source
    position: int
    value: object = None  # number value, string contents, question id


@dataclass(frozen=True, slots=True)
class _Node:
    kind: str  # literal reference dot negate binary logic call
    depth: int
    value: object = None  # literal value, question id, operator or function name
    children: tuple[_Node, ...] = ()


_REFERENCE = re.compile(r"\$\{((?:previous:)?[a-z][a-z0-9_]*)\}")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z][A-Za-z0-9_]*)*")  # count-selected, not x-1
_SYMBOLS = ("!=", "<=", ">=", "=", "<", ">", "+", "-", "*", "(", ")", ",")
_JOIN_HINT = "join it to what comes before with an operator such as 'and', or remove it"


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char.isspace():
            i += 1
            continue
        if char in "'\"":
            end = source.find(char, i + 1)
            if end < 0:
                raise ExpressionError(source, i, "unterminated string starting", f"close it with {char}")
            tokens.append(_Token("string", source[i : end + 1], i, source[i + 1 : end]))
        elif char == "$":
            if (match := _REFERENCE.match(source, i)) is None:
                raise ExpressionError(source, i, "invalid reference", "write ${question_id} with a lowercase id "
                                      "(a letter, then lowercase letters, digits or '_'), or ${previous:question_id} "
                                      "for last period's answer")
            tokens.append(_Token("reference", match.group(), i, match.group(1)))
        elif (match := _NUMBER.match(source, i)) is not None:
            text = match.group()
            if len(text) > MAX_NUMBER_LENGTH:
                raise ExpressionError(source, i, "number too long", f"write at most {MAX_NUMBER_LENGTH} characters")
            tokens.append(_Token("number", text, i, Decimal(text) if "." in text else int(text)))
        elif char == ".":
            tokens.append(_Token("dot", ".", i))
        elif (match := _NAME.match(source, i)) is not None:
            tokens.append(_Token("name", match.group(), i))
        elif source.startswith("==", i):
            raise ExpressionError(source, i, "unexpected '=='", "compare with a single '='")
        elif (symbol := next((s for s in _SYMBOLS if source.startswith(s, i)), None)) is not None:
            tokens.append(_Token(symbol if symbol in ("(", ")", ",") else "op", symbol, i))
        else:
            raise ExpressionError(source, i, f"unexpected character {char!r}", "remove it (operators are "
                                  "= != < <= > >= + - * div mod and or; text goes in quotes)")
        i = tokens[-1].position + len(tokens[-1].text)
    tokens.append(_Token("end", "", len(source)))
    return tokens


def _describe(token: _Token) -> str:
    if token.kind == "string":
        return f"text {token.text}"
    return f"{token.kind} {token.text}" if token.kind in ("number", "reference") else f"'{token.text}'"


class _Parser:
    """Pratt parser over the token list; every node records its depth."""

    def __init__(self, source: str, tokens: list[_Token]) -> None:
        self.source, self.tokens, self.index, self.nesting = source, tokens, 0, 0

    def error(self, token: _Token, problem: str, hint: str) -> ExpressionError:
        return ExpressionError(self.source, token.position, problem, hint)

    def stray(self, token: _Token, hint: str = _JOIN_HINT) -> ExpressionError:
        """The error for ``token`` found right after a complete operand."""
        word = token.text
        if token.kind == "name" and word.lower() in _PRECEDENCE:
            return self.error(token, f"unexpected word '{word}'", f"operators are lowercase: write '{word.lower()}'")
        return self.error(token, f"unexpected {_describe(token)}", hint)

    def take(self) -> _Token:
        self.index += 1
        return self.tokens[self.index - 1]

    def too_deep(self, at: _Token) -> ExpressionError:
        return self.error(at, "expression nests too deeply", "split it into simpler expressions")

    def node(self, at: _Token, kind: str, value: object, children: tuple[_Node, ...], depth: int) -> _Node:
        if depth > MAX_DEPTH:
            raise self.too_deep(at)
        return _Node(kind, depth, value, children)

    def parse(self) -> _Node:
        tree, token = self.expression(1), self.tokens[self.index]
        if token.kind == ")":
            raise self.error(token, "unmatched ')'", "remove it or add the matching '(' before it")
        if token.kind != "end":
            raise self.stray(token)
        return tree

    def expression(self, min_precedence: int) -> _Node:
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise self.too_deep(self.tokens[self.index])
        left = self.operand()
        while True:
            token = self.tokens[self.index]
            precedence = _PRECEDENCE.get(token.text, 0) if token.kind in ("op", "name") else 0
            if precedence < min_precedence:
                break
            self.index += 1
            right = self.expression(precedence + 1)  # + 1: every operator is left-associative
            if token.text in ("and", "or") and left.kind == "logic" and left.value == token.text:
                # a chain of one logical operator stays one flat node, so it does not deepen the tree
                left = self.node(token, "logic", token.text, left.children + (right,), max(left.depth, right.depth + 1))
            else:
                kind = "logic" if token.text in ("and", "or") else "binary"
                left = self.node(token, kind, token.text, (left, right), 1 + max(left.depth, right.depth))
        self.nesting -= 1
        return left

    def operand(self) -> _Node:
        signs: list[_Token] = []
        while self.tokens[self.index].kind == "op" and self.tokens[self.index].text == "-":
            signs.append(self.take())
        node = self.primary()
        for sign in reversed(signs):  # unary minus binds tightest; fold it into number literals
            if node.kind == "literal" and _is_number(node.value):
                node = _Node("literal", 1, -node.value)  # type: ignore[operator]
            else:
                node = self.node(sign, "negate", None, (node,), node.depth + 1)
        return node

    def primary(self) -> _Node:
        token = self.take()
        if token.kind in ("number", "string", "reference"):
            return _Node("reference" if token.kind == "reference" else "literal", 1, token.value)
        if token.kind == "dot":
            return _Node("dot", 1)
        if token.kind == "(":
            inner, closing = self.expression(1), self.take()
            if closing.kind == "end":
                raise self.error(token, "unclosed '('", "add the missing ')'")
            if closing.kind != ")":
                raise self.stray(closing)
            return inner
        if token.kind == "name":
            return self.call(token)
        if token.kind == "end":
            after = self.tokens[self.index - 2].text
            raise self.error(token, f"expression ends after '{after}'", "add the missing operand or remove it")
        raise self.error(token, f"unexpected {_describe(token)}", "remove it or add the missing operand before it")

    def call(self, token: _Token) -> _Node:
        name = token.text
        if name in _PRECEDENCE:
            raise self.error(token, f"unexpected '{name}'", "add the missing operand before it")
        if self.tokens[self.index].kind != "(":
            if name in _FUNCTIONS:
                raise self.error(token, f"'{name}' is a function", f"call it as {_FUNCTIONS[name][2]}")
            if name.lower() in _PRECEDENCE or name.lower() in _FUNCTIONS:
                raise self.error(token, f"unexpected word '{name}'", f"names are lowercase: write '{name.lower()}'")
            hint = f"quote text as '{name}' or write a reference as ${{{name}}}"
            raise self.error(token, f"unexpected word '{name}'", hint)
        if name not in _FUNCTIONS:
            close = difflib.get_close_matches(name.lower(), _FUNCTIONS, n=1)
            guess = f"did you mean '{close[0]}'? " if close else ""
            raise self.error(token, f"unknown function '{name}'", f"{guess}known functions: {', '.join(_FUNCTIONS)}")
        opening = self.take()
        args: list[_Node] = []
        if self.tokens[self.index].kind == ")":
            self.index += 1
        else:
            while True:
                args.append(self.expression(1))
                separator = self.take()
                if separator.kind == ")":
                    break
                if separator.kind == "end":
                    raise self.error(opening, "unclosed '('", "add the missing ')'")
                if separator.kind != ",":
                    raise self.stray(separator, "separate arguments with ',' and close the call with ')'")
        fewest, most, usage = _FUNCTIONS[name]
        if len(args) < fewest or (most is not None and len(args) > most):
            plural = "argument" if fewest == 1 else "arguments"
            if most is None:
                wanted = f"at least {fewest} {plural}"
            else:
                wanted = f"{fewest or 'no'} {plural}" if fewest == most else f"{fewest} to {most} arguments"
            raise self.error(token, f"{name}() takes {wanted}, got {len(args)}", f"write {usage}")
        return self.node(token, "call", name, tuple(args), 1 + max((arg.depth for arg in args), default=0))


# --------------------------------------------------------------------------- compilation


def _is_boolean(node: _Node) -> bool:
    if node.kind == "binary":
        return node.value in ("=", "!=") or node.value in _ORDER
    return node.kind == "logic" or (node.kind == "call" and node.value in ("not", "selected"))


def _compile_test(node: _Node, run: Fn | None = None) -> Fn:
    """A closure giving the truthiness of ``node`` (``run``: its compiled value, if already built)."""
    run = run or _compile(node)
    if _is_boolean(node):
        return run
    return lambda v, d, t: truthy(run(v, d, t))


def _compile_comparison(op: str, left: _Node, right: _Node) -> Fn:
    # Fast paths for `${q} <op> constant`, by far the most common shape.
    if left.kind == "reference" and right.kind == "literal":
        qid, constant = cast(str, left.value), right.value
        plain = type(constant) if type(constant) in (str, int) else None  # same plain type: Python's == is right
        if op == "=":
            return lambda v, d, t: x == constant if type(x := v.get(qid)) is plain else _equals(x, constant)
        if op == "!=":
            return lambda v, d, t: x != constant if type(x := v.get(qid)) is plain else not _equals(x, constant)
        if type(constant) in (int, Decimal):
            order = _ORDER[op]
            return lambda v, d, t: order(x, constant) if type(x := v.get(qid)) is int else _order(order, x, constant)
    a, b = _compile(left), _compile(right)
    if op == "=":
        return lambda v, d, t: _equals(a(v, d, t), b(v, d, t))
    if op == "!=":
        return lambda v, d, t: not _equals(a(v, d, t), b(v, d, t))
    order = _ORDER[op]
    return lambda v, d, t: _order(order, a(v, d, t), b(v, d, t))


def _compile_call(name: str, nodes: tuple[_Node, ...]) -> Fn:
    if name == "not":
        test = _compile_test(nodes[0])
        return lambda v, d, t: not test(v, d, t)
    if name == "if":
        condition, then, otherwise = _compile_test(nodes[0]), _compile(nodes[1]), _compile(nodes[2])
        return lambda v, d, t: then(v, d, t) if condition(v, d, t) else otherwise(v, d, t)
    if name == "today":
        iso = datetime.date.isoformat  # the date part even when given a datetime
        return lambda v, d, t: iso(t)
    args = [_compile(node) for node in nodes]
    if name == "selected":
        if nodes[0].kind == "reference" and nodes[1].kind == "literal":
            qid, constant = cast(str, nodes[0].value), _string(nodes[1].value)
            return lambda v, d, t: constant in x if type(x := v.get(qid)) is list else _selected(x, constant)
        value, choice = args
        return lambda v, d, t: _selected(value(v, d, t), choice(v, d, t))
    if name == "coalesce":
        first, second = args
        return lambda v, d, t: x if _string(x := first(v, d, t)) != "" else second(v, d, t)
    if name == "concat":
        return lambda v, d, t: "".join([_string(arg(v, d, t)) for arg in args])
    if name == "round":
        rounding, number = _arithmetic(_round), args[0]
        places = args[1] if len(args) == 2 else (lambda v, d, t: 0)
        return lambda v, d, t: rounding(number(v, d, t), places(v, d, t))
    single, arg = _SINGLE_ARGUMENT[name], args[0]
    return lambda v, d, t: single(arg(v, d, t))


def _compile(node: _Node) -> Fn:
    kind, value = node.kind, node.value
    if kind == "literal":
        return lambda v, d, t: value
    if kind == "reference":
        qid = cast(str, value)
        return lambda v, d, t: v.get(qid)
    if kind == "dot":
        return lambda v, d, t: d
    if kind == "negate":
        inner, subtract = _compile(node.children[0]), _ARITHMETIC["-"]
        return lambda v, d, t: subtract(0, inner(v, d, t))
    if kind == "call":
        return _compile_call(value, node.children)  # type: ignore[arg-type]
    if kind == "logic":
        parts = [_compile_test(child) for child in node.children]
        if len(parts) == 2:
            a, b = parts
            if value == "and":
                return lambda v, d, t: a(v, d, t) and b(v, d, t)
            return lambda v, d, t: a(v, d, t) or b(v, d, t)
        if value == "and":
            return lambda v, d, t: all(part(v, d, t) for part in parts)
        return lambda v, d, t: any(part(v, d, t) for part in parts)
    left, right = node.children
    if value in _ARITHMETIC:
        compute, a, b = _ARITHMETIC[value], _compile(left), _compile(right)
        return lambda v, d, t: compute(a(v, d, t), b(v, d, t))
    return _compile_comparison(value, left, right)  # type: ignore[arg-type]


def parse_expression(source: str) -> Expression:
    """Parse and compile ``source``; raises ExpressionError with a position and a fix."""
    if not source.strip():
        raise ExpressionError(source, 0, "empty expression",
                              "write a condition such as ${q1} = 'yes' or remove the field", located=False)
    tokens = _tokenize(source)
    tree = _Parser(source, tokens).parse()
    references = tuple(
        Reference(str(token.value).removeprefix(PREVIOUS_PREFIX), token.position, str(token.value).startswith(PREVIOUS_PREFIX))
        for token in tokens
        if token.kind == "reference"
    )
    run = _compile(tree)
    return Expression(source, references, any(token.kind == "dot" for token in tokens), run, _compile_test(tree, run))
