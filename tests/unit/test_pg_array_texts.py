"""PostgreSQL array parameters written as their text (`{...}`) for the hot path's reads."""

from __future__ import annotations

from service.store.pg_arrays import int_array, text_array


def test_every_text_element_is_quoted_so_null_and_separators_stay_text() -> None:
    assert text_array(["A", "NULL", "x,y", "{z}", " sp "]) == (
        '{"A","NULL","x,y","{z}"," sp "}')


def test_backslashes_and_double_quotes_in_a_text_element_are_escaped() -> None:
    assert text_array(['a"b', "c\\d"]) == '{"a\\"b","c\\\\d"}'


def test_no_elements_make_an_empty_array() -> None:
    assert (text_array([]), int_array([])) == ("{}", "{}")


def test_integers_are_written_as_numbers() -> None:
    assert int_array([7, -2, 0]) == "{7,-2,0}"
