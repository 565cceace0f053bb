"""The tender's workflow as the code defines it.

- ``workflow_graph()``: the states and moves, read from the ``@transition`` methods of ``Tender`` (never
  drawn by hand: add a transition and the diagram, the Mermaid text and the table follow);
- ``workflow_mermaid()`` and ``workflow_diagram()``: the same graph as Mermaid text and as an SVG layout;
- ``tender_actions()``: what one person may do to one tender now (state, rules and the server's clock);
- ``tender_timeline()``: the tender's key dates as a picture, mirrored in Arabic.
"""

from __future__ import annotations

import datetime
import textwrap
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _
from django_fsm import ANY_OTHER_STATE, ANY_STATE, State, can_proceed

from procurement.models import Addendum, Tender
from procurement.models.tenders import AddendumStatus, TenderStatus

# The graph ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkflowEdge:
    source: str
    target: str
    name: str

    @property
    def label(self) -> str:
        return transition_label(self.name)


@dataclass(frozen=True)
class WorkflowGraph:
    states: list[str]
    edges: list[WorkflowEdge]


#: How the moves are called on the page; a transition not listed here is shown by its method name.
TRANSITION_LABELS = {
    "submit_for_approval": _("submit for approval"),
    "approve_and_publish": _("approve and publish"),
    "return_to_draft": _("return with comments"),
    "close": _("close at the deadline"),
    "cancel": _("cancel, with a reason"),
    "mark_unsuccessful": _("declare unsuccessful"),
}


def transition_label(name: str) -> str:
    return str(TRANSITION_LABELS.get(name) or name.replace("_", " "))


def state_label(state: str) -> str:
    try:
        return str(TenderStatus(state).label)
    except ValueError:
        return state


def _sources(source, states: list[str], target) -> list[str]:
    if source == ANY_STATE:
        return list(states)
    if source == ANY_OTHER_STATE:
        return [state for state in states if state != target]
    return [source]


def _targets(target, source: str, states: list[str]) -> list[str]:
    if target is None:  # a transition that only checks the state and keeps it
        return [source]
    if isinstance(target, State):  # RETURN_VALUE / GET_STATE: any of its allowed states
        return [str(state) for state in target.allowed_states] or list(states)
    return [target]


def workflow_graph(model: type[Tender] = Tender) -> WorkflowGraph:
    """Every state of the tender's status field and every move its transitions allow.

    Sources given as ``"*"`` (any state) or ``"+"`` (any other state) are expanded to each state.
    """
    status_field = model._meta.get_field("status")
    states = [str(value) for value, _label in status_field.choices]
    edges: list[WorkflowEdge] = []
    for transition in status_field.get_all_transitions(model):
        target = transition.target
        for source in _sources(transition.source, states, target):
            for target_state in _targets(target, str(source), states):
                edge = WorkflowEdge(source=str(source), target=str(target_state), name=transition.name)
                if edge not in edges:
                    edges.append(edge)
    for edge in edges:  # a state named by a transition but missing from the choices is still drawn
        for state in (edge.source, edge.target):
            if state not in states:
                states.append(state)
    edges.sort(key=lambda e: (states.index(e.source), states.index(e.target), e.name))
    return WorkflowGraph(states=states, edges=edges)


def workflow_mermaid(graph: WorkflowGraph | None = None) -> str:
    """The graph as a Mermaid ``stateDiagram-v2``: one line per move, ``source --> target : name``."""
    graph = graph or workflow_graph()
    lines = ["stateDiagram-v2"]
    lines += [f"    {edge.source} --> {edge.target} : {edge.name}" for edge in graph.edges]
    return "\n".join(lines) + "\n"


# The diagram: a layered layout, computed here so that the page needs no script ---------------------

#: Where a tender ends when it does not go the whole way; drawn in a row under the main path.
SIDE_STATES = (TenderStatus.CANCELLED.value, TenderStatus.UNSUCCESSFUL.value)

NODE_WIDTH = 150
NODE_HEIGHT = 52
COLUMN_GAP = 96
MARGIN = 24
SIDE_ROW_GAP = 120  # from the bottom of the main row to the top of the side row
ARC_BASE = 34
ARC_STEP = 22
LINE_HEIGHT = 15


@dataclass
class DiagramNode:
    state: str
    x: float
    y: float
    side: bool
    lines: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return state_label(self.state)

    @property
    def center_x(self) -> float:
        return self.x + NODE_WIDTH / 2

    @property
    def center_y(self) -> float:
        return self.y + NODE_HEIGHT / 2

    @property
    def first_line_y(self) -> float:
        return round(self.center_y - (len(self.lines) - 1) * LINE_HEIGHT / 2 + 5, 1)


@dataclass
class DiagramEdge:
    edge: WorkflowEdge
    path: str
    label_x: float | None = None
    label_y: float | None = None
    label_lines: list[str] = field(default_factory=list)
    label_anchor: str = "middle"


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width=width, break_long_words=False) or [text]


def _arc(x1: float, y1: float, x2: float, y2: float, height: float, *, up: bool) -> str:
    lift = -height if up else height
    return f"M {x1:.1f} {y1:.1f} C {x1:.1f} {y1 + lift:.1f} {x2:.1f} {y2 + lift:.1f} {x2:.1f} {y2:.1f}"


def _curve(x1: float, y1: float, x2: float, y2: float) -> str:
    middle = (y1 + y2) / 2
    return f"M {x1:.1f} {y1:.1f} C {x1:.1f} {middle:.1f} {x2:.1f} {middle:.1f} {x2:.1f} {y2:.1f}"


def workflow_diagram(graph: WorkflowGraph | None = None, *, rtl: bool = False) -> dict:
    """Boxes and arrows for the graph: the main path left to right in one row (right to left in Arabic),
    the side states below it; moves between neighbours are straight arrows, other moves along the row are
    arcs above it, moves into the side row are curves down to it."""
    graph = graph or workflow_graph()
    main_states = [state for state in graph.states if state not in SIDE_STATES]
    side_states = [state for state in graph.states if state in SIDE_STATES]
    column = {state: index for index, state in enumerate(main_states)}

    # Arcs above the row: longer spans fly higher; arcs of equal span are stacked.
    arcs = [
        edge
        for edge in graph.edges
        if edge.source in column and edge.target in column and column[edge.target] != column[edge.source] + 1
    ]
    heights: dict[WorkflowEdge, float] = {}
    used: dict[int, int] = {}
    for edge in sorted(arcs, key=lambda e: abs(column[e.target] - column[e.source])):
        span = abs(column[edge.target] - column[edge.source])
        heights[edge] = ARC_BASE + ARC_STEP * max(span - 1, 0) + 2 * LINE_HEIGHT * used.get(span, 0)
        used[span] = used.get(span, 0) + 1
    top = MARGIN + max(heights.values(), default=0) * 0.75 + (2 * LINE_HEIGHT if heights else 0)

    nodes: dict[str, DiagramNode] = {}
    for state in main_states:
        x = MARGIN + column[state] * (NODE_WIDTH + COLUMN_GAP)
        nodes[state] = DiagramNode(state=state, x=x, y=top, side=False)
    width = MARGIN * 2 + max(len(main_states), 1) * (NODE_WIDTH + COLUMN_GAP) - COLUMN_GAP

    # Each side state sits under the middle of the states that lead to it, without overlapping another.
    side_y = top + NODE_HEIGHT + SIDE_ROW_GAP
    wanted = []
    for state in side_states:
        sources = [nodes[e.source].center_x for e in graph.edges if e.target == state and e.source in nodes]
        center = sum(sources) / len(sources) if sources else width / 2
        wanted.append((center - NODE_WIDTH / 2, state))
    previous_right = MARGIN - COLUMN_GAP
    for x, state in sorted(wanted):
        x = max(x, previous_right + COLUMN_GAP, MARGIN)
        nodes[state] = DiagramNode(state=state, x=x, y=side_y, side=True)
        previous_right = x + NODE_WIDTH
    width = max(width, previous_right + MARGIN)
    height = (side_y + NODE_HEIGHT + 2 * LINE_HEIGHT + MARGIN) if side_states else (top + NODE_HEIGHT + MARGIN)

    for node in nodes.values():
        node.lines = _wrap(node.label, 16)

    edges: list[DiagramEdge] = []
    into: dict[str, list[WorkflowEdge]] = {}
    for edge in graph.edges:
        source, target = nodes[edge.source], nodes[edge.target]
        if edge in heights:
            up = True
            offset = NODE_WIDTH / 6
            x1 = source.center_x + (offset if column[edge.target] >= column[edge.source] else -offset)
            x2 = target.center_x - (offset if column[edge.target] >= column[edge.source] else -offset)
            if edge.source == edge.target:
                x1, x2 = source.center_x + offset, source.center_x - offset
            height_of_arc = heights[edge]
            edges.append(
                DiagramEdge(
                    edge=edge,
                    path=_arc(x1, source.y, x2, target.y, height_of_arc, up=up),
                    label_x=(x1 + x2) / 2,
                    label_y=source.y - height_of_arc * 0.75 - 6 - LINE_HEIGHT,
                    label_lines=_wrap(edge.label, 30),
                )
            )
        elif not source.side and not target.side:  # neighbours on the main row
            y = source.center_y
            edges.append(
                DiagramEdge(
                    edge=edge,
                    path=f"M {source.x + NODE_WIDTH:.1f} {y:.1f} L {target.x:.1f} {y:.1f}",
                    label_x=(source.x + NODE_WIDTH + target.x) / 2,
                    label_y=y + LINE_HEIGHT + 3,
                    label_lines=_wrap(edge.label, 12)[:3],
                )
            )
        else:
            into.setdefault(edge.target, []).append(edge)

    # Curves between the rows end side by side along the target's edge; each move is named once there.
    for target_state, incoming in into.items():
        target = nodes[target_state]
        incoming.sort(key=lambda e: nodes[e.source].center_x)
        for index, edge in enumerate(incoming, start=1):
            source = nodes[edge.source]
            end_x = target.x + NODE_WIDTH * index / (len(incoming) + 1)
            if target.y > source.y:
                path = _curve(source.center_x, source.y + NODE_HEIGHT, end_x, target.y)
            elif target.y < source.y:
                path = _curve(source.center_x, source.y, end_x, target.y + NODE_HEIGHT)
            else:
                path = _arc(source.center_x, source.y + NODE_HEIGHT, end_x, target.y + NODE_HEIGHT, 40, up=False)
            edges.append(DiagramEdge(edge=edge, path=path))
        names = list(dict.fromkeys(transition_label(e.name) for e in incoming))
        below = target.y > min(nodes[e.source].y for e in incoming)
        edges[-1].label_x = target.center_x
        edges[-1].label_y = target.y + NODE_HEIGHT + LINE_HEIGHT + 2 if below else target.y - 8
        edges[-1].label_lines = [", ".join(names)]

    if rtl:
        _mirror(nodes, edges, width)
    return {
        "nodes": list(nodes.values()),
        "edges": edges,
        "width": round(width),
        "height": round(height),
        "node_width": NODE_WIDTH,
        "node_height": NODE_HEIGHT,
        "line_height": LINE_HEIGHT,
        "text_direction": "rtl" if rtl else "ltr",
    }


def _mirror(nodes: dict[str, DiagramNode], edges: list[DiagramEdge], width: float) -> None:
    """Right to left: every x becomes ``width - x`` (arrow heads follow their paths)."""
    for node in nodes.values():
        node.x = width - node.x - NODE_WIDTH
    for edge in edges:
        parts = edge.path.split()
        mirrored, is_x = [], True
        for part in parts:
            if part.isalpha():
                mirrored.append(part)
                is_x = True
                continue
            mirrored.append(f"{width - float(part):.1f}" if is_x else part)
            is_x = not is_x
        edge.path = " ".join(mirrored)
        if edge.label_x is not None:
            edge.label_x = width - edge.label_x


# What one person may do to one tender now -------------------------------------------------------------


@dataclass(frozen=True)
class TenderActions:
    edit: bool = False
    add_document: bool = False
    submit: bool = False
    approve: bool = False
    return_to_draft: bool = False
    close: bool = False
    cancel: bool = False
    mark_unsuccessful: bool = False
    add_addendum: bool = False
    answer_questions: bool = False

    @property
    def any_transition(self) -> bool:
        return any((self.submit, self.approve, self.return_to_draft, self.close, self.cancel, self.mark_unsuccessful))


def tender_actions(tender: Tender, user, now: datetime.datetime) -> TenderActions:
    """The actions to offer: the state machine allows the move, the rules allow this person, and the
    server's clock allows it now. The services check all of it again when the action is taken."""

    def allowed(transition, permission: str) -> bool:
        return can_proceed(transition) and user.has_perm(permission, tender)

    is_draft = tender.status == TenderStatus.DRAFT
    open_for_bids = tender.is_open_for_bids(now)
    may_change = user.has_perm("procurement.change_tender", tender)
    return TenderActions(
        edit=is_draft and may_change,
        add_document=is_draft and may_change,
        submit=allowed(tender.submit_for_approval, "procurement.submit_tender"),
        approve=allowed(tender.approve_and_publish, "procurement.approve_tender"),
        return_to_draft=allowed(tender.return_to_draft, "procurement.approve_tender"),
        close=tender.submission_deadline_passed(now) and allowed(tender.close, "procurement.close_tender"),
        cancel=allowed(tender.cancel, "procurement.cancel_tender"),
        mark_unsuccessful=allowed(tender.mark_unsuccessful, "procurement.mark_unsuccessful_tender"),
        add_addendum=open_for_bids and user.has_perm("procurement.add_addendum", tender),
        answer_questions=open_for_bids and user.has_perm("procurement.answer_clarification", tender),
    )


def addendum_can_be_approved(addendum: Addendum, user) -> bool:
    return (
        addendum.status == AddendumStatus.PENDING_APPROVAL
        and can_proceed(addendum.issue)
        and user.has_perm("procurement.approve_addendum", addendum)
    )


# The tender's timeline ------------------------------------------------------------------------------

TIMELINE_WIDTH = 1000
TIMELINE_MARGIN = 40
TIMELINE_ROW = 26


def _text_anchor(text_goes_right: bool, rtl: bool) -> str:
    """SVG text-anchor for text that should extend to the right (or left) of its x.

    Right-to-left text (direction="rtl") starts on its right, so the anchor names swap."""
    if rtl:
        return "end" if text_goes_right else "start"
    return "start" if text_goes_right else "end"


def tender_timeline(tender: Tender, *, now: datetime.datetime, rtl: bool) -> dict:
    """Publication, the clarification and submission deadlines and the opening on one time axis, with
    a marker for now. Each date has its own row of text, so that close dates never overwrite each other."""
    points = []
    if tender.published_at:
        points.append(("publication", _("Publication"), tender.published_at))
    points += [
        ("clarification", _("Clarification deadline"), tender.clarification_deadline),
        ("submission", _("Submission deadline"), tender.submission_deadline),
        ("opening", _("Bid opening"), tender.opening_time),
    ]
    moments = [when for _key, _label, when in points] + [now]
    start, end = min(moments), max(moments)
    span = max((end - start).total_seconds(), 1)

    def x_of(when: datetime.datetime) -> float:
        x = (when - start).total_seconds() / span * TIMELINE_WIDTH
        return round(TIMELINE_WIDTH - x if rtl else x, 1)

    markers = []
    for index, (key, label, when) in enumerate(points):
        x = x_of(when)
        # The text runs towards the side with more room.
        goes_right = x <= TIMELINE_WIDTH / 2
        markers.append(
            {
                "key": key,
                "label": label,
                "when": when,
                "passed": when <= now,
                "x": x,
                "label_x": round(x + 6 if goes_right else x - 6, 1),
                "label_y": 20 + index * TIMELINE_ROW,
                "anchor": _text_anchor(goes_right, rtl),
            }
        )
    axis_y = 20 + len(points) * TIMELINE_ROW
    return {
        "markers": markers,
        "now_x": x_of(now),
        "now": now,
        "axis_y": axis_y,
        "width": TIMELINE_WIDTH,
        "margin": TIMELINE_MARGIN,
        "height": axis_y + 30,
        "text_direction": "rtl" if rtl else "ltr",
    }
