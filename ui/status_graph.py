"""The dependency status graph: one node per service, edges from each service to what it needs.

Layout: columns by dependency depth, dependencies to the LEFT and dependents to the right, so the
golden path (Frontend → Auth → Backend → WebSocket → Chat AI) reads left to right as a chain and
the shared infrastructure (VPC connector, Cloud SQL) sits at the left edge. Within a column the
golden-path services come first, in path order.

Status is drawn by shape and word as well as colour: ok is a rounded box, degraded a box with a
notched corner, failing an octagon with a thick border, blocked a box with a dashed border, no
data / stale a plain box with a dotted border. The root-cause candidate gets a "ROOT CAUSE?" badge
and a heavy yellow outline. An edge from a blocked service to the dependency that blocks it is
drawn dashed in red.

Everything shown comes from ``session.health`` (``console.health``); nodes repaint only when what
they show changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QContextMenuEvent,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPen,
    QPolygonF,
    QResizeEvent,
    QShowEvent,
    QTransform,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsScene,
    QGraphicsView,
    QMenu,
    QStyleOptionGraphicsItem,
    QWidget,
)

from console.health import HealthReport
from console.session import Session, SessionUpdate
from console.status_report import describe_finding
from console.workspace import Workspace
from ui.theme import (
    BACKGROUND,
    BLOCKED_EDGE,
    ROOT_CAUSE,
    SERVICE_KIND_LABELS,
    STATUS_STYLES,
    TEXT,
    TEXT_DIM,
    StatusStyle,
    display_status,
    qcolor,
)

NODE_WIDTH = 226.0
NODE_HEIGHT = 122.0
COLUMN_PITCH = NODE_WIDTH + 52.0
ROW_PITCH = NODE_HEIGHT + 56.0
#: The view never magnifies the graph beyond this, so a big window does not get huge boxes.
MAX_SCALE = 1.25
SCENE_MARGIN = 16.0


def dependency_depths(workspace: Workspace) -> dict[str, int]:
    """Per service, the length of the longest chain of dependencies below it (0: none)."""
    depth: dict[str, int] = {}

    def visit(sid: str) -> int:
        if sid not in depth:
            deps = workspace.services[sid].depends_on
            depth[sid] = 1 + max(visit(d) for d in deps) if deps else 0
        return depth[sid]

    for sid in workspace.services:
        visit(sid)
    return depth


def graph_cells(workspace: Workspace) -> dict[str, tuple[int, int]]:
    """``(column, row)`` of each service's node. A dependency is never right of its dependents.

    Row 0 holds the golden path, each step in the column of its dependency depth, so the journey
    reads left to right. The other services (the shared infrastructure) go below, each as close
    to its dependents as the rule allows: at most in the column of its leftmost dependent, at
    least in the column of its own depth. Dependents are placed before their dependencies.
    """
    depth = dependency_depths(workspace)
    cells: dict[str, tuple[int, int]] = {}
    taken: set[tuple[int, int]] = set()

    def place(sid: str, columns: list[int], first_row: int) -> None:
        row = first_row
        while True:
            for column in columns:
                if (column, row) not in taken:
                    cells[sid] = (column, row)
                    taken.add((column, row))
                    return
            row += 1

    for step in workspace.golden_path:
        if step.service not in cells:
            place(step.service, [depth[step.service]], 0)
    remaining = [sid for sid in workspace.services if sid not in cells]
    while remaining:
        ready = next(
            sid for sid in remaining if all(d in cells for d in workspace.dependents_of(sid))
        )
        remaining.remove(ready)
        dependent_columns = [cells[d][0] for d in workspace.dependents_of(ready) if d in cells]
        rightmost = max(depth[ready], min(dependent_columns, default=depth[ready]))
        place(ready, list(range(rightmost, depth[ready] - 1, -1)), 1)
    return cells


@dataclass(frozen=True)
class NodeLook:
    """What one node shows: drawn status, words and whether it is the root-cause candidate."""

    status: str
    status_text: str
    details: tuple[str, ...]
    root_cause: bool


def node_look(workspace: Workspace, health: HealthReport, service_id: str) -> NodeLook:
    """The look of ``service_id``'s node for ``health``."""
    service_health = health.services[service_id]
    status = display_status(service_health.status, service_health.blocked)
    style = STATUS_STYLES[status]
    details = [describe_finding(workspace, service_id, f) for f in service_health.findings[:1]]
    if service_health.blocked:
        names = ", ".join(workspace.services[sid].name for sid in service_health.blocked_by)
        details.append(f"blocked by {names}")
    return NodeLook(
        status,
        f"{style.symbol} {style.word}",
        tuple(details),
        service_id in health.root_cause_candidates[:1],
    )


def _font(pixel_size: float, bold: bool = False) -> QFont:
    font = QFont()
    font.setPixelSize(round(pixel_size))
    font.setBold(bold)
    return font


def status_outline(rect: QRectF, status: str, corner: float = 22.0) -> QPainterPath:
    """The shape that says ``status`` around ``rect``: an octagon (failing), a box with a notched
    corner (degraded), a plain box (stale) or a rounded box (the others).

    ``corner`` is the octagon's cut; the notch and the rounding follow from it. The wall draws
    its tiles with this too, so a status has one shape everywhere.
    """
    path = QPainterPath()
    if status == "failing":
        cut = corner
        path.addPolygon(
            QPolygonF(
                [
                    QPointF(rect.left() + cut, rect.top()),
                    QPointF(rect.right() - cut, rect.top()),
                    QPointF(rect.right(), rect.top() + cut),
                    QPointF(rect.right(), rect.bottom() - cut),
                    QPointF(rect.right() - cut, rect.bottom()),
                    QPointF(rect.left() + cut, rect.bottom()),
                    QPointF(rect.left(), rect.bottom() - cut),
                    QPointF(rect.left(), rect.top() + cut),
                ]
            )
        )
        path.closeSubpath()
    elif status == "degraded":
        notch = corner * 28.0 / 22.0
        path.addPolygon(
            QPolygonF(
                [
                    rect.topLeft(),
                    QPointF(rect.right() - notch, rect.top()),
                    QPointF(rect.right(), rect.top() + notch),
                    rect.bottomRight(),
                    rect.bottomLeft(),
                ]
            )
        )
        path.closeSubpath()
    elif status == "stale":
        path.addRect(rect)
    else:
        radius = corner * 14.0 / 22.0
        path.addRoundedRect(rect, radius, radius)
    return path


def status_pen(status: str, scale: float = 1.0) -> QPen:
    """The border that says ``status``: thick for failing, dashed for blocked, dotted without
    fresh data; ``scale`` multiplies the widths (the wall's larger tiles)."""
    if status == "failing":
        return QPen(qcolor(TEXT), 6 * scale)
    if status == "blocked":
        pen = QPen(qcolor(TEXT), 3 * scale, Qt.PenStyle.DashLine)
        pen.setDashPattern([4, 3])
        return pen
    if status in ("unknown", "stale"):
        return QPen(qcolor(TEXT_DIM), 2 * scale, Qt.PenStyle.DotLine)
    if status == "degraded":
        return QPen(qcolor(TEXT), 3 * scale)
    return QPen(qcolor(TEXT, 110), 1.5 * scale)


class ServiceNodeItem(QGraphicsItem):
    """One service: a box whose outline shape, fill and words say its status."""

    def __init__(self, service_id: str, name: str, kind_label: str) -> None:
        super().__init__()
        self.service_id = service_id
        self.name = name
        self.kind_label = kind_label
        self.look = NodeLook("unknown", "", (), False)
        self.setZValue(1)

    # -- what it shows --------------------------------------------------------------------------

    @property
    def display_status(self) -> str:
        """The drawn status: ok, degraded, failing, blocked, unknown or stale."""
        return self.look.status

    @property
    def status_text(self) -> str:
        """The status line, e.g. ``✖ FAILING``."""
        return self.look.status_text

    @property
    def root_cause(self) -> bool:
        """True when this node is marked as the root-cause candidate."""
        return self.look.root_cause

    def set_look(self, look: NodeLook) -> bool:
        """Show ``look``; returns True (and schedules a repaint) only if it changed."""
        if look == self.look:
            return False
        self.look = look
        self.setToolTip(
            "\n".join((f"{self.name} ({self.kind_label})", look.status_text, *look.details))
        )
        self.update()
        return True

    # -- geometry -------------------------------------------------------------------------------

    def body_rect(self) -> QRectF:
        """The box itself, in item coordinates (centred on the item's position)."""
        return QRectF(-NODE_WIDTH / 2, -NODE_HEIGHT / 2, NODE_WIDTH, NODE_HEIGHT)

    def boundingRect(self) -> QRectF:
        return self.body_rect().adjusted(-12, -12, 12, 12)

    def outline_path(self) -> QPainterPath:
        """The status's shape: rounded box, notched box, octagon or plain box."""
        return status_outline(self.body_rect(), self.look.status)

    # -- painting -------------------------------------------------------------------------------

    def outline_pen(self) -> QPen:
        """The border: thick for failing, dashed for blocked, dotted without fresh data."""
        return status_pen(self.look.status)

    def paint_shape(self, painter: QPainter) -> StatusStyle:
        """Draw the status's shape, filled and bordered, ringed when it is the root-cause
        candidate; returns the status's style for the words drawn on it."""
        style = STATUS_STYLES[self.look.status]
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        path = self.outline_path()
        if self.look.root_cause:
            painter.setPen(QPen(qcolor(ROOT_CAUSE), 16))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
        painter.setPen(self.outline_pen())
        painter.setBrush(QBrush(qcolor(style.fill)))
        painter.drawPath(path)
        return style

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        style = self.paint_shape(painter)
        rect = self.body_rect()
        text_colour = qcolor(style.text)
        inner = rect.adjusted(14, 8, -14, -6)
        y = inner.top()
        y = self._draw_line(painter, self.name, _font(22, bold=True), text_colour, inner, y)
        if self.look.root_cause:  # the badge takes the place of the kind
            y = self._draw_badge(painter, inner, y)
        else:
            y = self._draw_line(
                painter, self.kind_label, _font(13), qcolor(style.text, 200), inner, y
            )
        y += 2
        y = self._draw_line(
            painter, self.look.status_text, _font(20, bold=True), text_colour, inner, y
        )
        for detail in self.look.details[:2]:
            y = self._draw_line(painter, detail, _font(15), text_colour, inner, y)

    @staticmethod
    def _draw_line(
        painter: QPainter, text: str, font: QFont, colour: QColor, inner: QRectF, y: float
    ) -> float:
        metrics = QFontMetricsF(font)
        painter.setFont(font)
        painter.setPen(colour)
        elided = metrics.elidedText(text, Qt.TextElideMode.ElideRight, inner.width())
        line = QRectF(inner.left(), y, inner.width(), metrics.height())
        painter.drawText(line, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, elided)
        return y + metrics.height()

    @staticmethod
    def _draw_badge(painter: QPainter, inner: QRectF, y: float) -> float:
        font = _font(15, bold=True)
        metrics = QFontMetricsF(font)
        text = "◆ ROOT CAUSE?"
        badge = QRectF(
            inner.left() - 4, y + 1, metrics.horizontalAdvance(text) + 12, metrics.height() + 2
        )
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(qcolor(ROOT_CAUSE))
        painter.drawRoundedRect(badge, 4, 4)
        painter.setFont(font)
        painter.setPen(QColor("#000000"))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)
        return badge.bottom() + 1


class DependencyEdgeItem(QGraphicsItem):
    """An arrow from a service to one of its dependencies; dashed red when it carries a block."""

    def __init__(self, dependent: ServiceNodeItem, dependency: ServiceNodeItem) -> None:
        super().__init__()
        self.dependent = dependent
        self.dependency = dependency
        self.blocked = False
        self.path = QPainterPath()
        self.setZValue(0)

    def set_route(self, start: QPointF, end: QPointF, bend: float = 0.0) -> None:
        """Run from ``start`` (on the dependent) to ``end`` (on the dependency): straight, or
        arched ``bend`` scene units upward (an edge that skips nodes in its row)."""
        self.prepareGeometryChange()
        path = QPainterPath(start)
        if bend:
            middle = (start + end) / 2
            control = QPointF(middle.x(), min(start.y(), end.y()) - bend)
            path.quadTo(control, end)
        else:
            path.lineTo(end)
        self.path = path

    def set_blocked(self, blocked: bool) -> bool:
        """Draw as a block (the dependent is blocked by this dependency); True if it changed."""
        if blocked == self.blocked:
            return False
        self.blocked = blocked
        tip = f"{self.dependent.name} needs {self.dependency.name}"
        self.setToolTip(tip + (f": blocked by {self.dependency.name}" if blocked else ""))
        self.update()
        return True

    def boundingRect(self) -> QRectF:
        return self.path.boundingRect().adjusted(-16, -16, 16, 16)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if self.blocked:
            colour = qcolor(BLOCKED_EDGE)
            pen = QPen(colour, 4, Qt.PenStyle.DashLine)
            pen.setDashPattern([3, 2])
            head = 18.0
        else:
            colour = qcolor(TEXT_DIM, 200)
            pen = QPen(colour, 2)
            head = 14.0
        end = self.path.currentPosition()
        tangent_from = self.path.pointAtPercent(max(0.0, 1 - head / max(self.path.length(), 1)))
        line = end - tangent_from
        length = max(1e-6, (line.x() ** 2 + line.y() ** 2) ** 0.5)
        unit = QPointF(line.x() / length, line.y() / length)
        normal = QPointF(-unit.y(), unit.x())
        base = end - unit * head
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        shaft = self.path
        if self.path.elementCount() == 2:  # straight: end the dashes where the arrowhead starts
            first = self.path.elementAt(0)
            shaft = QPainterPath(QPointF(first.x, first.y))
            shaft.lineTo(base)
        painter.drawPath(shaft)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawPolygon(
            QPolygonF([end, base + normal * (head * 0.55), base - normal * (head * 0.55)])
        )


class StatusGraphView(QGraphicsView):
    """The services and their dependencies, coloured, shaped and labelled by health."""

    #: The item drawn per service; a subclass may draw its nodes differently (the wall's nodes
    #: carry fewer, larger words).
    node_item_class: type[ServiceNodeItem] = ServiceNodeItem

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setBackgroundBrush(qcolor(BACKGROUND))
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setMinimumSize(320, 180)
        self.node_items: dict[str, ServiceNodeItem] = {}
        self.edge_items: dict[tuple[str, str], DependencyEdgeItem] = {}
        #: Callbacks that add entries to a node's context menu: ``provider(service_id, menu)``
        #: (the guarded actions add theirs; a read-only session adds none).
        self.node_menu_providers: list[Callable[[str, QMenu], None]] = []
        self.context_menu: QMenu | None = None
        self._build()
        self.show_health(session.health)

    # -- building ---------------------------------------------------------------------------------

    def _build(self) -> None:
        workspace = self.session.workspace
        scene = self.scene()
        for sid, (column, row) in graph_cells(workspace).items():
            service = workspace.services[sid]
            node = self.node_item_class(
                sid, service.name, SERVICE_KIND_LABELS.get(service.kind, service.kind)
            )
            node.setPos(column * COLUMN_PITCH, row * ROW_PITCH)
            scene.addItem(node)
            self.node_items[sid] = node
        for sid, service in workspace.services.items():
            for dep in service.depends_on:
                edge = DependencyEdgeItem(self.node_items[sid], self.node_items[dep])
                scene.addItem(edge)
                self.edge_items[(sid, dep)] = edge
        self._route_edges()
        bounds = scene.itemsBoundingRect().adjusted(
            -SCENE_MARGIN, -SCENE_MARGIN, SCENE_MARGIN, SCENE_MARGIN
        )
        scene.setSceneRect(bounds)

    def _route_edges(self) -> None:
        """Attach each edge to the sides facing the other end: left to right within a row,
        bottom to top (or top to bottom) between rows. Edges sharing a side are spread along it,
        ordered by where their other end is, so they do not cross at the node."""
        ports: dict[tuple[str, str], list[tuple[DependencyEdgeItem, bool]]] = {}
        for (sid, dep), edge in self.edge_items.items():
            a, b = edge.dependent.pos(), edge.dependency.pos()
            if abs(a.y() - b.y()) < 1:
                sides = ("left", "right")
            elif b.y() > a.y():
                sides = ("bottom", "top")
            else:
                sides = ("top", "bottom")
            ports.setdefault((sid, sides[0]), []).append((edge, True))
            ports.setdefault((dep, sides[1]), []).append((edge, False))

        def other_end(member: tuple[DependencyEdgeItem, bool]) -> QPointF:
            edge, from_dependent = member
            return (edge.dependency if from_dependent else edge.dependent).pos()

        points: dict[tuple[DependencyEdgeItem, bool], QPointF] = {}
        for (sid, side), members in ports.items():
            centre = self.node_items[sid].pos()
            horizontal = side in ("top", "bottom")
            members.sort(key=lambda m: other_end(m).x() if horizontal else other_end(m).y())
            count = len(members)
            for index, member in enumerate(members):
                fraction = (index + 1) / (count + 1) - 0.5
                if horizontal:
                    y = centre.y() + (NODE_HEIGHT / 2 if side == "bottom" else -NODE_HEIGHT / 2)
                    points[member] = QPointF(centre.x() + fraction * NODE_WIDTH * 0.8, y)
                else:
                    x = centre.x() + (NODE_WIDTH / 2 if side == "right" else -NODE_WIDTH / 2)
                    points[member] = QPointF(x, centre.y() + fraction * NODE_HEIGHT * 0.6)
        for edge in self.edge_items.values():
            start, end = points[(edge, True)], points[(edge, False)]
            skips = abs(start.y() - end.y()) < 1 and abs(start.x() - end.x()) > COLUMN_PITCH
            edge.set_route(start, end, bend=NODE_HEIGHT * 2.2 if skips else 0.0)

    # -- updates ----------------------------------------------------------------------------------

    def on_session_update(self, update: SessionUpdate) -> None:
        """Re-read the health after a drain; nodes and edges repaint only if their look changed."""
        self.show_health(self.session.health)

    def show_health(self, health: HealthReport) -> None:
        """Show ``health`` on every node and edge."""
        workspace = self.session.workspace
        for sid, node in self.node_items.items():
            node.set_look(node_look(workspace, health, sid))
        for (sid, dep), edge in self.edge_items.items():
            edge.set_blocked(dep in health.services[sid].blocked_by)

    # -- fitting ----------------------------------------------------------------------------------

    def fit_scene(self) -> None:
        """Scale the whole graph into the view, never magnifying beyond ``MAX_SCALE``."""
        rect = self.sceneRect()
        viewport = self.viewport().rect()
        if rect.isEmpty() or viewport.isEmpty():
            return
        scale = min(viewport.width() / rect.width(), viewport.height() / rect.height(), MAX_SCALE)
        self.setTransform(QTransform.fromScale(scale, scale))
        self.centerOn(rect.center())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit_scene()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.fit_scene()

    # -- context menu -----------------------------------------------------------------------------

    def node_menu(self, service_id: str) -> QMenu | None:
        """The context menu of ``service_id``'s node, or None when no provider adds anything."""
        menu = QMenu(self)
        menu.setTitle(self.session.workspace.services[service_id].name)
        for provider in self.node_menu_providers:
            provider(service_id, menu)
        if menu.isEmpty():
            menu.deleteLater()
            return None
        return menu

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        item = self.itemAt(event.pos())
        while item is not None and not isinstance(item, ServiceNodeItem):
            item = item.parentItem()
        menu = self.node_menu(item.service_id) if isinstance(item, ServiceNodeItem) else None
        if menu is None:
            super().contextMenuEvent(event)
            return
        if self.context_menu is not None:
            self.context_menu.deleteLater()
        self.context_menu = menu
        menu.popup(event.globalPos())
