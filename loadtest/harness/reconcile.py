"""Reconciliation: every accepted inbound message must end in exactly one
outcome — a reply sent, an escalation, or the dead-letter queue with a
reason — and no customer may get a reply twice.

Sources: PostgreSQL (inbound messages, their replies and escalations, tied
to the inbound message by the worker's transaction: `processed_at`, the
reply's outbox row and the escalation share its start time), the fakes'
records of what reached Twilio and Gmail, and the `fte.dlq` topic."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

OUTCOME_SQL = """
with inbound as (
  select m.id, m.channel, m.channel_message_id, m.conversation_id, c.customer_id,
         (m.metadata->>'processed_at')::timestamptz as processed_at
  from messages m join conversations c on c.id = m.conversation_id
  where m.direction = 'inbound' and m.channel_message_id is not null)
select i.channel, i.channel_message_id as cmid, i.customer_id::text as customer_id,
  i.conversation_id::text as conversation_id,
  extract(epoch from i.processed_at)::float8 as processed,
  (select json_agg(json_build_object(
      'status', o.status, 'sent', extract(epoch from o.sent_at)::float8,
      'created', extract(epoch from om.created_at)::float8, 'error', o.last_error,
      'attempts', o.attempts, 'provider', o.provider_message_id, 'role', om.role,
      'agent_ms', om.latency_ms, 'log', om.tool_calls))
     from reply_outbox o join messages om on om.id = o.message_id
     where o.conversation_id = i.conversation_id and o.created_at = i.processed_at) as replies,
  (select json_agg(e.reason) from escalations e
     where e.conversation_id = i.conversation_id and e.created_at = i.processed_at) as escalations,
  (select count(*) from escalations e
     where e.conversation_id = i.conversation_id and e.created_at < i.processed_at) as earlier_escalations
from inbound i
"""


# Chaos steps that stop processing for a while (the Twilio outage delays
# delivery, not processing).
DISRUPTIONS = ("kill -9 worker", "SIGTERM worker", "worker restarted", "broker stopped",
               "broker started", "broker down", "postgres restart")
CALM_AFTER_S = 20.0


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, math.ceil(p / 100 * len(ordered)) - 1)
    return round(ordered[rank], 3)


def turn_split(log) -> tuple[float, float] | None:
    """Seconds of a turn spent waiting for the model and running tools,
    from the turn's log (`model_ms` per model call, `ms` per tool call);
    None when the turn never asked a model (the offline agent)."""
    entries = log if isinstance(log, list) else []
    model = [e["model_ms"] for e in entries if isinstance(e, dict) and "model_ms" in e]
    if not model:
        return None
    tools = [e.get("ms", 0) for e in entries if isinstance(e, dict) and "tool" in e]
    return sum(model) / 1000, sum(tools) / 1000


def tool_times(log) -> dict[str, float]:
    """Seconds of a turn spent in each tool, by tool name, from the turn's
    log (a tool called twice counts both calls)."""
    entries = log if isinstance(log, list) else []
    times: dict[str, float] = {}
    for e in entries:
        if isinstance(e, dict) and "tool" in e:
            times[e["tool"]] = times.get(e["tool"], 0) + e.get("ms", 0) / 1000
    return times


def worker_phases(log_paths) -> dict:
    """P50/P95 seconds of the worker's own phases of each handled message,
    from its `message handled` log lines: accepting it (one transaction:
    customer, conversation, message, ticket) and finishing it (one
    transaction: the reply, the ticket, the events)."""
    phases: dict[str, list[float]] = {"accept": [], "finish": []}
    for path in log_paths:
        try:
            lines = Path(path).read_text(errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            if '"message handled"' not in line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            for phase, values in phases.items():
                if f"{phase}_ms" in entry:
                    values.append(entry[f"{phase}_ms"] / 1000)
    return {f"{phase}_p{p}_s": percentile(values, p)
            for phase, values in phases.items() for p in (50, 95)}


def rows_by_key(pg) -> dict[str, dict]:
    rows = pg.query_json(OUTCOME_SQL)
    return {f"{r['channel']}:{r['cmid']}": r for r in rows}


def settled(row: dict | None) -> bool:
    """Whether a message has reached its final state."""
    if row is None or row["processed"] is None:
        return False
    return all(r["status"] in ("sent", "failed") for r in (row["replies"] or []))


def wait_for_outcomes(pg, plan, timeout: float) -> bool:
    deadline = time.time() + timeout
    keys = [m.key for m in plan if m.accepted]
    while time.time() < deadline:
        try:
            rows = rows_by_key(pg)
        except Exception:
            time.sleep(2)
            continue
        waiting = [k for k in keys if not settled(rows.get(k))]
        if not waiting:
            return True
        print(f"[scale] waiting for {len(waiting)} message(s) to settle", flush=True)
        time.sleep(5)
    return False


def read_dlq(bootstrap: str) -> list[dict]:
    from confluent_kafka import Consumer
    consumer = Consumer({
        "bootstrap.servers": bootstrap, "group.id": f"scale-dlq-reader-{time.time_ns()}",
        "auto.offset.reset": "earliest", "enable.auto.commit": False,
    })
    consumer.subscribe(["fte.dlq"])
    entries, idle_since = [], time.time()
    while time.time() - idle_since < 5:
        message = consumer.poll(0.5)
        if message is None or message.error():
            continue
        idle_since = time.time()
        headers = {k: (v.decode(errors="replace") if v else None)
                   for k, v in (message.headers() or [])}
        entries.append({"headers": headers,
                        "payload": (message.value() or b"").decode(errors="replace")})
    consumer.close()
    return entries


def reconcile(system, plan, health: list[dict], t0: float) -> dict:
    rows = rows_by_key(system.pg)
    try:
        dlq = read_dlq(system.bootstrap)
        dlq_error = None
    except Exception as error:
        dlq, dlq_error = [], str(error)
    twilio = system.fakes.twilio_sent()
    gmail = system.fakes.gmail_sent()

    messages, violations = [], []
    for m in plan:
        record = {"channel": m.channel, "customer": m.customer.index,
                  "cross_channel": m.customer.cross_channel, "ticket": m.ticket["id"],
                  "expected": m.ticket.get("expect", {}).get("action"),
                  "sent_at": round(m.sent_at - t0, 3) if m.sent_at else None,
                  "status": m.status, "accepted": m.accepted, "error": m.error,
                  "push_retries": m.extra.get("push_retries", 0),
                  "submit_retries": m.extra.get("submit_retries", 0)}
        messages.append(record)
        if not m.accepted:
            record["outcome"] = "rejected"
            continue
        row = rows.get(m.key)
        in_dlq = [d for d in dlq if m.channel_message_id and m.channel_message_id in d["payload"]]
        outcomes = []
        replies = (row or {}).get("replies") or []
        if row is not None:
            record["customer_id"] = row["customer_id"]
            if row["escalations"]:
                outcomes.append("escalated")
                record["escalation_reason"] = row["escalations"][0]
            elif row["earlier_escalations"] and row["processed"] is not None:
                outcomes.append("escalated")
                record["escalation_reason"] = "already escalated"
            sent = [r for r in replies if r["status"] == "sent"]
            failed = [r for r in replies if r["status"] == "failed"]
            if sent and not outcomes:
                outcomes.append("reply sent")
            if failed:
                outcomes.append("dlq")
                record["dlq_reason"] = failed[0]["error"]
            if len(replies) > 1:
                violations.append({"key": m.key, "problem": f"{len(replies)} replies queued"})
            if row["processed"] is not None:
                record["processing_s"] = round(row["processed"] - m.sent_at, 3)
                ends = [r["created"] for r in replies if r.get("created")]
                if ends:
                    record["processing_s"] = round(max(ends) - m.sent_at, 3)
                # The agent's own turn (retrieval, model, tools) as the
                # worker recorded it on the reply; the rest of processing is
                # the gateway, the broker, waiting for a worker and the
                # worker's transactions.
                turns = [r["agent_ms"] / 1000 for r in replies if r.get("agent_ms") is not None]
                if turns and "processing_s" in record:
                    record["agent_s"] = round(max(turns), 3)
                    record["outside_agent_s"] = round(record["processing_s"] - max(turns), 3)
                splits = [turn_split(r.get("log")) for r in replies]
                splits = [s for s in splits if s is not None]
                if splits:
                    record["model_s"] = round(max(m for m, _ in splits), 3)
                    record["tools_s"] = round(max(t for _, t in splits), 3)
                    by_tool: dict[str, float] = {}
                    for r in replies:
                        for tool, secs in tool_times(r.get("log")).items():
                            by_tool[tool] = max(by_tool.get(tool, 0), round(secs, 3))
                    record["tool_s"] = by_tool
            delivered = [r["sent"] for r in sent if r.get("sent")]
            if delivered:
                record["delivery_s"] = round(max(delivered) - m.sent_at, 3)
        if in_dlq and "dlq" not in outcomes:
            outcomes.append("dlq")
            record["dlq_reason"] = in_dlq[0]["headers"].get("fte-error") or json.dumps(
                in_dlq[0]["headers"])[:200]
        if not outcomes:
            if row is None:
                record["outcome"] = "lost"
            elif row["processed"] is None:
                record["outcome"] = "unprocessed"
            elif replies:
                record["outcome"] = "reply pending"
            else:
                record["outcome"] = "no reply"
            violations.append({"key": m.key, "problem": record["outcome"]})
        else:
            record["outcome"] = outcomes[0]
            if "dlq" in outcomes and outcomes[0] != "dlq" and outcomes[0] != "escalated":
                violations.append({"key": m.key, "problem": f"two outcomes: {outcomes}"})

    # Duplicates. The plan gives every customer at most one message per
    # provider channel, so a recipient getting the same text twice from one
    # provider is a duplicate reply, whether or not the database recorded
    # both sends; provider sends the database does not account for are
    # listed as well.
    recorded = set()
    for row in rows.values():
        for r in row["replies"] or []:
            for pid in (r.get("provider") or "").split(","):
                if pid:
                    recorded.add(pid)

    def email_parts(s):
        head, _, body = s.get("raw", "").replace("\r\n", "\n").partition("\n\n")
        headers = {}
        for line in head.split("\n"):
            name, sep, value = line.partition(":")
            if sep and not line.startswith((" ", "\t")):
                headers[name.strip().lower()] = value.strip()
        return headers.get("to"), body

    duplicates, unrecorded = [], []
    for channel, sent, id_key, identity in (
        ("whatsapp", twilio, "sid",
         lambda s: (s.get("to"), s.get("body") or s.get("content_variables"))),
        ("email", gmail, "id", email_parts),
    ):
        seen = set()
        for s in sent:
            if s.get(id_key) not in recorded:
                unrecorded.append({"channel": channel, "id": s.get(id_key)})
            key = identity(s)
            if key in seen:
                duplicates.append({"channel": channel, "id": s.get(id_key)})
            seen.add(key)

    # Cross-channel identification.
    first_customer: dict[int, str] = {}
    identified = total_cross = 0
    for m, record in zip(plan, messages):
        if not m.customer.cross_channel or "customer_id" not in record:
            continue
        first = first_customer.setdefault(m.customer.index, record["customer_id"])
        if m.after is not None:
            total_cross += 1
            identified += record["customer_id"] == first

    accepted = [r for r in messages if r["accepted"]]
    outcomes: dict[str, int] = {}
    for r in accepted:
        outcomes[r["outcome"]] = outcomes.get(r["outcome"], 0) + 1
    # Disruptions: a message is "calm" when it was not sent within 20 s after
    # one and was not in flight while one began.
    disruptions = [e["t"] - t0 for e in system.events
                   if e["kind"] in DISRUPTIONS]

    def calm(r):
        return not any(0 <= r["sent_at"] - d <= CALM_AFTER_S
                       or 0 <= d - r["sent_at"] <= r["processing_s"] for d in disruptions)

    per_channel = {}
    for channel in ("web_form", "email", "whatsapp"):
        rs = [r for r in accepted if r["channel"] == channel]
        processing = [r["processing_s"] for r in rs if "processing_s" in r]
        processing_calm = [r["processing_s"] for r in rs if "processing_s" in r and calm(r)]
        delivery = [r["delivery_s"] for r in rs if "delivery_s" in r]
        per_channel[channel] = {
            "sent": sum(1 for r in messages if r["channel"] == channel and r["sent_at"] is not None),
            "accepted": len(rs),
            "escalated": sum(1 for r in rs if r["outcome"] == "escalated"),
            "processing_p50_s": percentile(processing, 50),
            "processing_p95_s": percentile(processing, 95),
            "processing_p99_s": percentile(processing, 99),
            "calm_messages": len(processing_calm),
            "processing_p50_calm_s": percentile(processing_calm, 50),
            "processing_p95_calm_s": percentile(processing_calm, 95),
            "delivery_p50_s": percentile(delivery, 50),
            "delivery_p95_s": percentile(delivery, 95),
            "delivery_p99_s": percentile(delivery, 99),
            "agent_p50_s": percentile([r["agent_s"] for r in rs if "agent_s" in r], 50),
            "agent_p95_s": percentile([r["agent_s"] for r in rs if "agent_s" in r], 95),
            "model_p50_s": percentile([r["model_s"] for r in rs if "model_s" in r], 50),
            "model_p95_s": percentile([r["model_s"] for r in rs if "model_s" in r], 95),
            "tools_p50_s": percentile([r["tools_s"] for r in rs if "tools_s" in r], 50),
            "tools_p95_s": percentile([r["tools_s"] for r in rs if "tools_s" in r], 95),
            "outside_agent_p50_s": percentile(
                [r["outside_agent_s"] for r in rs if "outside_agent_s" in r], 50),
            "outside_agent_p95_s": percentile(
                [r["outside_agent_s"] for r in rs if "outside_agent_s" in r], 95),
            "tool_p95_s": {
                tool: percentile([r["tool_s"].get(tool, 0) for r in rs if "tool_s" in r], 95)
                for tool in sorted({t for r in rs for t in r.get("tool_s", {})})},
        }
    escalated_here = sum(1 for r in accepted if r.get("escalation_reason")
                         and r["escalation_reason"] != "already escalated")
    decided = sum(1 for r in accepted if r["outcome"] != "rejected")
    agree = sum(1 for r in accepted
                if (r.get("escalation_reason") is not None)
                == (r["expected"] in ("escalate", "answer_and_escalate")))
    health_ok = sum(1 for h in health if h["ok"])
    return {
        "messages": messages,
        "outcomes": outcomes,
        "violations": violations,
        "duplicates": duplicates,
        "unrecorded_provider_sends": unrecorded,
        "per_channel": per_channel,
        "totals": {
            "sent": sum(1 for r in messages if r["sent_at"] is not None),
            "accepted": len(accepted),
            "rejected": sum(1 for r in messages if r["sent_at"] is not None and not r["accepted"]),
            "customers": len({r["customer"] for r in messages}),
            "cross_channel_customers": len({m.customer.index for m in plan if m.customer.cross_channel}),
            "provider_sends": {"whatsapp": len(twilio), "email": len(gmail)},
        },
        "cross_channel": {"identified": identified, "total": total_cross,
                          "rate": identified / total_cross if total_cross else None},
        "escalation": {"escalated_by_agent": escalated_here,
                       "escalated_incl_follow_ups": outcomes.get("escalated", 0),
                       "rate": escalated_here / decided if decided else None,
                       "sample_mix_expected_rate": (
                           sum(1 for r in accepted if r["expected"] in ("escalate", "answer_and_escalate"))
                           / len(accepted) if accepted else None),
                       "agreement_with_sample_expectation": agree / len(accepted) if accepted else None},
        "uptime": {"probes": len(health), "ok": health_ok,
                   "ratio": health_ok / len(health) if health else None,
                   "failures": [dict(h, t=round(h["t"] - t0, 2)) for h in health if not h["ok"]]},
        "health": [{"t": round(h["t"] - t0, 2), "ok": h["ok"], "ms": h["ms"]} for h in health],
        "dlq": {"entries": [{"headers": d["headers"], "payload": d["payload"][:500]} for d in dlq],
                "count": len(dlq), "read_error": dlq_error},
    }


def criteria(result: dict, short: bool) -> list[dict]:
    """The plan's pass criteria. Enforced (exit code) in both profiles: no
    loss, exactly one outcome, no duplicates, cross-channel > 95 %. Uptime,
    P95 and escalation are enforced in the full profile only: in the short
    one the injected chaos (a PostgreSQL restart, kills) fills a larger
    share of a 100-second window than of a day, and 60-odd sample-mix
    messages are too few for a stable escalation rate; they are printed."""
    p95s = [v for c in result["per_channel"].values()
            for v in (c["processing_p95_s"],) if v is not None]
    worst_p95 = max(p95s) if p95s else None
    esc = result["escalation"]["rate"]
    up = result["uptime"]["ratio"]
    cross = result["cross_channel"]["rate"]
    lost = len(result["violations"])
    return [
        {"name": "uptime > 99.9 %", "value": up, "pass": up is not None and up > 0.999,
         "enforced": not short},
        {"name": "P95 processing < 3 s (every channel)", "value": worst_p95,
         "pass": worst_p95 is not None and worst_p95 < 3.0, "enforced": not short},
        {"name": "escalation < 25 %", "value": esc, "pass": esc is not None and esc < 0.25,
         "enforced": not short},
        {"name": "cross-channel identification > 95 %", "value": cross,
         "pass": cross is not None and cross > 0.95, "enforced": True},
        {"name": "no loss: every accepted message has exactly one outcome",
         "value": lost, "pass": lost == 0 and result["totals"]["accepted"] > 0, "enforced": True},
        {"name": "0 duplicate replies", "value": len(result["duplicates"]),
         "pass": not result["duplicates"], "enforced": True},
    ]
