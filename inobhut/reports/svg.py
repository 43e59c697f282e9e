"""Inline SVG charts for the HTML reports (no JavaScript, no external files).

Belongs here: drawing a :class:`~inobhut.reports.model.ChartSpec` of a table as an accessible
SVG (``role="img"``, ``<title>``, ``<desc>``); colours with at least 3:1 contrast to white and
series also told apart by dash pattern and marker shape. Does not belong here: Excel charts.
"""

from __future__ import annotations

import math
from numbers import Number

from markupsafe import Markup, escape

from .fmt import fmt_dec, fmt_int, fmt_value
from .model import ReportTable

COLORS = ("#1F4E79", "#B45F06", "#38761D", "#7F6000")
DASHES = ("", "7 4", "2 3", "10 3 2 3")
W, H = 720, 320
ML, MR, MT, MB = 64, 16, 16, 56


def _nice_max(v: float) -> tuple[float, float]:
    """Upper axis limit and tick step (1-2-5 steps, about 5 ticks)."""
    if v <= 0:
        return 1.0, 0.2 if v == 0 else 1.0
    raw = v / 5
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        step = m * mag
        if step >= raw:
            break
    step = max(step, 1.0) if v >= 5 else step
    return math.ceil(v / step) * step, step


def _num(v: object) -> float | None:
    if isinstance(v, str):
        return 0.0 if v == "–" else None
    if isinstance(v, Number) and not isinstance(v, bool):
        return float(v)
    return None


def _tick_label(v: float, step: float) -> str:
    return fmt_int(v) if float(step).is_integer() else fmt_dec(v, 1)


def svg_chart(table: ReportTable, uid: str) -> Markup:
    spec = table.chart
    assert spec is not None
    df = table.data
    xs = [fmt_value(v, table.number_formats.get(spec.x)) for v in df[spec.x].tolist()]
    series = [[_num(v) for v in df[c].tolist()] for c in spec.y]
    n = len(xs)
    vals = [v for s in series for v in s if v is not None]
    ymax, step = _nice_max(max(vals, default=0.0))
    pw, ph = W - ML - MR, H - MT - MB

    def y_of(v: float) -> float:
        return MT + ph - (v / ymax) * ph

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" '
        f'aria-labelledby="{uid}-t {uid}-d" class="diagramm">',
        f'<title id="{uid}-t">{escape(spec.title)}</title>',
        f'<desc id="{uid}-d">{escape(spec.alt_text)}</desc>',
    ]
    # grid and y axis
    t = 0.0
    while t <= ymax + 1e-9:
        y = y_of(t)
        out.append(f'<line x1="{ML}" x2="{W - MR}" y1="{y:.1f}" y2="{y:.1f}" class="gitter"/>')
        out.append(f'<text x="{ML - 6}" y="{y + 4:.1f}" text-anchor="end" class="achse">{escape(_tick_label(t, step))}</text>')
        t += step
    out.append(f'<line x1="{ML}" x2="{W - MR}" y1="{MT + ph}" y2="{MT + ph}" class="achslinie"/>')
    # x positions
    slot = pw / max(n, 1)
    xpos = [ML + slot * (i + 0.5) for i in range(n)]
    every = max(1, math.ceil(n / 12))
    for i, label in enumerate(xs):
        if i % every == 0 or i == n - 1 and n <= 12:
            out.append(f'<text x="{xpos[i]:.1f}" y="{MT + ph + 18}" text-anchor="middle" class="achse">{escape(label)}</text>')
    if spec.y_title:
        out.append(f'<text x="14" y="{MT + ph / 2:.1f}" transform="rotate(-90 14 {MT + ph / 2:.1f})" '
                   f'text-anchor="middle" class="achse">{escape(spec.y_title)}</text>')
    if spec.x_title:
        out.append(f'<text x="{ML + pw / 2:.1f}" y="{H - 8}" text-anchor="middle" class="achse">{escape(spec.x_title)}</text>')
    if spec.kind == "bar":
        k = len(series)
        bw = slot * 0.8 / max(k, 1)
        for si, s in enumerate(series):
            color = COLORS[si % len(COLORS)]
            for i, v in enumerate(s):
                if v is None:
                    continue
                x = xpos[i] - slot * 0.4 + si * bw
                y = y_of(v)
                out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bw * 0.92:.1f}" height="{MT + ph - y:.1f}" fill="{color}"/>')
    else:
        for si, s in enumerate(series):
            color = COLORS[si % len(COLORS)]
            dash = DASHES[si % len(DASHES)]
            seg: list[str] = []
            segments = []
            for i, v in enumerate(s):
                if v is None:
                    if seg:
                        segments.append(seg)
                    seg = []
                else:
                    seg.append(f"{xpos[i]:.1f},{y_of(v):.1f}")
            if seg:
                segments.append(seg)
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            for pts in segments:
                out.append(f'<polyline points="{" ".join(pts)}" fill="none" stroke="{color}" stroke-width="2.5"{dash_attr}/>')
            for i, v in enumerate(s):
                if v is None:
                    continue
                x, y = xpos[i], y_of(v)
                if si % 2 == 0:
                    out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color}"/>')
                else:
                    out.append(f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" fill="{color}"/>')
    out.append("</svg>")
    return Markup("".join(out))


def legend(table: ReportTable) -> list[dict]:
    """Legend entries (label, colour, dash) for the HTML below the chart."""
    spec = table.chart
    assert spec is not None
    return [{"label": c, "color": COLORS[i % len(COLORS)], "dash": DASHES[i % len(DASHES)] if spec.kind == "line" else "", "bar": spec.kind == "bar"}
            for i, c in enumerate(spec.y)]
