"""Crontab lines mean what crontab means by them, though APScheduler 3 counts days from Monday."""

from datetime import UTC, datetime

import pytest

from service.crontab import trigger, weekday_names

SATURDAY = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def next_fire_weekday(expression: str, after: datetime = SATURDAY) -> str:
    fire = trigger(expression).get_next_fire_time(None, after)
    return fire.strftime("%a")


@pytest.mark.parametrize(("expression", "weekday"), [
    ("0 0 * * 0", "Sun"), ("0 0 * * 7", "Sun"), ("0 0 * * 1", "Mon"), ("0 0 * * 6", "Sat"),
    ("0 0 * * sun", "Sun"), ("0 0 * * MON", "Mon"),
])
def test_a_weekday_number_or_name_is_the_day_crontab_means(expression, weekday):
    assert next_fire_weekday(expression) == weekday


def test_weekdays_one_to_five_are_monday_to_friday():
    assert weekday_names("1-5") == "mon,tue,wed,thu,fri"
    fires, when = [], SATURDAY
    for _ in range(6):
        when = trigger("0 9 * * 1-5").get_next_fire_time(None, when)
        fires.append(when.strftime("%a"))
        when = when.replace(hour=10)
    assert fires == ["Mon", "Tue", "Wed", "Thu", "Fri", "Mon"]


@pytest.mark.parametrize(("field", "names"), [
    ("*", "*"), ("0-6", "*"), ("*/2", "sun,tue,thu,sat"), ("1/2", "mon,wed,fri"),
    ("5-7", "sun,fri,sat"), ("0,6", "sun,sat"), ("mon-fri", "mon,tue,wed,thu,fri"),
])
def test_lists_ranges_and_steps_are_rewritten_day_by_day(field, names):
    assert weekday_names(field) == names


@pytest.mark.parametrize("expression", [
    "0 0 * * 8", "0 0 * * 5-1", "0 0 * * funday", "0 0 * *", "0 0 * * */0", "61 * * * *",
])
def test_what_crontab_would_not_accept_is_a_value_error(expression):
    with pytest.raises(ValueError):
        trigger(expression)


def test_the_other_fields_are_read_as_crontab_reads_them():
    fire = trigger("30 6 1 12 *").get_next_fire_time(None, SATURDAY)
    assert fire == datetime(2026, 12, 1, 6, 30, tzinfo=UTC)
