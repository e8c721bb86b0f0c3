"""The report: a printed summary with each pass criterion, and an HTML page
with inline SVG plots (no network): processing latency over time per
channel, throughput, health, and the chaos events as markers."""

from __future__ import annotations

import html as h

COLOURS = {"web_form": "#1f77b4", "email": "#2ca02c", "whatsapp": "#d62728"}
EVENT_COLOURS = {"kill -9 worker": "#d62728", "SIGTERM worker": "#e377c2",
                 "twilio down": "#ff7f0e", "broker stopped": "#17becf",
                 "broker faults": "#9467bd", "broker down": "#9467bd",
                 "postgres restart": "#8c564b"}


def fmt(value, percent=False):
    if value is None:
        return "n/a"
    if percent:
        return f"{value * 100:.2f} %"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def summary(result: dict) -> str:
    t = result["totals"]
    p = result["profile"]
    lines = ["", "══ Proof at scale: " + p["name"] + " profile ══",
             f"compression factor {p.get('compression_factor')} (24 h in "
             f"{p['duration_s']:.0f} s), {p.get('brokers')} brokers, {p['workers']} workers, "
             f"{p.get('mix')} mix, binaries {p.get('binaries')}",
             "faults: " + "; ".join(
                 f"h{f['hour']} {f['kind']}"
                 + (f" ({f['signal']}, worker {f['worker']})" if f["kind"] == "pod kill" else "")
                 + (f" broker {f['broker']}" if "broker" in f else "")
                 + (f" {f['seconds']} s{'' if f['compressed'] else ' real'}" if f["seconds"] else "")
                 for f in result.get("faults", [])),
             f"messages sent {t['sent']}, accepted {t['accepted']}, rejected {t['rejected']}; "
             f"customers {t['customers']} ({t['cross_channel_customers']} on three channels)",
             "outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(result["outcomes"].items())),
             f"provider sends: WhatsApp {t['provider_sends']['whatsapp']}, email "
             f"{t['provider_sends']['email']}; unrecorded {len(result['unrecorded_provider_sends'])}; "
             f"duplicates {len(result['duplicates'])}",
             f"DLQ entries {result['dlq']['count']}" + (
                 f" (read error: {result['dlq']['read_error']})" if result["dlq"]["read_error"] else ""),
             f"escalation: agent {fmt(result['escalation']['rate'], True)} "
             f"(the drawn tickets expect {fmt(result['escalation']['sample_mix_expected_rate'], True)}, "
             f"the mix {fmt(p.get('expected_escalation_rate'), True)}; "
             f"agreement with the samples' expected action "
             f"{fmt(result['escalation']['agreement_with_sample_expectation'], True)})",
             f"cross-channel identification {result['cross_channel']['identified']}/"
             f"{result['cross_channel']['total']}",
             f"uptime {result['uptime']['ok']}/{result['uptime']['probes']} health probes",
             "", f"{'channel':<10} {'accepted':>8} {'proc P50':>9} {'P95':>7} {'P99':>7} "
             f"{'deliv P50':>10} {'P95':>7} {'P99':>7}"]
    for channel, c in result["per_channel"].items():
        lines.append(f"{channel:<10} {c['accepted']:>8} {fmt(c['processing_p50_s']):>9} "
                     f"{fmt(c['processing_p95_s']):>7} {fmt(c['processing_p99_s']):>7} "
                     f"{fmt(c['delivery_p50_s']):>10} {fmt(c['delivery_p95_s']):>7} "
                     f"{fmt(c['delivery_p99_s']):>7}")
    calm = ", ".join(f"{k} {fmt(c['processing_p95_calm_s'])} s ({c['calm_messages']} messages)"
                     for k, c in result["per_channel"].items())
    def turn(c: dict) -> str:
        if c.get("model_p50_s") is None:
            return ""
        per_tool = ", ".join(f"{tool} {fmt(p95)}" for tool, p95 in c.get("tool_p95_s", {}).items())
        return (f" (of it the model {fmt(c['model_p50_s'])}/{fmt(c['model_p95_s'])} s, "
                f"tools {fmt(c['tools_p50_s'])}/{fmt(c['tools_p95_s'])} s"
                + (f"; P95 by tool: {per_tool} s" if per_tool else "") + ")")

    stages = ", ".join(
        f"{k} agent {fmt(c.get('agent_p50_s'))}/{fmt(c.get('agent_p95_s'))} s{turn(c)}, "
        f"the rest {fmt(c.get('outside_agent_p50_s'))}/{fmt(c.get('outside_agent_p95_s'))} s"
        for k, c in result["per_channel"].items() if c.get("agent_p50_s") is not None)
    if stages:
        lines.append("where processing goes (P50/P95; the agent's turn as the worker recorded it, "
                     "the model's calls and the tools' inside it from the turn's log; the rest is "
                     f"gateway, broker, waiting for a worker, transactions): {stages}")
    phases = result.get("worker_phases") or {}
    if phases.get("accept_p50_s") is not None:
        lines.append(f"the worker's own transactions (P50/P95, from its log): accepting a message "
                     f"{fmt(phases['accept_p50_s'])}/{fmt(phases['accept_p95_s'])} s, finishing "
                     f"its turn {fmt(phases['finish_p50_s'])}/{fmt(phases['finish_p95_s'])} s")
    lines.append(f"P95 processing away from disruptions (not sent within 20 s after a pod kill "
                 f"or restart, broker stop or outage, or PostgreSQL restart, nor in flight at one): "
                 f"{calm}")
    lines.append("")
    for c in result["criteria"]:
        percent = isinstance(c["value"], float) and "%" in c["name"]
        mark = "PASS" if c["pass"] else "FAIL"
        enforced = "" if c["enforced"] else "  (reported, not enforced in this profile)"
        lines.append(f"{mark}  {c['name']:<58} {fmt(c['value'], percent)}{enforced}")
    if result["violations"]:
        lines.append("violations: " + ", ".join(f"{v['key']} {v['problem']}"
                                                 for v in result["violations"][:20]))
    return "\n".join(lines)


def _svg(width, height, series, events, x_max, y_max, y_label, kind="points"):
    left, bottom, top, right = 50, 30, 10, 10
    w, hgt = width - left - right, height - top - bottom
    sx = lambda x: left + w * (x / x_max if x_max else 0)  # noqa: E731
    sy = lambda y: top + hgt * (1 - (y / y_max if y_max else 0))  # noqa: E731
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect x="{left}" y="{top}" width="{w}" height="{hgt}" fill="none" stroke="#999"/>']
    for i in range(6):
        y = y_max * i / 5
        out.append(f'<text x="{left - 4}" y="{sy(y) + 4:.1f}" text-anchor="end">{y:.3g}</text>')
        x = x_max * i / 5
        out.append(f'<text x="{sx(x):.1f}" y="{height - 12}" text-anchor="middle">{x:.0f}s</text>')
    out.append(f'<text x="12" y="{top + hgt / 2}" transform="rotate(-90 12 {top + hgt / 2})" '
               f'text-anchor="middle">{h.escape(y_label)}</text>')
    for e in events:
        colour = EVENT_COLOURS.get(e["kind"])
        if colour is None or e["t"] < 0:
            continue
        out.append(f'<line x1="{sx(e["t"]):.1f}" x2="{sx(e["t"]):.1f}" y1="{top}" '
                   f'y2="{top + hgt}" stroke="{colour}" stroke-dasharray="3,3">'
                   f'<title>{h.escape(e["kind"])} at {e["t"]:.1f}s</title></line>')
    for name, points, colour in series:
        if kind == "points":
            for x, y in points:
                out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(min(y, y_max)):.1f}" r="2.5" '
                           f'fill="{colour}"><title>{h.escape(name)} {y:.3f}</title></circle>')
        else:
            path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in points)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}"/>')
    out.append("</svg>")
    return "".join(out)


def html(result: dict) -> str:
    messages = result["messages"]
    events = result["events"]
    x_max = max([m["sent_at"] or 0 for m in messages] + [h["t"] for h in result["health"]] + [1])
    latency_series = []
    y_max = 1.0
    for channel, colour in COLOURS.items():
        pts = [(m["sent_at"], m["processing_s"]) for m in messages
               if m["channel"] == channel and "processing_s" in m]
        y_max = max([y_max] + [p[1] for p in pts])
        latency_series.append((channel, pts, colour))
    y_max = min(y_max * 1.1, 60)
    bucket = 10
    buckets = int(x_max // bucket) + 1
    accepted = [0] * buckets
    delivered = [0] * buckets
    for m in messages:
        if m["accepted"] and m["sent_at"] is not None:
            accepted[int(m["sent_at"] // bucket)] += 1
        if "delivery_s" in m and m["sent_at"] is not None:
            i = int((m["sent_at"] + m["delivery_s"]) // bucket)
            if i < buckets:
                delivered[i] += 1
    tp_max = max(accepted + delivered + [1]) * 1.1
    health_pts = [(x["t"], x["ms"] / 1000 if x["ok"] else 0) for x in result["health"]]
    health_fail = [(x["t"], 0.0) for x in result["health"] if not x["ok"]]
    legend = " ".join(f'<span style="color:{c}">■ {h.escape(n)}</span>' for n, c in COLOURS.items())
    ev_legend = " ".join(f'<span style="color:{c}">┆ {h.escape(n)}</span>'
                         for n, c in EVENT_COLOURS.items())
    rows = "".join(
        f"<tr><td>{'PASS' if c['pass'] else 'FAIL'}</td><td>{h.escape(c['name'])}</td>"
        f"<td>{h.escape(fmt(c['value'], isinstance(c['value'], float) and '%' in c['name']))}</td>"
        f"<td>{'enforced' if c['enforced'] else 'reported'}</td></tr>" for c in result["criteria"])
    channel_rows = "".join(
        f"<tr><td>{h.escape(k)}</td>" + "".join(f"<td>{fmt(v)}</td>" for v in c.values()) + "</tr>"
        for k, c in result["per_channel"].items())
    channel_head = "".join(f"<th>{h.escape(k)}</th>"
                           for k in next(iter(result["per_channel"].values())).keys())
    event_rows = "".join(f"<tr><td>{e['t']:.1f}</td><td>{h.escape(e['kind'])}</td>"
                         f"<td>{h.escape(str({k: v for k, v in e.items() if k not in ('t', 'kind')}))}</td></tr>"
                         for e in events)
    dlq_rows = "".join(f"<tr><td><pre>{h.escape(str(d['headers']))}</pre></td>"
                       f"<td><pre>{h.escape(d['payload'][:300])}</pre></td></tr>"
                       for d in result["dlq"]["entries"])
    p = result["profile"]
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>fte proof at scale</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 8px;font-size:13px}}pre{{margin:0;white-space:pre-wrap}}</style>
</head><body><h1>Proof at scale — {h.escape(p['name'])} profile</h1>
<p>A day compressed by a factor of {p.get('compression_factor')}: {p['duration_s']:.0f} s of
traffic and chaos, {p.get('brokers')} brokers, {p['workers']} workers, {h.escape(str(p.get('mix')))}
mix, binaries {h.escape(str(p.get('binaries')))}, model latency
{p['model_latency_ms']} ms, seed {p['seed']}, wall clock {p['wall_clock_s']} s.</p>
<h2>Pass criteria</h2><table><tr><th></th><th>criterion</th><th>value</th><th></th></tr>{rows}</table>
<h2>Per channel (seconds)</h2><table><tr><th>channel</th>{channel_head}</tr>{channel_rows}</table>
<p>Outcomes: {h.escape(str(result['outcomes']))}; duplicates {len(result['duplicates'])};
cross-channel {result['cross_channel']['identified']}/{result['cross_channel']['total']};
uptime {result['uptime']['ok']}/{result['uptime']['probes']}.</p>
<h2>Processing latency over time</h2><p>{legend}<br>{ev_legend}</p>
{_svg(1000, 320, latency_series, events, x_max, y_max, "seconds to the reply")}
<h2>Throughput per {bucket} s</h2><p><span style="color:#1f77b4">— accepted</span>
<span style="color:#2ca02c">— replies delivered</span></p>
{_svg(1000, 240, [("accepted", [(i * bucket, v) for i, v in enumerate(accepted)], "#1f77b4"),
                  ("delivered", [(i * bucket, v) for i, v in enumerate(delivered)], "#2ca02c")],
      events, x_max, tp_max, "messages", kind="line")}
<h2>Health probe (response time; red = failed)</h2>
{_svg(1000, 200, [("health", health_pts, "#555"), ("failed", health_fail, "#d62728")], events,
      x_max, max([0.05] + [y for _, y in health_pts]) * 1.1, "seconds")}
<h2>Fault schedule (compressed hours)</h2><table><tr><th>hour</th><th>t (s)</th><th>fault</th>
<th>lasts</th><th>detail</th></tr>{"".join(
    f"<tr><td>{f['hour']}</td><td>{f['at_s']}</td><td>{h.escape(f['kind'])}</td>"
    f"<td>{f['seconds']} s{'' if f['compressed'] else ' (real length)'}</td>"
    f"<td>{h.escape(str({k: v for k, v in f.items() if k not in ('kind', 'hour', 'at_s', 'seconds', 'compressed')}))}</td></tr>"
    for f in result.get("faults", []))}</table>
<h2>Chaos and system events</h2><table><tr><th>t (s)</th><th>event</th><th>detail</th></tr>{event_rows}</table>
<h2>Dead-letter queue ({result['dlq']['count']})</h2><table>{dlq_rows}</table>
</body></html>"""
