"""The Incident Console engine: workspace, store, health, sources and session.

Nothing in this package imports Qt or ``ui``; the headless commands (``status``, ``check-config``)
and every engine test run on it alone. ``tests/test_layering.py`` enforces that.
"""

__version__ = "0.1.0"
