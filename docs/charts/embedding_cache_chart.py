#!/usr/bin/env python3
"""Draws docs/charts/embedding-cache.svg from an EmbeddingCacheBench results file.

    python3 docs/charts/embedding_cache_chart.py [RESULTS.tsv] [OUT.svg]

Defaults: docs/charts/embedding-cache.tsv (a copy of benchmarks/results/embedding-cache.tsv from
the run quoted in docs/performance.md) and docs/charts/embedding-cache.svg. Standard library only:
requests/s (log scale) against the share of repeated texts, one line per side and connection count.
"""
import csv
import math
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "embedding-cache.tsv")
out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "embedding-cache.svg")

series = {}
with open(src, newline="") as f:
    for row in csv.DictReader(f, delimiter="\t"):
        key = (row["side"], int(row["connections"]))
        series.setdefault(key, []).append((int(row["repeat_pct"]), float(row["req_per_s"])))

W, H, L, R, T, B = 640, 400, 70, 170, 40, 50
ys = [v for pts in series.values() for _, v in pts]
lo = 10 ** math.floor(math.log10(min(ys)))
hi = 10 ** math.ceil(math.log10(max(ys)))


def x(pct):
    return L + (W - L - R) * pct / 100


def y(v):
    return T + (H - T - B) * (1 - (math.log10(v) - math.log10(lo))
                               / (math.log10(hi) - math.log10(lo)))


svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
       'font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="{L}" y="22" font-size="14">/v1/embeddings, 32 texts a request: '
       'embedding cache on vs off</text>']
decade = lo
while decade <= hi:
    svg.append(f'<line x1="{L}" x2="{W - R}" y1="{y(decade):.1f}" y2="{y(decade):.1f}" '
               'stroke="#ddd"/>')
    svg.append(f'<text x="{L - 8}" y="{y(decade) + 4:.1f}" text-anchor="end">{decade:g}</text>')
    decade *= 10
for pct in (0, 25, 50, 75, 100):
    svg.append(f'<text x="{x(pct):.1f}" y="{H - B + 18}" text-anchor="middle">{pct}%</text>')
svg.append(f'<text x="{(L + W - R) / 2}" y="{H - 12}" text-anchor="middle">'
           'share of texts already cached</text>')
svg.append(f'<text x="18" y="{(T + H - B) / 2}" text-anchor="middle" '
           f'transform="rotate(-90 18 {(T + H - B) / 2})">requests/s (log)</text>')
colours = {"on": "#1f77b4", "off": "#d62728"}
for i, ((side, conns), pts) in enumerate(sorted(series.items())):
    pts.sort()
    dash = "" if conns == 1 else ' stroke-dasharray="6 4"'
    path = " ".join(f"{x(p):.1f},{y(v):.1f}" for p, v in pts)
    svg.append(f'<polyline points="{path}" fill="none" stroke="{colours[side]}" '
               f'stroke-width="2"{dash}/>')
    for p, v in pts:
        svg.append(f'<circle cx="{x(p):.1f}" cy="{y(v):.1f}" r="3" fill="{colours[side]}"/>')
    ly = T + 10 + 20 * i
    svg.append(f'<line x1="{W - R + 15}" x2="{W - R + 45}" y1="{ly}" y2="{ly}" '
               f'stroke="{colours[side]}" stroke-width="2"{dash}/>')
    svg.append(f'<text x="{W - R + 52}" y="{ly + 4}">cache {side}, {conns} conn.</text>')
svg.append("</svg>")
with open(out, "w") as f:
    f.write("\n".join(svg) + "\n")
print(out)
