"""Tests for bot.core.expressions: XLSForm relevant / constraint expressions."""

from __future__ import annotations

import dataclasses
import datetime
import math
from collections.abc import Iterator, Mapping
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.expressions import Expression, ExpressionError, Reference, parse_expression, truthy

TODAY = datetime.date(2024, 5, 1)
NAN = "NaN result"  # marker in the tables: the evaluation gives float('nan')


def evaluate(source: str, dot: object = None, **values: object) -> object:
    return parse_expression(source).evaluate(values, dot=dot, today=TODAY)


def check(source: str, dot: object = None, **values: object) -> bool:
    return parse_expression(source).test(values, dot=dot, today=TODAY)


class RecordingValues(Mapping[str, object]):
    """A real mapping that remembers which question ids were read."""

    def __init__(self, data: dict[str, object]) -> None:
        self.data, self.read = data, []

    def __getitem__(self, key: str) -> object:
        self.read.append(key)
        return self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


# --------------------------------------------------------------------------- values

VALUE_CASES = [
    # literals, references, dot
    ("literal_int", "42", {}, None, 42),
    ("literal_decimal", "1.50", {}, None, Decimal("1.50")),
    ("literal_decimal_leading_dot", ".5", {}, None, Decimal(".5")),
    ("literal_single_quoted", "'yes'", {}, None, "yes"),
    ("literal_double_quoted_with_apostrophe", '"it\'s"', {}, None, "it's"),
    ("literal_chinese_text", "'是'", {}, None, "是"),
    ("reference_value", "${q1}", {"q1": "abc"}, None, "abc"),
    ("reference_missing_is_none", "${q1}", {}, None, None),
    ("dot_value", ".", {}, 7, 7),
    # arithmetic
    ("add_ints_stays_int", "2 + 3", {}, None, 5),
    ("subtract_ints", "2 - 5", {}, None, -3),
    ("multiply_ints", "4 * 3", {}, None, 12),
    ("add_decimal_and_int", "1.5 + 1", {}, None, Decimal("2.5")),
    ("multiply_decimals_exact", "0.1 * 3", {}, None, Decimal("0.3")),
    ("div_exact_ints_is_int", "6 div 3", {}, None, 2),
    ("div_inexact_is_decimal", "7 div 2", {}, None, Decimal("3.5")),
    ("div_by_zero_is_nan", "1 div 0", {}, None, NAN),
    ("mod_positive", "7 mod 3", {}, None, 1),
    ("mod_takes_dividend_sign", "-7 mod 3", {}, None, -1),
    ("mod_negative_divisor", "7 mod -3", {}, None, 1),
    ("mod_decimal", "5.5 mod 2", {}, None, Decimal("1.5")),
    ("mod_by_zero_is_nan", "5 mod 0", {}, None, NAN),
    ("unary_minus_reference", "-${q1}", {"q1": 4}, None, -4),
    ("double_unary_minus", "- -3", {}, None, 3),
    ("minus_minus_literal", "5 - -3", {}, None, 8),
    ("arithmetic_on_numeric_text", "${q1} + 1", {"q1": " 41 "}, None, 42),
    ("arithmetic_on_decimal_answer", "${q1} * 2", {"q1": Decimal("1.25")}, None, Decimal("2.50")),
    ("arithmetic_on_empty_is_nan", "${q1} + 1", {}, None, NAN),
    ("arithmetic_on_text_is_nan", "${q1} + 1", {"q1": "abc"}, None, NAN),
    ("arithmetic_on_date_is_nan", "today() + 1", {}, None, NAN),
    ("unary_minus_on_empty_is_nan", "-${q1}", {}, None, NAN),
    ("nan_propagates", "(1 div 0) + 1", {}, None, NAN),
    # precedence and associativity
    ("precedence_mul_over_add", "1 + 2 * 3", {}, None, 7),
    ("precedence_parentheses", "(1 + 2) * 3", {}, None, 9),
    ("precedence_subtract_left_assoc", "10 - 4 - 3", {}, None, 3),
    ("precedence_div_left_assoc", "12 div 2 div 3", {}, None, 2),
    ("precedence_mul_mod_left_assoc", "2 * 3 mod 4", {}, None, 2),
    ("precedence_unary_minus_tightest", "-2 + 3", {}, None, 1),
    ("precedence_and_over_or", "1 = 1 or 1 = 2 and 1 = 2", {}, None, True),
    ("precedence_and_over_or_left", "1 = 2 and 1 = 2 or 1 = 1", {}, None, True),
    ("precedence_relational_over_equality", "1 = 1 < 2", {}, None, True),
    ("precedence_arithmetic_over_comparison", "1 + 1 = 2", {}, None, True),
    ("precedence_keywords_adjacent_to_literals", "3div 2", {}, None, Decimal("1.5")),
    # functions
    ("not_true", "not(1 = 1)", {}, None, False),
    ("not_of_empty", "not(${q1})", {}, None, True),
    ("selected_in_list", "selected(${q1}, 'b')", {"q1": ["a", "b"]}, None, True),
    ("selected_missing_from_list", "selected(${q1}, 'c')", {"q1": ["a", "b"]}, None, False),
    ("selected_in_space_separated_text", "selected(${q1}, 'b')", {"q1": "a b"}, None, True),
    ("selected_partial_token_is_false", "selected(${q1}, 'b')", {"q1": "abc"}, None, False),
    ("selected_on_empty_is_false", "selected(${q1}, 'a')", {}, None, False),
    ("selected_on_empty_list_is_false", "selected(${q1}, 'a')", {"q1": []}, None, False),
    ("selected_computed_choice", "selected(${q1}, concat('b', ''))", {"q1": ["b"]}, None, True),
    ("count_selected_list", "count-selected(${q1})", {"q1": ["a", "b", "c"]}, None, 3),
    ("count_selected_text", "count-selected(${q1})", {"q1": "a  b"}, None, 2),
    ("count_selected_empty_is_zero", "count-selected(${q1})", {}, None, 0),
    ("string_length_text", "string-length(${q1})", {"q1": "hello"}, None, 5),
    ("string_length_chinese_counts_characters", "string-length(${q1})", {"q1": "你好吗"}, None, 3),
    ("string_length_empty_is_zero", "string-length(${q1})", {}, None, 0),
    ("string_length_number", "string-length(${q1})", {"q1": 1234}, None, 4),
    ("string_length_file_name", "string-length(${q1})", {"q1": {"name": "a.jpg", "size": 9}}, None, 5),
    ("if_true_branch", "if(${q1} = 'yes', 'a', 'b')", {"q1": "yes"}, None, "a"),
    ("if_false_branch", "if(${q1} = 'yes', 'a', 'b')", {"q1": "no"}, None, "b"),
    ("if_truthy_number_condition", "if(2, 1, 0)", {}, None, 1),
    ("today_is_iso_text", "today()", {}, None, "2024-05-01"),
    ("number_of_text", "number('2.5')", {}, None, Decimal("2.5")),
    ("number_of_negative_text", "number('-3')", {}, None, -3),
    ("number_of_text_is_nan", "number('abc')", {}, None, NAN),
    ("number_of_exponent_text_is_nan", "number('1e3')", {}, None, NAN),
    ("number_of_true", "number(1 = 1)", {}, None, 1),
    ("string_of_number", "string(12)", {}, None, "12"),
    ("string_of_decimal", "string(2.50)", {}, None, "2.50"),
    ("string_of_boolean", "string(1 = 1)", {}, None, "true"),
    ("string_of_nan", "string(1 div 0)", {}, None, "NaN"),
    ("string_of_list", "string(${q1})", {"q1": ["a", "b"]}, None, "a b"),
    ("string_of_empty", "string(${q1})", {}, None, ""),
    ("concat_mixed", "concat('a', 1, ${q1}, ${q2})", {"q1": None, "q2": ["x", "y"]}, None, "a1x y"),
    ("coalesce_first_when_present", "coalesce(${q1}, 'x')", {"q1": 5}, None, 5),
    ("coalesce_second_when_empty", "coalesce(${q1}, 'x')", {"q1": ""}, None, "x"),
    ("coalesce_second_when_empty_list", "coalesce(${q1}, 'x')", {"q1": []}, None, "x"),
    ("int_truncates_toward_zero", "int(-2.7)", {}, None, -2),
    ("int_of_text", "int('7.9')", {}, None, 7),
    ("int_of_empty_is_nan", "int(${q1})", {}, None, NAN),
    ("int_of_huge_decimal_stays_decimal", "int(${q1})", {"q1": Decimal("1E+999999")}, None, Decimal("1E+999999")),
    ("round_half_away_from_zero", "round(2.5)", {}, None, 3),
    ("round_negative_half", "round(-2.5)", {}, None, -3),
    ("round_to_places", "round(1.235, 2)", {}, None, Decimal("1.24")),
    ("round_to_tens", "round(1234, -1)", {}, None, 1230),
    ("round_keeps_fewer_decimals", "round(${q1}, 2)", {"q1": 5}, None, Decimal(5)),
    ("round_to_huge_places_keeps_value", "round(1.5, 100000)", {}, None, Decimal("1.5")),
    ("round_of_text_is_nan", "round('x')", {}, None, NAN),
    ("function_after_whitespace", "not (1 = 2)", {}, None, True),
]


@pytest.mark.parametrize(
    ("source", "values", "dot", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in VALUE_CASES],
)
def test_evaluate__gives_expected_value(source: str, values: dict[str, object], dot: object, expected: object) -> None:
    result = parse_expression(source).evaluate(values, dot=dot, today=TODAY)
    if expected is NAN:
        assert isinstance(result, float) and math.isnan(result)
    else:
        assert result == expected
        assert type(result) is type(expected)


# --------------------------------------------------------------------------- conditions

CONDITION_CASES = [
    # equality: strings, numbers, mixed
    ("eq_same_text", "${q1} = 'yes'", {"q1": "yes"}, True),
    ("eq_other_text", "${q1} = 'yes'", {"q1": "no"}, False),
    ("eq_is_case_sensitive", "${q1} = 'yes'", {"q1": "YES"}, False),
    ("ne_other_text", "${q1} != 'yes'", {"q1": "no"}, True),
    ("eq_numbers", "${q1} = 3", {"q1": 3}, True),
    ("eq_int_and_decimal", "${q1} = 3", {"q1": Decimal("3.0")}, True),
    ("eq_number_and_numeric_text", "${q1} = 3", {"q1": "3.0"}, True),
    ("eq_numeric_text_and_number", "'03' = ${q1}", {"q1": 3}, True),
    ("eq_two_numeric_texts_compare_as_text", "'3' = '3.0'", {}, False),
    ("eq_number_and_other_text_compares_as_text", "${q1} = 'abc'", {"q1": 3}, False),
    ("eq_decimal_and_its_text", "${q1} = '1.5'", {"q1": Decimal("1.5")}, True),
    ("eq_list_compares_joined", "${q1} = 'a b'", {"q1": ["a", "b"]}, True),
    ("eq_booleans_compare_truthiness", "(1 = 1) = (2 = 2)", {}, True),
    ("eq_boolean_and_text", "(1 = 1) = 'x'", {}, True),
    ("eq_file_is_its_name", "${q1} = 'a.jpg'", {"q1": {"name": "a.jpg"}}, True),
    ("eq_two_references", "${q1} = ${q2}", {"q1": 2, "q2": Decimal(2)}, True),
    # empty semantics
    ("empty__eq_empty_text_is_true", "${q1} = ''", {}, True),
    ("empty__none_eq_empty_text_is_true", "${q1} = ''", {"q1": None}, True),
    ("empty__ne_empty_text_when_answered_is_true", "${q1} != ''", {"q1": "x"}, True),
    ("empty__list_eq_empty_text", "${q1} = ''", {"q1": []}, True),
    ("empty__file_is_not_empty", "${q1} != ''", {"q1": {"size": 1}}, True),
    ("empty__vs_number_eq_is_false", "${q1} = 0", {}, False),
    ("empty__vs_number_ne_is_true", "${q1} != 0", {}, True),
    ("empty__vs_number_gt_is_false", "${q1} > 3", {}, False),
    ("empty__vs_number_lt_is_false", "${q1} < 3", {}, False),
    ("empty__vs_text_lt_is_false", "${q1} < 'b'", {}, False),
    ("empty__two_unanswered_are_equal", "${q1} = ${q2}", {}, True),
    # ordering
    ("order_numbers", "${q1} > 3", {"q1": 4}, True),
    ("order_numbers_false", "${q1} > 3", {"q1": 3}, False),
    ("order_ge_equal", "${q1} >= 3", {"q1": 3}, True),
    ("order_le_decimal", "${q1} <= 2.5", {"q1": Decimal("2.5")}, True),
    ("order_lt_negative", "${q1} < -1", {"q1": -2}, True),
    ("order_numeric_texts_compare_as_numbers", "'10' > '9'", {}, True),
    ("order_numeric_text_answer_vs_number", "${q1} > 9", {"q1": "10"}, True),
    ("order_texts_compare_as_text", "'b' > 'a'", {}, True),
    ("order_number_vs_text_is_false", "${q1} < 'abc'", {"q1": 3}, False),
    ("order_boolean_as_number", "(1 = 1) > 0", {}, True),
    ("order_dates", "${q1} < '2024-02-01'", {"q1": "2024-01-31"}, True),
    ("order_date_before_today", "${q1} <= today()", {"q1": "2024-04-30"}, True),
    ("order_date_after_today", "${q1} <= today()", {"q1": "2024-05-02"}, False),
    ("order_date_equals_today", "${q1} = today()", {"q1": "2024-05-01"}, True),
    ("order_dot_date_not_in_future", ". <= today()", {}, True),
    # NaN paths
    ("nan__eq_is_false", "(1 div 0) = (1 div 0)", {}, False),
    ("nan__ne_is_true", "(1 div 0) != 1", {}, True),
    ("nan__eq_nan_text_is_false", "(1 div 0) = 'NaN'", {}, False),
    ("nan__gt_is_false", "${q1} + 1 > 0", {"q1": "x"}, False),
    ("nan__lt_is_false", "${q1} + 1 < 0", {"q1": "x"}, False),
    ("nan__is_falsy", "${q1} * 2", {}, False),
    ("nan__decimal_answer_eq_is_false", "${q1} = 1", {"q1": Decimal("NaN")}, False),
    ("nan__decimal_answer_gt_is_false", "${q1} > 1", {"q1": Decimal("NaN")}, False),
    # logic
    ("and_both_true", "${q1} = 'yes' and ${q2} > 3", {"q1": "yes", "q2": 4}, True),
    ("and_one_false", "${q1} = 'yes' and ${q2} > 3", {"q1": "yes", "q2": 2}, False),
    ("or_one_true", "${q1} = 'yes' or ${q2} > 3", {"q1": "no", "q2": 4}, True),
    ("or_none_true", "${q1} = 'yes' or ${q2} > 3", {"q1": "no"}, False),
    ("and_chain_all_true", "1 = 1 and 2 = 2 and 3 = 3", {}, True),
    ("or_chain_last_true", "1 = 2 or 2 = 3 or 3 = 3", {}, True),
    ("and_of_plain_values_uses_truthiness", "${q1} and ${q2}", {"q1": "x", "q2": 1}, True),
    ("and_of_empty_value_is_false", "${q1} and 1", {"q1": []}, False),
    ("not_of_selected", "not(selected(${q1}, 'a'))", {"q1": ["b"]}, True),
]


@pytest.mark.parametrize(
    ("source", "values", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in CONDITION_CASES],
)
def test_condition__gives_expected_boolean(source: str, values: dict[str, object], expected: bool) -> None:
    assert check(source, dot="2024-04-01", **values) is expected


def test_evaluate__logic_returns_booleans() -> None:
    assert evaluate("${q1} and ${q2}", q1="x", q2=5) is True
    assert evaluate("${q1} or ${q2}", q1="", q2=0) is False


def test_and__short_circuits_right_side() -> None:
    values = RecordingValues({"q1": "no", "q2": 5})
    assert parse_expression("${q1} = 'yes' and ${q2} > 3").test(values, today=TODAY) is False
    assert values.read == ["q1"]


def test_or__short_circuits_right_side() -> None:
    values = RecordingValues({"q1": "yes", "q2": 5})
    assert parse_expression("${q1} = 'yes' or ${q2} > 3").test(values, today=TODAY) is True
    assert values.read == ["q1"]


def test_if__evaluates_only_chosen_branch() -> None:
    values = RecordingValues({"c": "yes", "a": 1, "b": 2})
    assert parse_expression("if(${c} = 'yes', ${a}, ${b})").evaluate(values, today=TODAY) == 1
    assert values.read == ["c", "a"]


def test_today__datetime_argument_gives_date_only() -> None:
    now = datetime.datetime(2024, 5, 1, 13, 45)
    assert parse_expression("today()").evaluate({}, today=now) == "2024-05-01"


def test_dot__defaults_to_empty() -> None:
    assert parse_expression(". = ''").test({}, today=TODAY) is True


# --------------------------------------------------------------------------- truthy

@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, False, id="none_false"),
        pytest.param("", False, id="empty_text_false"),
        pytest.param("0", True, id="text_zero_true"),
        pytest.param("no", True, id="text_no_true"),
        pytest.param(0, False, id="zero_false"),
        pytest.param(2, True, id="int_true"),
        pytest.param(Decimal("0.0"), False, id="decimal_zero_false"),
        pytest.param(Decimal("0.1"), True, id="decimal_true"),
        pytest.param(Decimal("NaN"), False, id="decimal_nan_false"),
        pytest.param(Decimal("sNaN"), False, id="decimal_signaling_nan_false"),
        pytest.param(float("nan"), False, id="nan_false"),
        pytest.param([], False, id="empty_list_false"),
        pytest.param(["a"], True, id="list_true"),
        pytest.param({}, True, id="file_true"),
        pytest.param(True, True, id="true_true"),
        pytest.param(False, False, id="false_false"),
    ],
)
def test_truthy__follows_xpath_boolean(value: object, expected: bool) -> None:
    assert truthy(value) is expected


# --------------------------------------------------------------------------- references and dot

def test_references__in_source_order_with_duplicates_and_positions() -> None:
    expression = parse_expression("${b} = 1 or selected(${a_1}, 'x') and ${b} > 2")
    assert expression.references == (Reference("b", 0), Reference("a_1", 21), Reference("b", 38))


def test_references__none_for_constant_expression() -> None:
    assert parse_expression("1 = 1").references == ()


def test_references__string_contents_are_not_references() -> None:
    assert parse_expression("'${q1}' = 'x'").references == ()


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param(". > 3", True, id="dot_alone"),
        pytest.param("string-length(.) < 10", True, id="dot_in_call"),
        pytest.param("${q1} > .5", False, id="leading_dot_number_is_not_dot"),
        pytest.param("'.' = ${q1}", False, id="dot_in_text_is_not_dot"),
    ],
)
def test_uses_dot__detects_dot_only(source: str, expected: bool) -> None:
    assert parse_expression(source).uses_dot is expected


def test_expression__is_immutable_and_keeps_source() -> None:
    expression = parse_expression("${q1} = 'yes'")
    assert expression.source == "${q1} = 'yes'"
    with pytest.raises(dataclasses.FrozenInstanceError):
        expression.source = "x"  # type: ignore[misc]


def test_expression__equal_sources_give_equal_expressions() -> None:
    assert parse_expression("${a} > 1") == parse_expression("${a} > 1")


def test_parse__long_or_chain_is_accepted() -> None:
    source = " or ".join(f"${{q{i}}} = 'x'" for i in range(300))
    assert parse_expression(source).test({"q299": "x"}, today=TODAY) is True


def test_parse__moderate_nesting_is_accepted() -> None:
    assert evaluate("(" * 30 + "1" + ")" * 30) == 1


# --------------------------------------------------------------------------- errors

ERROR_CASES = [
    ("empty", "", 0, "empty expression; write a condition"),
    ("blank", "   ", 0, "empty expression; write a condition"),
    ("unexpected_close_paren", "${a} = 'yes' and )", 17, "unexpected ')'; remove it or add the missing operand"),
    ("unexpected_operator_as_operand", "${a} = = 1", 7, "unexpected '='; remove it or add the missing operand"),
    ("unexpected_comma", "${a} = ,", 7, "unexpected ','"),
    ("keyword_as_operand", "and ${a} = 1", 0, "unexpected 'and'; add the missing operand"),
    ("keyword_after_operator", "${a} = or 1", 7, "unexpected 'or'"),
    ("unknown_function", "lenght(${a})", 0, "unknown function 'lenght'; known functions: not, selected"),
    ("unknown_function_suggests_close_name", "Selected(${a}, 'x')", 0, "did you mean 'selected'?"),
    ("arity_selected_too_few", "selected(${a})", 0, "selected() takes 2 arguments, got 1; write selected("),
    ("arity_if_position_of_name", "${a} = 1 and if(1, 2)", 13, "if() takes 3 arguments, got 2"),
    ("arity_today_takes_none", "today(1)", 0, "today() takes no arguments, got 1"),
    ("arity_not_takes_one", "not()", 0, "not() takes 1 argument, got 0"),
    ("arity_round_range", "round(1, 2, 3)", 0, "round() takes 1 to 2 arguments, got 3"),
    ("arity_concat_minimum", "concat()", 0, "concat() takes at least 1 argument, got 0"),
    ("unterminated_single_quote", "${a} = 'yes", 7, "unterminated string starting; close it with '"),
    ("unterminated_double_quote", '${a} = "yes', 7, 'unterminated string starting; close it with "'),
    ("reference_uppercase", "1 + ${Q1}", 4, "invalid reference; write ${question_id} with a lowercase id"),
    ("reference_starts_with_digit", "${1a} = 1", 0, "invalid reference"),
    ("reference_unclosed", "${a = 1", 0, "invalid reference"),
    ("reference_empty", "${} = 1", 0, "invalid reference"),
    ("reference_without_braces", "$a = 1", 0, "invalid reference"),
    ("reference_with_hyphen", "${a-b} = 1", 0, "invalid reference"),
    ("trailing_reference", "${a} = 1 ${b}", 9, "unexpected reference ${b}; join it"),
    ("trailing_number", "1 2", 2, "unexpected number 2"),
    ("trailing_text", "${a} 'x'", 5, "unexpected text 'x'"),
    ("uppercase_keyword_between_operands", "${a} = 1 AND ${b} = 2", 9, "operators are lowercase: write 'and'"),
    ("uppercase_keyword_as_operand", "AND", 0, "names are lowercase: write 'and'"),
    ("unclosed_paren", "(${a} = 1", 0, "unclosed '('; add the missing ')'"),
    ("unclosed_call", "selected(${a}, 'x'", 8, "unclosed '('"),
    ("unmatched_close_paren", "${a} = 1)", 8, "unmatched ')'; remove it"),
    ("junk_inside_paren", "(1 2)", 3, "unexpected number 2"),
    ("missing_argument_separator", "selected(${a} 'x')", 14, "separate arguments with ','"),
    ("ends_after_operator", "${a} =", 6, "expression ends after '='"),
    ("ends_after_keyword", "${a} = 1 and", 12, "expression ends after 'and'"),
    ("ends_after_open_paren", "(", 1, "expression ends after '('"),
    ("bare_word", "${a} = yes", 7, "unexpected word 'yes'; quote text as 'yes' or write a reference as ${yes}"),
    ("function_without_call", "today", 0, "'today' is a function; call it as today()"),
    ("double_equals", "${a} == 1", 5, "unexpected '=='; compare with a single '='"),
    ("unexpected_character", "1 # 2", 2, "unexpected character '#'"),
    ("lone_bang", "${a} ! 1", 5, "unexpected character '!'"),
    ("number_too_long", "1" * 101, 0, "number too long"),
    ("nesting_too_deep", "(" * 100 + "1" + ")" * 100, 64, "expression nests too deeply"),
    ("operator_chain_too_deep", "1" + " + 1" * 100, 254, "expression nests too deeply"),
]


@pytest.mark.parametrize(
    ("source", "position", "message"),
    [pytest.param(*case[1:], id=case[0]) for case in ERROR_CASES],
)
def test_parse__bad_source_raises_with_position(source: str, position: int, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_expression(source)
    error = caught.value
    assert error.position == position
    assert error.source == source
    assert error.message.startswith(message) or message in error.message
    assert "position" not in error.message


def test_error__text_is_sentence_with_position() -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_expression("${a} = 'yes' and )")
    assert str(caught.value) == "unexpected ')' at position 17; remove it or add the missing operand before it"


def test_error__empty_expression_text_is_the_hint() -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_expression("")
    assert str(caught.value) == "empty expression; write a condition such as ${q1} = 'yes' or remove the field"


def test_error__unterminated_string_names_its_start() -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_expression("${a} = 'yes")
    assert str(caught.value) == "unterminated string starting at position 7; close it with '"


# --------------------------------------------------------------------------- properties

TOKENS = [
    "${a}", "${b}", ".", "'x'", '"y"', "1", "2.5", "0", "-", "+", "*", "div", "mod", "=", "!=", "<", "<=",
    ">", ">=", "and", "or", "(", ")", ",", "not(", "selected(", "count-selected(", "string-length(", "if(",
    "today()", "round(", "int(", "concat(", "coalesce(", "number(", "string(", "$", "{", "'", "AND", "foo",
]
source_text = st.one_of(st.text(max_size=60), st.lists(st.sampled_from(TOKENS), max_size=25).map(" ".join))


@settings(max_examples=400, deadline=None)
@given(source=source_text)
def test_parse__random_text_returns_expression_or_raises_expression_error(source: str) -> None:
    try:
        expression = parse_expression(source)
    except ExpressionError as error:
        assert 0 <= error.position <= len(source)
        assert str(error)
    else:
        assert isinstance(expression, Expression)


answer = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.sampled_from(["", "0", "3", "-2.5", "2024-05-01", "a b", "NaN", "1e5", " 7 ", "9" * 5000]),
    st.sampled_from([Decimal("1E+999999"), Decimal("-1E-999999"), Decimal("sNaN"), 10**5000, -(10**5000)]),
    st.integers(),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.lists(st.text(max_size=5), max_size=4),
    st.dictionaries(st.sampled_from(["name", "size"]), st.one_of(st.text(max_size=8), st.integers())),
)
VALID_SOURCES = [
    "${a} = ${b}", "${a} != ${b}", "${a} < ${b}", "${a} <= ${b}", "${a} > ${b}", "${a} >= ${b}",
    "${a} = 'yes' and ${b} > 3", "${a} = 1 or ${b} != 2", "${a} + ${b}", "${a} - ${b}", "${a} * ${b}",
    "${a} div ${b}", "${a} mod ${b}", "-${a}", "not(${a})", "selected(${a}, ${b})", "selected(${a}, 'x')",
    "count-selected(${a})", "string-length(${a})", "if(${a}, ${b}, ${c})", "${a} <= today()",
    "number(${a})", "string(${a})", "concat(${a}, ${b}, .)", "coalesce(${a}, ${b})", "int(${a})",
    "round(${a}, ${b})", "round(${a})", ". > ${a}", ". = ${c}", "${a} and ${b} or ${c}", "${a} * ${b} > ${c} div 2",
]


@settings(max_examples=300, deadline=None)
@given(a=answer, b=answer, c=answer, dot=answer)
def test_evaluate__random_answers_never_raise(a: object, b: object, c: object, dot: object) -> None:
    values = {"a": a, "b": b, "c": c}
    for source in VALID_SOURCES:
        expression = parse_expression(source)
        expression.evaluate(values, dot=dot, today=TODAY)
        assert isinstance(expression.test(values, dot=dot, today=TODAY), bool)


# --------------------------------------------------------------------------- ${previous:id}


def test_previous_reference__is_marked_and_reads_its_own_key() -> None:
    expression = parse_expression(". = ${members} - ${previous:members}")
    assert expression.references == (
        Reference("members", 4, previous=False),
        Reference("members", 17, previous=True),
    )
    assert [reference.key for reference in expression.references] == ["members", "previous:members"]
    values = {"members": 35, "previous:members": 32}
    assert expression.test(values, dot=3, today=TODAY)
    assert not expression.test(values, dot=4, today=TODAY)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (". = ${members} - ${previous:members}", False),  # arithmetic with empty is NaN: never equal
        ("${previous:members} = ''", True),
        ("${previous:members} = '' or . = ${members} - ${previous:members}", True),
        ("${previous:members} > 0", False),
        ("coalesce(${previous:members}, 0) = 0", True),
    ],
)
def test_previous_reference__without_last_period_reads_as_empty(source: str, expected: bool) -> None:
    assert parse_expression(source).test({"members": 35}, dot=3, today=TODAY) is expected


def test_previous_reference__a_bad_one_says_how_to_write_it() -> None:
    with pytest.raises(ExpressionError, match=r"\$\{previous:question_id\}"):
        parse_expression("${previous:Members} = 1")
