"""Unit tests of the harness's own logic: signing as the providers do, the
traffic plan, percentiles and the pass criteria.

    PYTHONPATH=.local/py python3 -m unittest discover -s loadtest/harness"""

from __future__ import annotations

import json
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import day  # noqa: E402
import procs  # noqa: E402
import reconcile  # noqa: E402
import traffic  # noqa: E402
from traffic import signing  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


class Signing(unittest.TestCase):
    def test_the_identity_token_matches_the_gateways(self):
        # The vector of fte_channels::web_identity (openssl dgst -sha256 -hmac s3cret).
        self.assertEqual(
            traffic.identity_token("s3cret", " Maria.Santos@Example.com "),
            "1917d3e73e96d718026fb96368c16658e3198ee2adeac4eb789ecac7fa1b65c5")

    def test_the_twilio_signature_validates_and_a_tampered_body_does_not(self):
        from twilio.request_validator import RequestValidator
        form = signing.whatsapp_form("SMabc", "+34612345678", "hello")
        url = "http://127.0.0.1:8000/webhooks/whatsapp"
        signature = signing.twilio_signature("token", url, form)
        validator = RequestValidator("token")
        self.assertTrue(validator.validate(url, form, signature))
        self.assertFalse(validator.validate(url, dict(form, Body="changed"), signature))

    def test_the_push_token_verifies_with_the_fakes_published_key(self):
        from google.auth import crypt, jwt
        signer = signing.PushSigner("aud-1", "push@example.iam.gserviceaccount.com")
        token = signer.bearer().removeprefix("Bearer ")
        public = (ROOT / "crates/fte-fakes/testdata/test_key_a.pub.pem").read_text()
        claims = jwt.decode(token, certs={signing.TEST_KEY_ID: public}, audience="aud-1")
        self.assertEqual(claims["iss"], "https://accounts.google.com")
        self.assertTrue(claims["email_verified"])
        header = json.loads(__import__("base64").urlsafe_b64decode(token.split(".")[0] + "=="))
        self.assertEqual(header["alg"], "RS256")
        self.assertEqual(header["kid"], signing.TEST_KEY_ID)
        other = (ROOT / "crates/fte-fakes/testdata/test_key_b.pub.pem").read_text()
        with self.assertRaises(ValueError):
            jwt.decode(token, certs={signing.TEST_KEY_ID: other}, audience="aud-1")


class Plan(unittest.TestCase):
    def test_the_plan_has_the_counts_and_cross_channel_customers_use_all_three_channels(self):
        plan = traffic.plan(600, web=110, email=60, whatsapp=60, cross=15, seed=7, mix="samples")
        counts = {c: sum(1 for m in plan if m.channel == c) for c in traffic.CHANNELS}
        self.assertEqual(counts, {"web_form": 110, "email": 60, "whatsapp": 60})
        cross = [m for m in plan if m.customer.cross_channel]
        self.assertEqual(len({m.customer.index for m in cross}), 15)
        for index in {m.customer.index for m in cross}:
            channels = [m.channel for m in sorted(cross, key=lambda m: m.at)
                        if m.customer.index == index]
            self.assertEqual(channels, ["web_form", "email", "whatsapp"])
        self.assertTrue(all(m.ticket["channel"] == m.channel for m in plan),
                        "each message comes from its channel's sample tickets")
        self.assertTrue(all(0 <= m.at <= 600 for m in plan))


    def test_the_realistic_mix_follows_its_weights_and_never_uses_held_out_tickets(self):
        plan = traffic.plan(600, web=400, email=300, whatsapp=300, cross=15, seed=3)
        held_out = {t["id"] for t in json.loads(
            (ROOT / "context/eval/held-out.json").read_text())["tickets"]}
        self.assertFalse(held_out & {m.ticket["id"] for m in plan})
        escalating = sum(m.ticket["expect"]["action"] in ("escalate", "answer_and_escalate")
                         for m in plan) / len(plan)
        expected = traffic.Mix("realistic").expected_escalation_rate()
        self.assertAlmostEqual(expected, 0.135, delta=0.03)
        self.assertAlmostEqual(escalating, expected, delta=0.04)

    def test_traffic_has_the_shape_of_a_day(self):
        plan = traffic.plan(600, web=400, email=300, whatsapp=300, cross=0, seed=5)
        d = day.Day(600)
        night = sum(1 for m in plan if d.hour_of(m.at) < 6)
        office = sum(1 for m in plan if 9 <= d.hour_of(m.at) < 15)
        self.assertGreater(office, 4 * night)


class Schedule(unittest.TestCase):
    def test_faults_are_compressed_by_the_traffics_factor(self):
        import random
        d = day.Day(600)
        self.assertEqual(d.factor, 144)
        faults = d.faults(random.Random(1), workers=2, brokers=3)
        kills = [f for f in faults if f.kind == "pod kill"]
        self.assertEqual(len(kills), 12, "one every two compressed hours")
        self.assertEqual([round(b.at_s - a.at_s) for a, b in zip(kills, kills[1:])], [50] * 11)
        self.assertEqual(sum(f.detail["signal"] == "kill -9" for f in kills), 3)
        stopped = next(f for f in faults if f.kind == "broker stopped")
        self.assertEqual(round(stopped.seconds), 50)
        self.assertIn(stopped.detail["broker"], (1, 2, 3))
        twilio = next(f for f in faults if f.kind == "twilio down")
        self.assertEqual(round(twilio.seconds), 25)
        self.assertTrue(all(0 < f.at_s < 600 for f in faults))


class Criteria(unittest.TestCase):
    def result(self, **overrides):
        base = {
            "per_channel": {"web_form": {"processing_p95_s": 1.2}, "email": {"processing_p95_s": 2.0}},
            "escalation": {"rate": 0.2}, "uptime": {"ratio": 0.9995},
            "cross_channel": {"rate": 1.0}, "violations": [], "duplicates": [],
            "totals": {"accepted": 10},
        }
        base.update(overrides)
        return base

    def test_percentiles_take_the_nearest_rank(self):
        self.assertEqual(reconcile.percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95), 10)
        self.assertEqual(reconcile.percentile([1, 2, 3, 4], 50), 2)
        self.assertIsNone(reconcile.percentile([], 95))

    def test_every_criterion_passes_on_a_clean_result(self):
        self.assertTrue(all(c["pass"] for c in reconcile.criteria(self.result(), short=False)))

    def test_a_lost_message_or_a_duplicate_fails_even_the_short_profile(self):
        lost = reconcile.criteria(self.result(violations=[{"key": "k", "problem": "lost"}]), True)
        self.assertTrue(any(c["enforced"] and not c["pass"] for c in lost))
        dup = reconcile.criteria(self.result(duplicates=[{"id": "SM1"}]), True)
        self.assertTrue(any(c["enforced"] and not c["pass"] for c in dup))

    def test_slow_p95_fails_the_full_profile_and_is_only_reported_in_the_short_one(self):
        slow = self.result(per_channel={"web_form": {"processing_p95_s": 4.0}})
        full = {c["name"]: c for c in reconcile.criteria(slow, short=False)}
        short = {c["name"]: c for c in reconcile.criteria(slow, short=True)}
        name = "P95 processing < 3 s (every channel)"
        self.assertFalse(full[name]["pass"])
        self.assertTrue(full[name]["enforced"])
        self.assertFalse(short[name]["enforced"])


class Group(unittest.TestCase):
    def test_the_assigned_partitions_are_read_for_the_incoming_topic_only(self):
        text = "\n".join([
            "# HELP fte_kafka_assigned_partitions Partitions assigned",
            "# TYPE fte_kafka_assigned_partitions gauge",
            'fte_kafka_assigned_partitions{group="fte-message-processor",topic="fte.tickets.incoming"} 2',
            'fte_kafka_assigned_partitions{group="fte-metrics-collector",topic="fte.metrics"} 5',
            'fte_kafka_consumer_lag{group="g",topic="fte.tickets.incoming",partition="0"} 7',
        ])
        self.assertEqual(procs.parse_assigned(text), 2)
        self.assertEqual(procs.parse_assigned(""), 0)


class TurnSplit(unittest.TestCase):
    def test_the_model_and_the_tools_are_summed_from_the_turns_log(self):
        log = [{"model_ms": 1004}, {"tool": "search_knowledge_base", "outcome": "ok", "ms": 38},
               {"tool": "send_response", "outcome": "ok", "ms": 0}, {"guard": "subject_withheld"}]
        self.assertEqual(reconcile.turn_split(log), (1.004, 0.038))

    def test_each_tool_s_time_is_summed_by_name(self):
        log = [{"model_ms": 1004}, {"tool": "search_knowledge_base", "ms": 38},
               {"tool": "search_knowledge_base", "ms": 12}, {"tool": "send_response", "ms": 0},
               {"guard": "subject_withheld"}]
        self.assertEqual(reconcile.tool_times(log),
                         {"search_knowledge_base": 0.05, "send_response": 0.0})
        self.assertEqual(reconcile.tool_times(None), {})

    def test_the_worker_s_phases_come_from_its_handled_lines_only(self):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "worker-1.log"
            lines = [json.dumps({"message": "message handled", "accept_ms": ms, "finish_ms": 2 * ms})
                     for ms in range(1, 101)]
            lines += ['{"message": "reply sender started"}', "not json \"message handled\""]
            path.write_text("\n".join(lines))
            phases = reconcile.worker_phases([path, Path(folder) / "missing.log"])
        self.assertEqual(phases["accept_p50_s"], 0.05)
        self.assertEqual(phases["accept_p95_s"], 0.095)
        self.assertEqual(phases["finish_p95_s"], 0.19)

    def test_a_turn_without_a_model_has_no_split(self):
        self.assertIsNone(reconcile.turn_split([{"tool": "search_knowledge_base", "outcome": "ok"}]))
        self.assertIsNone(reconcile.turn_split(None))


if __name__ == "__main__":
    unittest.main()
