"""Standard five-field crontab lines as APScheduler 3 triggers.

APScheduler 3 numbers the days of the week from Monday (0) to Sunday (6), where crontab
numbers them from Sunday (0 or 7) to Saturday (6), so `0 0 * * 1-5` would run Tuesday to
Saturday. The day-of-week field is therefore rewritten as day names, which both read alike.
"""

from __future__ import annotations

from typing import Any

NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # crontab numbering, 0 = Sunday


def trigger(expression: str, timezone: str = "UTC") -> Any:
    """An APScheduler CronTrigger for a crontab line; ValueError when it is not one."""
    from apscheduler.triggers.cron import CronTrigger

    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields (minute hour day month weekday), got {len(fields)}")
    minute, hour, day, month, weekday = fields
    return CronTrigger(minute=minute, hour=hour, day=day, month=month,
                       day_of_week=weekday_names(weekday), timezone=timezone)


def weekday_names(field: str) -> str:
    """A crontab day-of-week field (numbers, names, ranges, steps, lists) as day names."""
    days: set[int] = set()
    for part in field.lower().split(","):
        days |= _days(part)
    if len(days) == len(NAMES):
        return "*"
    return ",".join(NAMES[d] for d in sorted(days))


def _days(part: str) -> set[int]:
    base, _, step_text = part.partition("/")
    step = _number(step_text, "step") if step_text else 1
    if step < 1:
        raise ValueError(f"day-of-week step must be at least 1, got {step_text!r}")
    if base == "*":
        first, last = 0, 6
    elif "-" in base:
        start, _, end = base.partition("-")
        first, last = _day(start), _day(end, end_of_range=True)
    else:
        first = _day(base)
        last = 6 if step_text else first
    if first > last:
        raise ValueError(f"day-of-week range {base!r} runs backwards")
    return {d % 7 for d in range(first, last + 1, step)}


def _day(text: str, end_of_range: bool = False) -> int:
    if text in NAMES:
        return NAMES.index(text)
    number = _number(text, "day of week")
    if not 0 <= number <= 7:
        raise ValueError(f"day of week {text!r} is not 0-7 or a day name")
    return 7 if number == 7 and end_of_range else number % 7


def _number(text: str, what: str) -> int:
    if not text.isdigit():
        raise ValueError(f"{what} {text!r} is not a number")
    return int(text)
