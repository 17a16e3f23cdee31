"""The report of a run: ``report.json`` (every figure) and ``report.html``, one self-contained
page (inline CSS and SVG, no script, no CDN: it opens offline) with charts over time.

Charts: users; requests/s per endpoint group; p50/p95/p99 per group; errors per group; on a
local stack the CPU of each component (where the time went); and, where the stack has a
Prometheus, its dashboard's panels over the run with the server-side figures (notification
delay, consumer lag, outbox age).
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ecomctl.scaletest.run import RunResult

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563",
           "#65a30d", "#9333ea", "#ea580c", "#0f766e")
WIDTH, HEIGHT, PAD = 720, 220, 40


def write(result: RunResult, directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    data = result.as_dict()
    as_json = directory / "report.json"
    as_json.write_text(json.dumps(data, indent=2) + "\n")
    as_html = directory / "report.html"
    as_html.write_text(render_html(data))
    return as_json, as_html


def line_chart(title: str, times: Sequence[float], series: Mapping[str, Sequence[float]], unit: str) -> str:
    """An SVG line chart: one polyline per series, time on x, a legend underneath."""
    top = max((v for values in series.values() for v in values), default=0.0) or 1.0
    span = max(times[-1] if times else 1.0, 1.0)

    def x(t: float) -> float:
        return PAD + (WIDTH - 2 * PAD) * t / span

    def y(v: float) -> float:
        return HEIGHT - PAD + -(HEIGHT - 2 * PAD) * v / top

    height = HEIGHT + 20 * ((len(series) + 3) // 4)  # room for the legend, four entries a row
    parts = [f'<svg class="chart" role="img" aria-label="{html.escape(title)}" viewBox="0 0 {WIDTH} {height}" '
             f'xmlns="http://www.w3.org/2000/svg">',
             f'<text x="{PAD}" y="18" class="title">{html.escape(title)}</text>',
             f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" class="axis"/>',
             f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" class="axis"/>',
             f'<text x="{PAD - 4}" y="{PAD + 4}" class="tick" text-anchor="end">{top:.4g}</text>',
             f'<text x="{PAD - 4}" y="{HEIGHT - PAD + 4}" class="tick" text-anchor="end">0</text>',
             f'<text x="{WIDTH - PAD}" y="{HEIGHT - PAD + 16}" class="tick" text-anchor="end">{span:.0f} s</text>',
             f'<text x="{PAD}" y="{PAD - 8}" class="tick">{html.escape(unit)}</text>']
    for index, (name, values) in enumerate(series.items()):
        colour = PALETTE[index % len(PALETTE)]
        points = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in zip(times, values, strict=False))
        parts.append(f'<polyline class="series" data-series="{html.escape(name)}" fill="none" stroke="{colour}" '
                     f'stroke-width="1.5" points="{points}"/>')
        lx, ly = PAD + (index % 4) * 170, HEIGHT + 4 + 20 * (index // 4)
        parts.append(f'<rect x="{lx}" y="{ly}" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{lx + 14}" y="{ly + 9}" class="legend">{html.escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _series(ticks: list[dict[str, Any]], groups: list[str], key: str) -> dict[str, list[float]]:
    return {g: [float(t["groups"].get(g, {}).get(key, 0.0)) for t in ticks] for g in groups}


def charts(data: dict[str, Any]) -> list[str]:
    ticks = data["ticks"]
    if not ticks:
        return []
    times = [float(t["t"]) for t in ticks]
    groups = sorted(g for g in data["groups"] if g != "all")
    out = [line_chart("Users", times, {"users": [float(t["users"]) for t in ticks]}, "users"),
           line_chart("Requests per second", times, _series(ticks, ["all", *groups], "requests"), "req/s")]
    for pct in ("p50", "p95", "p99"):
        out.append(line_chart(f"{pct} latency per endpoint group", times, _series(ticks, groups, f"{pct}_ms"), "ms"))
    out.append(line_chart("Errors per second", times, _series(ticks, ["all", *groups], "failures"), "errors/s"))
    kube = data.get("kubernetes")
    if kube and kube["samples"]:
        at = [float(s["t"]) for s in kube["samples"]]
        out.append(line_chart("HPA replicas", at, {h: [float(s["hpas"].get(h, {}).get("current", 0))
                                                       for s in kube["samples"]] for h in kube["hpas"]}, "pods"))
        out.append(line_chart("Nodes", at, {"ready nodes": [float(s["nodes"]) for s in kube["samples"]]}, "nodes"))
    cpu = data["cpu"]["samples"]
    if cpu:
        names = list(data["cpu"]["totals_s"])
        out.append(line_chart("CPU per component (cores)", [float(s["t"]) for s in cpu],
                              {n: [s["seconds"].get(n, 0.0) / max(s["dt"], 1e-3) for s in cpu] for n in names},
                              "cores"))
    return out


def server_side(data: dict[str, Any]) -> str:
    """The stack's Prometheus over the run: its figures and the dashboard's panels that had data."""
    seen = data.get("prometheus")
    if not seen:
        return ""
    if "error" in seen:
        return f"<h2>Server side</h2><p>Prometheus at {html.escape(seen['url'])} did not answer: " \
               f"{html.escape(seen['error'])}</p>"
    labels = {"orders_created": "orders created (its counter)", "notification_delay_p95_s":
              "order accepted -> notification stored, p95 (s)", "consumer_lag_max": "consumer lag, max (messages)",
              "outbox_oldest_age_max_s": "oldest unpublished order event, max age (s)"}
    rows: list[Sequence[Any]] = [(labels.get(k, k), "no data" if v is None else v)
                                 for k, v in seen["figures"].items()]
    out = [f"<h2>Server side</h2><p>From the stack's Prometheus ({html.escape(seen['url'])}): the dashboard's "
           "panels over the run.</p>", _table(("figure", "value"), rows)]
    for panel in seen["panels"]:
        if not panel["series"]:
            continue
        by_time = {name: {float(t): float(v) for t, v in values} for name, values in panel["series"].items()}
        times = sorted({t for values in by_time.values() for t in values})
        series = {name: [values.get(t, 0.0) for t in times] for name, values in by_time.items()}
        out.append(line_chart(panel["title"], times, series, panel["unit"]))
    return "".join(out)


def _table(headers: Sequence[str], rows: list[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(data: dict[str, Any]) -> str:
    profile = data["profile"]
    verdict = data["verdict"]
    checks = _table(("check", "result", "figure"),
                    [(c["name"], "pass" if c["passed"] else "FAIL", c["detail"]) for c in data["checks"]])
    groups = _table(("endpoint group", "requests", "failures", "req/s", "p50 ms", "p95 ms", "p99 ms"),
                    [(g, s["requests"], s["failures"], s.get("rps", ""), s["p50_ms"], s["p95_ms"], s["p99_ms"])
                     for g, s in sorted(data["groups"].items())])
    per_order = data["cpu"].get("per_order_ms", {})
    cpu = _table(("component", "CPU seconds", "cores on average", "CPU ms per accepted order"),
                 [(n, s, round(s / data["duration_s"], 2) if data["duration_s"] else "", per_order.get(n, ""))
                  for n, s in data["cpu"]["totals_s"].items()]
                 + ([("the stack (all components)", "", "", per_order["stack"])] if "stack" in per_order else [])
                 ) if data["cpu"]["totals_s"] else ""
    kube = data.get("kubernetes")
    hpas = _table(("HPA", "replicas at start", "peak", "end", "scaled out", "scaled back in"),
                  [(n, h["start"], h["peak"], h["end"], "yes" if h["scaled_out"] else "no",
                    "yes" if h["scaled_in"] else "no") for n, h in kube["hpas"].items()]) if kube else ""
    knee = data.get("knee")
    knee_html = (f"<p class=\"knee\">Knee: <b>{knee['users']} users</b>, {knee['requests_per_s']} requests/s, "
                 f"{knee['orders_per_s']} orders/s (broke at {knee['broken_at_users']} users).</p>" if knee else "")
    stages = _table(("users", "held", "req/s", "p95 ms", "broken"),
                    [(s["users"], "yes" if s["held"] else "no", s["groups"].get("all", {}).get("rps", ""),
                      s["groups"].get("all", {}).get("p95_ms", ""), "; ".join(s["broken"]))
                     for s in data["stages"]]) if profile.get("step") else ""
    machine = data["machine"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Scale test {html.escape(profile['name'])}: {verdict}</title>
<style>
body {{ font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 780px; color: #111; }}
h1 {{ font-size: 1.4rem; }} .pass {{ color: #15803d; }} .fail {{ color: #b91c1c; }}
table {{ border-collapse: collapse; margin: .5rem 0 1.2rem; }} td, th {{ border: 1px solid #ddd; padding: 2px 8px; }}
th {{ background: #f3f4f6; text-align: left; }} svg.chart {{ width: 100%; height: auto; margin: .5rem 0; }}
.title {{ font-weight: 600; font-size: 13px; }} .tick, .legend {{ font-size: 11px; fill: #374151; }}
.axis {{ stroke: #9ca3af; }}
</style></head><body>
<h1>Scale test <code>{html.escape(profile['name'])}</code>: <span class="{verdict}">{verdict.upper()}</span></h1>
<p>{html.escape(profile['description'])}. Target {html.escape(data['target']['description'])}
({html.escape(data['target']['url'])}), started {html.escape(data['started_at'])}, ran {data['duration_s']:.0f} s
{'(interrupted)' if data['interrupted'] else ''}. Orders accepted: {data['orders']['accepted']}
({data['orders']['per_s']}/s), cancelled: {data['orders']['cancelled']}. Load generator:
{data['load_generator']['cores']} cores. Machine: {machine['cores']} cores
({html.escape(machine.get('model', 'unknown'))}), {machine['memory_gib']} GiB, {html.escape(machine['system'])},
Python {html.escape(machine['python'])}.</p>
{knee_html}
<h2>Verdict</h2>{checks}{stages}
<h2>Endpoint groups</h2>{groups}
{'<h2>Where the CPU went</h2>' + cpu if cpu else ''}
{'<h2>Autoscaling</h2>' + hpas if hpas else ''}
<h2>Over time</h2>
{''.join(charts(data))}
{server_side(data)}
</body></html>
"""
