#!/usr/bin/env python3
"""Draws docs/charts/batcher.svg from the table benchmarks/run-batcher.sh writes.

    python3 docs/charts/batcher_chart.py [RESULTS.tsv] [OUT.svg]

Defaults: docs/charts/batcher.tsv (a copy of benchmarks/results/batcher.tsv from the run quoted
in docs/performance.md) and docs/charts/batcher.svg. Standard library only. Two panels against
concurrent callers (log scale): calls per second, and p99 latency, one line per batching mode.
"""
from svgchart import B, GAP, L, PH, PW, R, T, legend, panel, read_results

rows, src, out = read_results("batcher")

series = {}
for r in rows:
    series.setdefault(r["mode"], []).append(
        (int(r["callers"]), float(r["ops_s"]), float(r["p99_us"]) / 1000,
         r.get("engine_busy") or ""))
for points in series.values():
    points.sort()

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
W = 2 * (L + PW + R) + GAP
H = T + PH + B + 24 * len(series) + 10

svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
       'font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       '<text x="10" y="20" font-size="14">Dynamic batcher, fake engine 200 µs/call + 20 µs/row: '
       'throughput (labels: engine busy) and p99</text>']
svg += panel(0, "calls per second", "concurrent callers (log); ops/s", series, COLORS, 1,
              tick="{:,.6g}", label=lambda p: p[3])
svg += panel(L + PW + R + GAP, "p99 latency", "concurrent callers (log); ms", series, COLORS, 2,
              tick="{:,.6g}")
svg += legend(series, COLORS, T + PH + B)
svg.append("</svg>")

with open(out, "w") as f:
    f.write("\n".join(svg) + "\n")
print(f"wrote {out} from {src} ({len(rows)} rows)")
