"""What the chart scripts here share: axis rounding and a panel of lines on a log x axis.

Standard library only. Each script reads its results file with `read_results` and calls `panel`
once per panel.
"""
import csv
import math
import os
import sys

PW, PH, L, R, T, B, GAP = 420, 300, 70, 20, 50, 50, 60


def read_results(name):
    """The rows of a results file, the file, and where to write the chart.

    The file is argv[1], else NAME.tsv beside the scripts (lines starting with '#' skipped); the
    chart is argv[2], else NAME.svg beside them.
    """
    here = os.path.dirname(os.path.abspath(__file__))
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, name + ".tsv")
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, name + ".svg")
    with open(src, newline="") as f:
        rows = list(csv.DictReader((line for line in f if not line.startswith("#")),
                                   delimiter="\t"))
    return rows, src, out


def nice(v):
    """The smallest 1, 2 or 5 times a power of ten that is at least v (1 for v <= 0)."""
    if v <= 0:
        return 1
    p = 10 ** math.floor(math.log10(v))
    return next(m * p for m in (1, 2, 5, 10) if m * p >= v)


def panel(x0, title, xlabel, series, colors, index, tick="{:,.0f}", dashed=lambda name: False,
          label=None):
    """SVG parts of one panel: the value at `index` of each point (x first) of each named series
    against x on a log scale; `label(point)`, when given, is written above each point."""
    hi = nice(max(p[index] for points in series.values() for p in points))
    xs = sorted({p[0] for points in series.values() for p in points})
    lo_c, hi_c = min(xs), max(xs)
    span = math.log(hi_c / lo_c) if hi_c > lo_c else 1

    def x(c):
        return x0 + L + PW * (math.log(c / lo_c) / span if hi_c > lo_c else 0.5)

    def y(v):
        return T + PH * (1 - v / hi)

    parts = [f'<text x="{x0 + L}" y="{T - 14}" font-size="13">{title}</text>']
    for i in range(6):
        gy = y(hi * i / 5)
        parts.append(f'<line x1="{x0 + L}" x2="{x0 + L + PW}" y1="{gy:.1f}" y2="{gy:.1f}" '
                     'stroke="#ddd"/>')
        parts.append(f'<text x="{x0 + L - 6}" y="{gy + 4:.1f}" text-anchor="end">'
                     f'{tick.format(hi * i / 5)}</text>')
    for c in xs:
        parts.append(f'<text x="{x(c):.1f}" y="{T + PH + 18}" text-anchor="middle">{c}</text>')
    parts.append(f'<text x="{x0 + L + PW / 2}" y="{T + PH + 38}" text-anchor="middle">'
                 f'{xlabel}</text>')
    for color, (name, points) in zip(colors, series.items()):
        dash = ' stroke-dasharray="5,3"' if dashed(name) else ""
        path = " ".join(f'{"M" if i == 0 else "L"}{x(p[0]):.1f},{y(p[index]):.1f}'
                        for i, p in enumerate(points))
        parts.append(f'<path d="{path}" fill="none" stroke="{color}" stroke-width="2"{dash}/>')
        for p in points:
            parts.append(f'<circle cx="{x(p[0]):.1f}" cy="{y(p[index]):.1f}" r="3" '
                         f'fill="{color}"/>')
            text = label(p) if label else ""
            if text:
                parts.append(f'<text x="{x(p[0]):.1f}" y="{y(p[index]) - 8:.1f}" '
                             f'text-anchor="middle" font-size="10" fill="{color}">{text}</text>')
    return parts


def legend(series, colors, top, dashed=lambda name: False, per_row=1, width=300):
    """SVG parts of a legend below the panels, `per_row` names to a row."""
    parts = []
    for i, (color, name) in enumerate(zip(colors, series)):
        lx = L + (i % per_row) * width
        ly = top + 14 + 24 * (i // per_row)
        dash = ' stroke-dasharray="5,3"' if dashed(name) else ""
        parts.append(f'<line x1="{lx}" x2="{lx + 28}" y1="{ly - 4}" y2="{ly - 4}" '
                     f'stroke="{color}" stroke-width="2"{dash}/>')
        parts.append(f'<text x="{lx + 36}" y="{ly}">{name}</text>')
    return parts
