"""The Qt frontend (PySide6 + pyqtgraph): widgets that take an engine object and render it.

No business logic lives here: health, thresholds and data come from ``console``. Importing this
package does not import Qt; its modules do.
"""
