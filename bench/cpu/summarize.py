#!/usr/bin/python3
"""Turns bench/cpu/run.sh's results.csv into results.json, ratios.svg and a Markdown table.
Per (model, batch, engine): the median over rounds of each round's median latency. Ratios are
throughput ratios (anchor latency / kiln latency) against the anchors measured in the same run.
usage: summarize.py results.csv OUT_DIR THREADS"""
import csv
import json
import os
import platform
import statistics
import sys

ENGINES = ["kiln", "onnxruntime", "pytorch"]
TARGET = 1.2  # issue 3: kiln at least 1.2x onnxruntime's throughput


def main():
    path, out, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rows = list(csv.DictReader(open(path)))
    cases = []
    for row in rows:
        key = (row["model"], int(row["batch"]))
        if key not in cases:
            cases.append(key)
    results = []
    for model, batch in cases:
        entry = {"model": model, "batch": batch}
        for engine in ENGINES:
            ms = [float(r["median_ms"]) for r in rows
                  if r["model"] == model and int(r["batch"]) == batch and r["engine"] == engine and r["median_ms"]]
            entry[f"{engine}_ms"] = statistics.median(ms) if ms else None
        errors = [float(r["max_rel_error"]) for r in rows if r["model"] == model and int(r["batch"]) == batch
                  and r["engine"] == "kiln" and r["max_rel_error"] not in ("", "None")]
        entry["kiln_max_rel_error_vs_pytorch"] = max(errors) if errors else None
        k = entry["kiln_ms"]
        entry["kiln_vs_onnxruntime"] = entry["onnxruntime_ms"] / k if k and entry["onnxruntime_ms"] else None
        entry["kiln_vs_pytorch"] = entry["pytorch_ms"] / k if k and entry["pytorch_ms"] else None
        results.append(entry)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({"threads": threads, "machine": platform.processor() or platform.machine(), "results": results}, f,
                  indent=2)
    write_svg(results, os.path.join(out, "ratios.svg"))

    print(f"CPU benchmark, {threads} threads; latency in ms (median of rounds), ratio = throughput vs kiln's")
    print()
    print("| model | batch | kiln ms | onnxruntime ms | PyTorch ms | kiln / onnxruntime | kiln / PyTorch | "
          "kiln vs PyTorch max rel err |")
    print("|---|---|---|---|---|---|---|---|")
    for e in results:
        fmt = lambda v, spec: "n/a" if v is None else format(v, spec)
        print(f"| {e['model']} | {e['batch']} | {fmt(e['kiln_ms'], '.1f')} | {fmt(e['onnxruntime_ms'], '.1f')} | "
              f"{fmt(e['pytorch_ms'], '.1f')} | {fmt(e['kiln_vs_onnxruntime'], '.2f')} | "
              f"{fmt(e['kiln_vs_pytorch'], '.2f')} | {fmt(e['kiln_max_rel_error_vs_pytorch'], '.1e')} |")


def write_svg(results, path):
    width, bar, gap, left, top, height = 640, 18, 14, 150, 30, 200
    scale = max([2.0] + [r[k] or 0 for r in results for k in ("kiln_vs_onnxruntime", "kiln_vs_pytorch")])
    rows = len(results)
    total_h = top + rows * (2 * bar + gap) + 40
    x_of = lambda v: left + v / scale * (width - left - 40)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{total_h}" font-family="sans-serif" '
             f'font-size="12">',
             f'<text x="{left}" y="18">kiln throughput / anchor throughput (same run; 1.0 = parity)</text>']
    y = top
    for r in results:
        parts.append(f'<text x="4" y="{y + bar + 4}">{r["model"]} b{r["batch"]}</text>')
        for i, (key, color, label) in enumerate((("kiln_vs_onnxruntime", "#d9822b", "vs onnxruntime"),
                                                 ("kiln_vs_pytorch", "#4a7fb5", "vs PyTorch"))):
            v = r[key] or 0
            yy = y + i * bar
            parts.append(f'<rect x="{left}" y="{yy}" width="{x_of(v) - left:.1f}" height="{bar - 3}" fill="{color}"/>')
            parts.append(f'<text x="{x_of(v) + 4:.1f}" y="{yy + bar - 6}">{v:.2f}x {label}</text>')
        y += 2 * bar + gap
    for v, dash in ((1.0, "4,3"), (TARGET, "1,3")):
        parts.append(f'<line x1="{x_of(v):.1f}" y1="{top - 6}" x2="{x_of(v):.1f}" y2="{y}" stroke="black" '
                     f'stroke-dasharray="{dash}"/>')
        parts.append(f'<text x="{x_of(v) - 10:.1f}" y="{y + 14}">{v:.1f}</text>')
    parts.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(parts) + "\n")


if __name__ == "__main__":
    main()
