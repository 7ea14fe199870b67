"""Human formats: durations on the command line and in files, metric values everywhere."""

from __future__ import annotations

import pytest

from console.durations import format_duration, parse_duration
from console.units import format_value


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("10m", 600),
        ("1h30m", 5400),
        ("90s", 90),
        ("2 h", 7200),
        ("45", 45),
        ("1.5h", 5400),
        ("1d", 86400),
        ("250ms", 0.25),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "ten minutes", "10x", "-5", "5m-"])
def test_parse_duration_refuses_with_a_hint(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"), [(42, "42s"), (425, "7m 05s"), (7380, "2h 03m"), (273600, "3d 4h")]
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (12345.0, "ms", "12.3 s"),
        (840.0, "ms", "840 ms"),
        (0.14, "fraction", "14%"),
        (0.05, "fraction", "5.0%"),
        (1.0, "fraction", "100%"),
        (14 / 3600, "per_s", "14/h"),
        (8.2, "per_s", "8.20/s"),
        (0.0, "per_s", "0/s"),
        (2.1e6, "bytes_per_s", "2.1 MB/s"),
        (46.0, "count", "46"),
        (float("nan"), "ms", "–"),
    ],
)
def test_format_value(value: float, unit: str, text: str) -> None:
    assert format_value(value, unit) == text
