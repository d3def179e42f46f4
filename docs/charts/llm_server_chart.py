#!/usr/bin/env python3
"""Draws docs/charts/llm-server.svg from an LlmServerBench results file.

    python3 docs/charts/llm_server_chart.py [RESULTS.tsv] [OUT.svg]

Defaults: docs/charts/llm-server.tsv (a copy of benchmarks/results/llm-server.tsv from the run
quoted in docs/performance.md) and docs/charts/llm-server.svg. Standard library only: total
tokens/s (left axis) and p99 time to first token (right axis) against concurrent clients (log).
Lines starting with '#' (the burst and the side-by-side ratio) are skipped.
"""
import csv
import math
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "llm-server.tsv")
out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "llm-server.svg")

with open(src, newline="") as f:
    rows = list(csv.DictReader((line for line in f if not line.startswith("#")), delimiter="\t"))
clients = [int(r["clients"]) for r in rows]
tokens = [float(r["tok_s_total"]) for r in rows]
ttft = [float(r["ttft_p99_ms"]) for r in rows]

W, H, L, R, T, B = 640, 400, 70, 80, 40, 50


def nice(v):
    """The smallest 1, 2 or 5 times a power of ten that is at least v."""
    p = 10 ** math.floor(math.log10(v))
    return next(m * p for m in (1, 2, 5, 10) if m * p >= v)


tok_hi, ttft_hi = nice(max(tokens)), nice(max(ttft))


def x(c):
    return L + (W - L - R) * math.log(c) / math.log(max(clients))


def y(v, hi):
    return T + (H - T - B) * (1 - v / hi)


svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
       'font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="{L}" y="22" font-size="14">./modserv serve, 384-wide GGUF, streaming chat: '
       'load study</text>']
for i in range(6):
    gy = y(tok_hi * i / 5, tok_hi)
    svg.append(f'<line x1="{L}" x2="{W - R}" y1="{gy:.1f}" y2="{gy:.1f}" stroke="#ddd"/>')
    svg.append(f'<text x="{L - 8}" y="{gy + 4:.1f}" text-anchor="end" fill="#1f77b4">'
               f'{tok_hi * i / 5:g}</text>')
    svg.append(f'<text x="{W - R + 8}" y="{gy + 4:.1f}" fill="#d62728">{ttft_hi * i / 5:g}</text>')
for c in clients:
    svg.append(f'<text x="{x(c):.1f}" y="{H - B + 18}" text-anchor="middle">{c}</text>')
svg.append(f'<text x="{(L + W - R) / 2}" y="{H - 12}" text-anchor="middle">'
           'concurrent clients (log)</text>')
svg.append(f'<text x="18" y="{(T + H - B) / 2}" text-anchor="middle" fill="#1f77b4" '
           f'transform="rotate(-90 18 {(T + H - B) / 2})">total tokens/s</text>')
svg.append(f'<text x="{W - 18}" y="{(T + H - B) / 2}" text-anchor="middle" fill="#d62728" '
           f'transform="rotate(90 {W - 18} {(T + H - B) / 2})">p99 time to first token, ms</text>')
for values, hi, colour, dash in ((tokens, tok_hi, "#1f77b4", ""),
                                 (ttft, ttft_hi, "#d62728", ' stroke-dasharray="6 4"')):
    path = " ".join(f"{x(c):.1f},{y(v, hi):.1f}" for c, v in zip(clients, values))
    svg.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
    for c, v in zip(clients, values):
        svg.append(f'<circle cx="{x(c):.1f}" cy="{y(v, hi):.1f}" r="3" fill="{colour}"/>')
svg.append("</svg>")
with open(out, "w") as f:
    f.write("\n".join(svg) + "\n")
print(out)
