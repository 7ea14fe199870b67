"""Formatting metric values for people: ``12.3 s``, ``840 ms``, ``14%``, ``2.1 MB/s``, ``0.25/s``.

One formatter for the command line, the charts' read-outs and the status graph, so a number reads
the same everywhere.
"""

from __future__ import annotations

import math

from console.metrics import Unit


def format_value(value: float, unit: Unit) -> str:
    """``value`` in ``unit`` as a short human string; NaN is ``–``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if unit == "ms":
        if abs(value) >= 1000:
            return f"{value / 1000:.1f} s"
        return f"{value:.0f} ms"
    if unit == "fraction":
        pct = value * 100
        return f"{pct:.1f}%" if 0 < abs(pct) < 10 else f"{pct:.0f}%"
    if unit == "per_s":
        if value == 0:
            return "0/s"
        if abs(value) < 0.1:
            return f"{value * 3600:.0f}/h"
        return f"{value:.2f}/s" if abs(value) < 10 else f"{value:.0f}/s"
    if unit == "bytes_per_s":
        for factor, suffix in ((1e9, "GB/s"), (1e6, "MB/s"), (1e3, "kB/s")):
            if abs(value) >= factor:
                return f"{value / factor:.1f} {suffix}"
        return f"{value:.0f} B/s"
    if float(value).is_integer():
        return f"{value:.0f}"
    return f"{value:.1f}"


def format_clock(t: float, *, seconds: bool = True) -> str:
    """``t`` (seconds since the epoch) as local wall-clock time: ``03:12:40`` (or ``03:12``)."""
    import time

    return time.strftime("%H:%M:%S" if seconds else "%H:%M", time.localtime(t))
