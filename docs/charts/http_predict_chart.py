#!/usr/bin/env python3
"""Draws docs/charts/http-predict.svg from an HttpPredictBench results file.

    python3 docs/charts/http_predict_chart.py [RESULTS.tsv] [OUT.svg]

Defaults: docs/charts/http-predict.tsv (a copy of benchmarks/results/http.tsv from the run quoted
in docs/performance.md) and docs/charts/http-predict.svg. Standard library only. Two panels
against connections (log scale): requests per second, and p99 latency, one line per server and
transport (median round of each configuration).
"""
from svgchart import B, GAP, L, PH, PW, R, T, legend, panel, read_results

rows, src, out = read_results("http-predict")

series = {}
for r in rows:
    key = f'{r["server"]} {r["transport"]}'
    series.setdefault(key, []).append(
        (int(r["connections"]), float(r["rps"]), float(r["p99_us"])))
for points in series.values():
    points.sort()

COLORS = ["#1f77b4", "#aec7e8", "#d62728", "#ff9896", "#2ca02c", "#98df8a", "#9467bd", "#c5b0d5"]
W = 2 * (L + PW + R) + GAP
H = T + PH + B + 24 * ((len(series) + 1) // 2) + 10


def socket(name):
    return name.endswith("uds")


svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
       'font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       '<text x="10" y="20" font-size="14">HttpPredictBench: tiny ONNX MLP through the adapter '
       'and a bare Jetty handler (median rounds)</text>']
svg += panel(0, "requests per second", "connections (log); req/s", series, COLORS, 1,
              dashed=socket)
svg += panel(L + PW + R + GAP, "p99 latency", "connections (log); µs", series, COLORS, 2,
              dashed=socket)
svg += legend(series, COLORS, T + PH + B, dashed=socket, per_row=2)
svg.append("</svg>")

with open(out, "w") as f:
    f.write("\n".join(svg) + "\n")
print(f"wrote {out} from {src} ({len(rows)} rows)")
