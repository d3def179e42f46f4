#!/usr/bin/env python3
"""Draws docs/charts/http-predict.svg from an HttpPredictBench results file.

    python3 docs/charts/http_predict_chart.py [RESULTS.tsv] [OUT.svg]

Defaults: docs/charts/http-predict.tsv (a copy of benchmarks/results/http.tsv from the run quoted
in docs/performance.md) and docs/charts/http-predict.svg. Standard library only. Two panels
against connections (log scale): requests per second, and p99 latency, one line per server and
transport (median round of each configuration).
"""
import csv
import math
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "http-predict.tsv")
out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "http-predict.svg")

with open(src, newline="") as f:
    rows = list(csv.DictReader((line for line in f if not line.startswith("#")), delimiter="\t"))

series = {}
for r in rows:
    key = f'{r["server"]} {r["transport"]}'
    series.setdefault(key, []).append(
        (int(r["connections"]), float(r["rps"]), float(r["p99_us"])))
for points in series.values():
    points.sort()
connections = sorted({p[0] for points in series.values() for p in points})

COLORS = ["#1f77b4", "#aec7e8", "#d62728", "#ff9896", "#2ca02c", "#98df8a", "#9467bd", "#c5b0d5"]
PW, PH, L, R, T, B, GAP = 420, 300, 70, 20, 50, 50, 60
W = 2 * (L + PW + R) + GAP
H = T + PH + B + 24 * ((len(series) + 1) // 2) + 10


def nice(v):
    """The smallest 1, 2 or 5 times a power of ten that is at least v."""
    if v <= 0:
        return 1
    p = 10 ** math.floor(math.log10(v))
    return next(m * p for m in (1, 2, 5, 10) if m * p >= v)


def panel(x0, title, unit, index):
    hi = nice(max(p[index] for points in series.values() for p in points))
    lo_c, hi_c = min(connections), max(connections)
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
                     f'{hi * i / 5:,.0f}</text>')
    for c in connections:
        parts.append(f'<text x="{x(c):.1f}" y="{T + PH + 18}" text-anchor="middle">{c}</text>')
    parts.append(f'<text x="{x0 + L + PW / 2}" y="{T + PH + 38}" text-anchor="middle">'
                 f'connections (log); {unit}</text>')
    for color, (name, points) in zip(COLORS, series.items()):
        dash = ' stroke-dasharray="5,3"' if name.endswith("uds") else ""
        path = " ".join(f'{"M" if i == 0 else "L"}{x(p[0]):.1f},{y(p[index]):.1f}'
                        for i, p in enumerate(points))
        parts.append(f'<path d="{path}" fill="none" stroke="{color}" stroke-width="2"{dash}/>')
        for p in points:
            parts.append(f'<circle cx="{x(p[0]):.1f}" cy="{y(p[index]):.1f}" r="3" '
                         f'fill="{color}"/>')
    return parts


svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
       'font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       '<text x="10" y="20" font-size="14">HttpPredictBench: tiny ONNX MLP through the adapter '
       'and a bare Jetty handler (median rounds)</text>']
svg += panel(0, "requests per second", "req/s", 1)
svg += panel(L + PW + R + GAP, "p99 latency", "µs", 2)
for i, (color, name) in enumerate(zip(COLORS, series)):
    lx = L + (i % 2) * 300
    ly = T + PH + B + 14 + 24 * (i // 2)
    dash = ' stroke-dasharray="5,3"' if name.endswith("uds") else ""
    svg.append(f'<line x1="{lx}" x2="{lx + 28}" y1="{ly - 4}" y2="{ly - 4}" stroke="{color}" '
               f'stroke-width="2"{dash}/>')
    svg.append(f'<text x="{lx + 36}" y="{ly}">{name}</text>')
svg.append("</svg>")

with open(out, "w") as f:
    f.write("\n".join(svg) + "\n")
print(f"wrote {out} from {src} ({len(rows)} rows)")
