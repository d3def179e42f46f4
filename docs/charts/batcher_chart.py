#!/usr/bin/env python3
"""Draws docs/charts/batcher.svg from the table benchmarks/run-batcher.sh writes.

    python3 docs/charts/batcher_chart.py [RESULTS.tsv] [OUT.svg]

Defaults: docs/charts/batcher.tsv (a copy of benchmarks/results/batcher.tsv from the run quoted
in docs/performance.md) and docs/charts/batcher.svg. Standard library only. Two panels against
concurrent callers (log scale): calls per second, and p99 latency, one line per batching mode.
"""
import csv
import math
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "batcher.tsv")
out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "batcher.svg")

with open(src, newline="") as f:
    rows = list(csv.DictReader((line for line in f if not line.startswith("#")), delimiter="\t"))

series = {}
for r in rows:
    series.setdefault(r["mode"], []).append(
        (int(r["callers"]), float(r["ops_s"]), float(r["p99_us"]) / 1000,
         r.get("engine_busy") or ""))
for points in series.values():
    points.sort()
callers = sorted({p[0] for points in series.values() for p in points})

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
PW, PH, L, R, T, B, GAP = 420, 300, 70, 20, 50, 50, 60
W = 2 * (L + PW + R) + GAP
H = T + PH + B + 24 * len(series) + 10


def nice(v):
    """The smallest 1, 2 or 5 times a power of ten that is at least v."""
    if v <= 0:
        return 1
    p = 10 ** math.floor(math.log10(v))
    return next(m * p for m in (1, 2, 5, 10) if m * p >= v)


def panel(x0, title, unit, index, label_busy):
    hi = nice(max(p[index] for points in series.values() for p in points))
    lo_c, hi_c = min(callers), max(callers)
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
                     f'{hi * i / 5:,.6g}</text>')
    for c in callers:
        parts.append(f'<text x="{x(c):.1f}" y="{T + PH + 18}" text-anchor="middle">{c}</text>')
    parts.append(f'<text x="{x0 + L + PW / 2}" y="{T + PH + 38}" text-anchor="middle">'
                 f'concurrent callers (log); {unit}</text>')
    for color, (name, points) in zip(COLORS, series.items()):
        path = " ".join(f'{"M" if i == 0 else "L"}{x(p[0]):.1f},{y(p[index]):.1f}'
                        for i, p in enumerate(points))
        parts.append(f'<path d="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        for p in points:
            parts.append(f'<circle cx="{x(p[0]):.1f}" cy="{y(p[index]):.1f}" r="3" '
                         f'fill="{color}"/>')
            if label_busy and p[3]:
                parts.append(f'<text x="{x(p[0]):.1f}" y="{y(p[index]) - 8:.1f}" '
                             f'text-anchor="middle" font-size="10" fill="{color}">{p[3]}</text>')
    return parts


svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
       'font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       '<text x="10" y="20" font-size="14">Dynamic batcher, fake engine 200 µs/call + 20 µs/row: '
       'throughput (labels: engine busy) and p99</text>']
svg += panel(0, "calls per second", "ops/s", 1, True)
svg += panel(L + PW + R + GAP, "p99 latency", "ms", 2, False)
for i, (color, name) in enumerate(zip(COLORS, series)):
    ly = T + PH + B + 14 + 24 * i
    svg.append(f'<line x1="{L}" x2="{L + 28}" y1="{ly - 4}" y2="{ly - 4}" stroke="{color}" '
               'stroke-width="2"/>')
    svg.append(f'<text x="{L + 36}" y="{ly}">{name}</text>')
svg.append("</svg>")

with open(out, "w") as f:
    f.write("\n".join(svg) + "\n")
print(f"wrote {out} from {src} ({len(rows)} rows)")
