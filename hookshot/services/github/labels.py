"""GitHub label chips, as hookshot's `formatLabels` (`src/format_util.rs`) draws them.

Plain text is the names joined by ", "; HTML is one `<span>` per label, joined by spaces:
`<span data-mx-bg-color="#d73a4a" data-mx-color="#000000" title="…">bug</span>`, the text
colour black when the label colour contrasts with black by more than 4.5 (WCAG ratio), else
white. Where hookshot errs we differ (marked below).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

BLACK: Final = "#000000"
WHITE: Final = "#FFFFFF"
MIN_CONTRAST_WITH_BLACK: Final = 4.5
_HEX_COLOUR: Final = re.compile(r"[0-9A-Fa-f]{6}|[0-9A-Fa-f]{3}")


@dataclass(frozen=True, slots=True)
class FormattedLabels:
    """A label list as plain text and as HTML chips ("" for both when there are none)."""

    plain: str
    html: str


def format_labels(labels: Iterable[object]) -> FormattedLabels:
    """Label objects from a payload (`name`, `color`, `description`) as text and chips."""
    names: list[str] = []
    chips: list[str] = []
    for label in labels:
        if not isinstance(label, Mapping) or not isinstance(label.get("name"), str):
            continue
        name: str = label["name"]
        names.append(name)
        chips.append(
            label_chip(name, _truthy_text(label, "color"), _truthy_text(label, "description"))
        )
    return FormattedLabels(plain=", ".join(names), html=" ".join(chips))


def label_chip(name: str, colour: str | None = None, description: str | None = None) -> str:
    """One label as hookshot's coloured `<span>`.

    Ours, not hookshot's: name and description are HTML-escaped (hookshot inserts them raw); the
    text colour uses all three channels (hookshot's parser keeps only the last one, so e.g. a
    light purple label gets white text); 3-digit colours are expanded as CSS does; a leading
    "#" is not doubled; an unparsable colour drops the colour attributes (hookshot throws and the
    whole notice is lost).
    """
    attributes = ""
    rgb = parse_colour(colour) if colour else None
    if colour and rgb:
        attributes += f' data-mx-bg-color="#{colour.removeprefix("#")}"'
        attributes += f' data-mx-color="{text_colour(rgb)}"'
    if description:
        attributes += f' title="{escape_html(description)}"'
    return f"<span{attributes}>{escape_html(name)}</span>"


def parse_colour(colour: str) -> tuple[int, int, int] | None:
    """`rrggbb` or `rgb` (optionally after "#") as 0-255 channels; None when it is neither."""
    digits = colour.removeprefix("#")
    if not _HEX_COLOUR.fullmatch(digits):
        return None
    if len(digits) == 3:
        digits = "".join(digit * 2 for digit in digits)
    red, green, blue = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
    return red, green, blue


def text_colour(rgb: tuple[int, int, int]) -> str:
    """Black text when the background contrasts with black by more than 4.5, else white."""
    # Contrast with black is (L + 0.05) / 0.05, as the Rust `contrast` crate computes it.
    ratio = (relative_luminance(rgb) + 0.05) / 0.05
    return BLACK if ratio > MIN_CONTRAST_WITH_BLACK else WHITE


def relative_luminance(rgb: tuple[int, int, int]) -> float:
    """WCAG 2 relative luminance of an sRGB colour (0 black, 1 white)."""
    red, green, blue = (_linear(channel / 255) for channel in rgb)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def escape_html(text: str) -> str:
    """Escape `&`, `<`, `>` and `"` as markdown-it's escapeHtml does."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _linear(value: float) -> float:
    # The crate's threshold test is `< 0.03928` (WCAG 2.0's constant).
    return value / 12.92 if value < 0.03928 else ((value + 0.055) / 1.055) ** 2.4


def _truthy_text(label: Mapping[str, object], key: str) -> str | None:
    # hookshot passes `l.color || undefined`: "" and null both mean "absent".
    value = label.get(key)
    return value if isinstance(value, str) and value else None
