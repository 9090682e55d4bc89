"""Closed integer intervals as (start, end) tuples."""

from datetime import date, timedelta


def merge_intervals(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or touching intervals merged, sorted by start."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if start > end:
            raise ValueError(f"empty interval ({start}, {end})")
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def covered_length(intervals: set[tuple[int, int]]) -> int:
    total = 0
    last_end = None
    for start, end in sorted(intervals):
        if last_end is not None and start <= last_end:
            start = last_end + 1
        if start <= end:
            total += end - start + 1
        last_end = end if last_end is None else max(last_end, end)
    return total


def business_days(start: date, end: date) -> int:
    """Weekdays from `start` to `end` inclusive."""
    if end < start:
        start, end = end, start
    days = 0
    current = start
    while current <= end:
        if current.weekday() < 5:
            days += 1
        current += timedelta(days=1)
    return days
