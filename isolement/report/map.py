"""The map: the inventory's sites and the links between them, each link drawn by its state.

Hand-written SVG, one self-contained file (no dependency, no script, no font to fetch). Each
state has its own dash pattern, its own mark at mid-link and its word in the label, so the map
reads the same printed in black and white; colour only repeats what the pattern says.

Sites stand on a circle; a link between two sites is a chord (parallel links bend apart); a
link with one end (an internet exit, a partner line) is a short spoke outwards to a small
node named by its kind. A link inside one site is not drawn (it joins the site to nothing).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from xml.sax.saxutils import escape

from isolement.model.inventory import Inventory


@dataclass(frozen=True)
class LinkStyle:
    word: str  # the label's state word
    colour: str
    width: float
    dash: str  # SVG stroke-dasharray ("" solid)
    mark: str  # at mid-link: "cross", "bar", "ring", "query", "dot", ""
    meaning: str  # the legend's line


STYLES: dict[str, LinkStyle] = {
    "cut": LinkStyle("CUT", "#1a7f37", 3, "10 6", "cross", "cut at one end or more, read now"),
    "partial": LinkStyle(
        "PARTIAL", "#9a6700", 3, "10 4 2 4", "bar", "cut at some ends: traffic stopped"
    ),
    "open": LinkStyle("OPEN", "#cf222e", 5, "", "", "open, read now"),
    "reopened": LinkStyle("REOPENED", "#cf222e", 5, "2 3", "ring", "was seen cut, read open now"),
    "unknown": LinkStyle("UNKNOWN", "#57606a", 2, "1 5", "query", "not read in this run"),
    "protected": LinkStyle("PROTECTED", "#0550ae", 6, "", "dot", "protected flow: never cut"),
    "not-read": LinkStyle("not targeted", "#8c959f", 1, "4 4", "", "not targeted, not read"),
}

WIDTH, HEIGHT = 1400, 1200
_LEGEND_H = 190
_SITE_W, _SITE_H = 150, 64


def _xy(cx: float, cy: float, rx: float, ry: float, angle: float) -> tuple[float, float]:
    return cx + rx * math.cos(angle), cy + ry * math.sin(angle)


def _mark(kind: str, x: float, y: float, style: LinkStyle) -> str:
    c = style.colour
    if kind == "cross":
        d = 9
        return (
            f'<path d="M{x - d:.1f},{y - d:.1f} L{x + d:.1f},{y + d:.1f} M{x - d:.1f},'
            f'{y + d:.1f} L{x + d:.1f},{y - d:.1f}" stroke="{c}" stroke-width="4"/>'
        )
    if kind == "bar":
        return f'<rect x="{x - 3:.1f}" y="{y - 11:.1f}" width="6" height="22" fill="{c}"/>'
    if kind == "ring":
        return (
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="9" fill="#fff" stroke="{c}" stroke-width="3"/>'
        )
    if kind == "query":
        return (
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="11" fill="#fff" stroke="{c}" stroke-width="2"/>'
            f'<text x="{x:.1f}" y="{y + 6:.1f}" font-size="17" font-weight="bold" '
            f'text-anchor="middle" fill="{c}">?</text>'
        )
    if kind == "dot":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7" fill="{c}"/>'
    return ""


def _line(
    name: str, style: LinkStyle, a: tuple[float, float], b: tuple[float, float], bend: float
) -> tuple[str, tuple[float, float]]:
    """The link as a quadratic curve bent `bend` px off the straight line; its midpoint."""
    (x1, y1), (x2, y2) = a, b
    mx, my = (x1 + x2) / 2, (y1 + y2) / 2
    length = math.hypot(x2 - x1, y2 - y1) or 1
    nx, ny = -(y2 - y1) / length, (x2 - x1) / length
    qx, qy = mx + nx * bend * 2, my + ny * bend * 2
    mid = (mx + nx * bend, my + ny * bend)  # the curve's midpoint (t = 1/2)
    dash = f' stroke-dasharray="{style.dash}"' if style.dash else ""
    path = f"M{x1:.1f},{y1:.1f} Q{qx:.1f},{qy:.1f} {x2:.1f},{y2:.1f}"
    body = ""
    if style.word == "PROTECTED":  # a double line: still reads as "protected" in grey
        body = (
            f'<path d="{path}" fill="none" stroke="{style.colour}" stroke-width="8"/>'
            f'<path d="{path}" fill="none" stroke="#fff" stroke-width="3"/>'
        )
    else:
        body = (
            f'<path d="{path}" fill="none" stroke="{style.colour}" '
            f'stroke-width="{style.width}"{dash}/>'
        )
    return f'<g class="link" data-link="{escape(name)}">{body}</g>', mid


def _label_width(text: str) -> float:
    return 8.2 * len(text) + 12


def _label(text: str, x: float, y: float, style: LinkStyle) -> str:
    """The label centred on (x, y)."""
    w = _label_width(text)
    return (
        f'<rect x="{x - w / 2:.1f}" y="{y - 11:.1f}" width="{w:.1f}" height="22" rx="4" '
        f'fill="#fff" stroke="{style.colour}" stroke-width="1"/>'
        f'<text x="{x:.1f}" y="{y + 5:.1f}" font-size="14" text-anchor="middle" '
        f'fill="#000">{escape(text)}</text>'
    )


def draw_map(
    inventory: Inventory, states: Mapping[str, str], *, title: str, subtitle: str = ""
) -> str:
    """The SVG of the inventory's sites and links; `states` maps a link to a key of STYLES
    (a link not in it is drawn "not targeted"; a protected link is drawn protected)."""
    protected = {link for p in inventory.protected.values() for link in p.links}
    sites = sorted(inventory.sites)
    # An ellipse, wider than tall like the page; room outside it for the one-ended spokes.
    cx, cy = WIDTH / 2, (HEIGHT - _LEGEND_H) / 2 + 45  # below the title band
    rx, ry = WIDTH / 2 - 300, (HEIGHT - _LEGEND_H) / 2 - 250
    angle = {s: -math.pi / 2 + 2 * math.pi * n / max(1, len(sites)) for n, s in enumerate(sites)}
    where = {s: _xy(cx, cy, rx, ry, a) for s, a in angle.items()}
    chords: dict[tuple[str, str], list[str]] = {}
    spokes: dict[str, list[str]] = {}
    for name in sorted(inventory.links):
        link = inventory.links[name]
        ends = sorted({inventory.devices[e.device].site for e in link.endpoints})
        if len(ends) == 2:
            chords.setdefault((ends[0], ends[1]), []).append(name)
        elif len(link.endpoints) == 1:
            spokes.setdefault(ends[0], []).append(name)

    def style_of(name: str) -> LinkStyle:
        if name in protected:
            return STYLES["protected"]
        return STYLES.get(states.get(name, "not-read"), STYLES["not-read"])

    lines: list[str] = []
    labels: list[str] = []
    for (a, b), names in chords.items():
        for n, name in enumerate(names):
            bend = (n - (len(names) - 1) / 2) * 70
            style = style_of(name)
            body, (mx, my) = _line(name, style, where[a], where[b], bend)
            lines += [body, _mark(style.mark, mx, my, style)]
            labels.append(_label(f"{name} · {style.word}", mx, my + 23, style))
    nodes: list[str] = []
    for site, names in spokes.items():
        for n, name in enumerate(names):
            spread = (n - (len(names) - 1) / 2) * 0.32
            theta = angle[site] + spread
            # From under the site's box out to the node of its kind; mark and label on the
            # part outside the box.
            sx, sy = where[site]
            ex, ey = sx + 190 * math.cos(theta), sy + 150 * math.sin(theta)
            style = style_of(name)
            body, _ = _line(name, style, (sx, sy), (ex, ey), 0)
            mx, my = sx + 0.62 * (ex - sx), sy + 0.62 * (ey - sy)
            lines += [body, _mark(style.mark, mx, my, style)]
            # The label beyond the node, on the side away from the map.
            text = f"{name} · {style.word}"
            lx = ex + math.cos(theta) * (_label_width(text) / 2 + 44)
            ly = ey + math.sin(theta) * 30
            labels.append(_label(text, lx, ly, style))
            kind = str(inventory.links[name].kind)
            nodes.append(
                f'<ellipse cx="{ex:.1f}" cy="{ey:.1f}" rx="38" ry="15" fill="#f6f8fa" '
                f'stroke="#000" stroke-dasharray="3 2"/>'
                f'<text x="{ex:.1f}" y="{ey + 5:.1f}" font-size="12" text-anchor="middle">'
                f"{escape(kind)}</text>"
            )
    boxes = []
    for site in sites:
        x, y = where[site]
        count = sum(1 for d in inventory.devices.values() if d.site == site)
        boxes.append(
            f'<g class="site"><rect x="{x - _SITE_W / 2:.1f}" y="{y - _SITE_H / 2:.1f}" '
            f'width="{_SITE_W}" height="{_SITE_H}" rx="8" fill="#fff" stroke="#000" '
            f'stroke-width="2.5"/><text x="{x:.1f}" y="{y - 4:.1f}" font-size="22" '
            f'font-weight="bold" text-anchor="middle">{escape(site)}</text>'
            f'<text x="{x:.1f}" y="{y + 20:.1f}" font-size="13" text-anchor="middle">'
            f"{count} device{'s' if count != 1 else ''}</text></g>"
        )
    head = (
        f'<text x="30" y="42" font-size="26" font-weight="bold">{escape(title)}</text>'
        f'<text x="30" y="70" font-size="15">{escape(subtitle)}</text>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="DejaVu Sans, Arial, sans-serif">'
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>'
        + head
        + "".join(lines)
        + "".join(nodes)
        + "".join(boxes)
        + "".join(labels)
        + _legend(set(states.values()) | ({"protected"} if protected else set()))
        + "</svg>\n"
    )


def _legend(used: set[str]) -> str:
    """Every state (those on this map first), its pattern, mark and meaning."""
    top = HEIGHT - _LEGEND_H + 20
    parts = [
        f'<rect x="20" y="{top - 10}" width="{WIDTH - 40}" height="{_LEGEND_H - 20}" '
        'fill="#fff" stroke="#000"/>',
        f'<text x="40" y="{top + 18}" font-size="17" font-weight="bold">Legend</text>',
    ]
    order = sorted(STYLES, key=lambda k: (k not in used, list(STYLES).index(k)))
    for n, key in enumerate(order):
        style = STYLES[key]
        col, row = n % 2, n // 2
        x, y = 40 + col * 670, top + 48 + row * 34
        body, _ = _line(key, style, (x, y), (x + 120, y), 0)
        parts += [
            body,
            _mark(style.mark, x + 60, y, style),
            f'<text x="{x + 140}" y="{y + 5}" font-size="15"><tspan font-weight="bold">'
            f"{escape(style.word)}</tspan>: {escape(style.meaning)}</text>",
        ]
    return "".join(parts)
