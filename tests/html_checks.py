"""A small HTML checker for the page tests, built on the standard library's ``html.parser``.

``check_page(html)`` reads one page and reports what a screen-reader user depends on: the page's
language and direction, its title, how many main landmarks it has, which form controls have no
accessible name, and a few facts that the tests use to follow links and error summaries.
``form_values(html)`` gives the values a browser would show in each named form control.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser

#: ``<input type=…>`` values that are not fields a person fills in (buttons name themselves).
NOT_FILLED_IN = frozenset({"hidden", "submit", "button", "image", "reset"})
VOID_ELEMENTS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)


@dataclass
class Link:
    href: str
    rel: str
    text: str


@dataclass
class PageReport:
    lang: str | None = None
    dir: str | None = None
    title: str | None = None
    #: ``<main>`` elements plus elements with ``role="main"``.
    main_count: int = 0
    #: Every control a person fills in, as ``<tag name="…">`` (for comparing a form before and after a POST).
    controls: list[str] = field(default_factory=list)
    #: Controls with no accessible name: no ``<label for>``, enclosing label, aria-label, aria-labelledby or title.
    unlabelled_controls: list[str] = field(default_factory=list)
    #: Controls marked ``aria-invalid="true"``.
    invalid_controls: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    #: Ids used by more than one element (a label or an aria reference then points at the wrong one).
    duplicate_ids: list[str] = field(default_factory=list)
    #: ``<label for=…>`` and ``aria-describedby``/``aria-labelledby`` references to ids not on the page.
    dangling_references: list[str] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    #: Whether the page has an error summary (``class="error-summary"`` with ``role="alert"``) and its links.
    has_error_summary: bool = False
    error_summary_links: list[str] = field(default_factory=list)


def _describe(tag: str, attrs: dict[str, str]) -> str:
    return f'<{tag} name="{attrs.get("name", "")}">'


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.report = PageReport()
        self._controls: list[tuple[str, dict[str, str], bool]] = []
        self._label_for: list[str] = []
        self._references: list[str] = []
        self._ids: Counter[str] = Counter()
        self._label_depth = 0
        self._svg_depth = 0
        self._in_title = False
        self._title: list[str] = []
        self._link: Link | None = None
        self._summary_depth = 0  # >0 while inside the error summary's <div>
        self._div_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: (value if value is not None else "") for name, value in attrs}
        if "id" in values:
            self._ids[values["id"]] += 1
        for attribute in ("aria-describedby", "aria-labelledby"):
            self._references.extend(values.get(attribute, "").split())
        if values.get("role") == "main" or tag == "main":
            self.report.main_count += 1

        if tag == "div":
            self._div_depth += 1
            if "error-summary" in values.get("class", "").split() and values.get("role") == "alert":
                self.report.has_error_summary = True
                self._summary_depth = self._div_depth
        elif tag == "svg":
            self._svg_depth += 1
        elif tag == "html":
            self.report.lang = values.get("lang")
            self.report.dir = values.get("dir")
        elif tag == "title" and not self._svg_depth:  # an SVG's <title> names the picture, not the page
            self._in_title = True
        elif tag == "label":
            self._label_depth += 1
            if values.get("for"):
                self._label_for.append(values["for"])
        elif tag == "a" and "href" in values:
            self._link = Link(href=values["href"], rel=values.get("rel", ""), text="")
            if self._summary_depth:
                self.report.error_summary_links.append(values["href"])
        elif (tag == "input" and values.get("type", "text").lower() not in NOT_FILLED_IN) or tag in (
            "select",
            "textarea",
        ):
            self._controls.append((tag, values, self._label_depth > 0))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID_ELEMENTS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self._div_depth:
            if self._summary_depth == self._div_depth:
                self._summary_depth = 0
            self._div_depth -= 1
        elif tag == "label" and self._label_depth:
            self._label_depth -= 1
        elif tag == "svg" and self._svg_depth:
            self._svg_depth -= 1
        elif tag == "title" and self._in_title:
            self._in_title = False
            if self.report.title is None:
                self.report.title = " ".join("".join(self._title).split())
        elif tag == "a" and self._link is not None:
            self._link.text = " ".join(self._link.text.split())
            self.report.links.append(self._link)
            self._link = None

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self._title.append(data)
        if self._link is not None:
            self._link.text += data

    def finish(self) -> PageReport:
        report = self.report
        labelled = set(self._label_for)
        for tag, attrs, inside_label in self._controls:
            described = _describe(tag, attrs)
            report.controls.append(described)
            if attrs.get("aria-invalid") == "true":
                report.invalid_controls.append(attrs.get("name", ""))
            has_name = (
                inside_label
                or (attrs.get("id") and attrs["id"] in labelled)
                or attrs.get("aria-label", "").strip()
                or attrs.get("aria-labelledby", "").strip()
                or attrs.get("title", "").strip()
            )
            if not has_name:
                report.unlabelled_controls.append(described)
        report.ids = set(self._ids)
        report.duplicate_ids = sorted(name for name, count in self._ids.items() if count > 1)
        report.dangling_references = sorted(
            {ref for ref in self._label_for + self._references if ref not in report.ids}
        )
        return report


def check_page(html: str | bytes) -> PageReport:
    """Parse one page and report its language, title, landmarks and form controls' labels."""
    if isinstance(html, bytes):
        html = html.decode("utf-8")
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    return parser.finish()


class _ValueParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.values: dict[str, list[str]] = {}
        self._textarea: str | None = None
        self._text: list[str] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: (value if value is not None else "") for name, value in attrs}
        name = values.get("name")
        if tag == "input" and name:
            kind = values.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in values:
                    self.values.setdefault(name, []).append(values.get("value", "on"))
            elif kind not in ("submit", "button", "image", "reset"):
                self.values.setdefault(name, []).append(values.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []
        elif tag == "select" and name:
            self._select = name
            self.values.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in values:
            self.values[self._select].append(values.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea:
            text = "".join(self._text)
            # Browsers drop one newline right after <textarea>; Django writes one there.
            self.values.setdefault(self._textarea, []).append(text.removeprefix("\n"))
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._text.append(data)


def form_values(html: str | bytes) -> dict[str, list[str]]:
    """What a browser would show in each named control: an input's value, a textarea's text,
    a select's selected options, checked checkboxes and radio buttons."""
    if isinstance(html, bytes):
        html = html.decode("utf-8")
    parser = _ValueParser()
    parser.feed(html)
    parser.close()
    return parser.values
