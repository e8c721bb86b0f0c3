#!/usr/bin/env python3
"""Validate the evaluation tickets and split them into a tuning and a held-out half.

    python3 context/eval/split.py                  # check: validate both halves, re-derive
                                                   # the split from their union, check README counts
    python3 context/eval/split.py --write ALL.json  # split a combined list into the two halves
    python3 context/eval/split.py --stats          # counts as Markdown tables (for README.md)

The second, independently written batch (ids N001..., files tuning-2.json and held-out-2.json,
seed SEED_2, counts in README.md's "Second batch" section) takes the same commands after
`--batch 2`:

    python3 context/eval/split.py --batch 2
    python3 context/eval/split.py --batch 2 --write ALL2.json
    python3 context/eval/split.py --batch 2 --stats

The check of either batch also fails when a ticket id, customer identifier (email or phone),
customer name or message of that batch occurs in the other batch (when the other batch's
files exist).

The third batch (ids R001..., files tuning-3.json and held-out-3.json, seed SEED_3, counts in
README.md's "Third batch" section) likewise takes `--batch 3`:

    python3 context/eval/split.py --batch 3
    python3 context/eval/split.py --batch 3 --write ALL3.json
    python3 context/eval/split.py --batch 3 --stats

Its check fails when a ticket id, customer identifier, customer name or message of the third
batch, or a run of eight consecutive words of one of its messages, also occurs in the first or
the second batch (whose files must exist). The checks of the first two batches are unchanged.

The fourth batch (ids Q001..., files tuning-4.json and held-out-4.json, seed SEED_4, counts in
README.md's "Fourth batch" section) likewise takes `--batch 4`:

    python3 context/eval/split.py --batch 4
    python3 context/eval/split.py --batch 4 --write ALL4.json
    python3 context/eval/split.py --batch 4 --stats

Its check fails when a ticket id, customer identifier, customer name or message of the fourth
batch, or a run of eight consecutive words of one of its messages, also occurs in the first, the
second or the third batch (whose files must exist). The checks of the first three batches are
unchanged.

The split is deterministic: the tickets are sorted by id, shuffled with the batch's seed, and
then assigned one by one to the half where the ticket's kinds (expected action and
reason, each tag, channel, language) are least represented so far. Both halves
therefore hold every kind; the check fails when one does not.

The check also fails when a ticket is malformed: unknown action or reason, a fact id
that product-facts.md does not define, a must_include string that is not copied
character for character from one of the cited facts, a duplicate id or message,
a follow-up without history, a tag that contradicts the expectation, or when
README.md's counts no longer match the files.
"""

import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

SEED = 20250516
SEED_2 = 20261206
SEED_3 = 20261207
SEED_4 = 20261208
HERE = Path(__file__).resolve().parent
FACTS_FILE = HERE.parent / "product-facts.md"
TUNING = HERE / "tuning.json"
HELD_OUT = HERE / "held-out.json"
MIX = HERE / "realistic-mix.json"
README = HERE / "README.md"
TUNING_2 = HERE / "tuning-2.json"
HELD_OUT_2 = HERE / "held-out-2.json"
README_SECTION_2 = "## Second batch (written 2026-12-06)"
TUNING_3 = HERE / "tuning-3.json"
HELD_OUT_3 = HERE / "held-out-3.json"
README_SECTION_3 = "## Third batch (written 2026-12-07)"
TUNING_4 = HERE / "tuning-4.json"
HELD_OUT_4 = HERE / "held-out-4.json"
README_SECTION_4 = "## Fourth batch (written 2026-12-07)"
RUN_WORDS = 8  # a third- or fourth-batch message may share no run of this many consecutive words with an earlier batch

ACTIONS = {"answer", "escalate", "answer_and_escalate", "prompt", "greet", "resolve", "refuse_injection"}
REASONS = ["pricing", "refund", "legal", "anger", "human_request", "search_failed", "account_security"]
CHANNELS = {"email", "whatsapp", "web_form"}
LANGUAGES = ["en", "es", "pt", "de", "fr"]
TAGS = {
    "paraphrase", "typo", "whatsapp_shorthand", "long_email", "direct_escalation", "indirect_escalation",
    "follow_up", "not_in_facts", "injection", "topic_mention", "mixed", "multilingual", "table_order",
    "empty", "greeting", "resolved",
}
# Which expectation each tag implies (a tag outside this map may go with any action).
TAG_ACTIONS = {
    "empty": {"prompt"},
    "greeting": {"greet"},
    "resolved": {"resolve"},
    "mixed": {"answer_and_escalate"},
    "injection": {"refuse_injection", "escalate"},
    "direct_escalation": {"escalate"},
    "indirect_escalation": {"escalate"},
    "table_order": {"escalate"},
}
MAX_MUST_LEN = 60

DESCRIPTIONS = {
    "tuning": (
        "Orbitask evaluation tickets, tuning half. Written from escalation-rules.md and product-facts.md only, "
        "independently of sample-tickets.json. Thresholds, exemplars and prompts may be tuned on this file. "
        "Fields as in sample-tickets.json, plus language, tags, and history (earlier turns of the same "
        "conversation, oldest first; the message is the customer's next turn). Actions: answer, escalate, "
        "answer_and_escalate, prompt, greet, resolve, refuse_injection (a refuse_injection ticket with facts "
        "must also answer the real question beside the injection). See README.md."
    ),
    "held-out": (
        "Orbitask evaluation tickets, held-out half. Never tune on this file: do not read it while choosing "
        "thresholds, exemplars, patterns or prompts; only measure on it. Same schema as tuning.json; see README.md."
    ),
}


DESCRIPTIONS_2 = {
    "tuning-2": (
        "Orbitask evaluation tickets, second batch (written 2026-12-06), tuning half. The second batch was written "
        "independently of the first (tuning.json / held-out.json), of the agent's code and of the knowledge base, "
        "from escalation-rules.md and product-facts.md only. Thresholds, exemplars and prompts may be tuned on this "
        "file. Same schema as tuning.json (ids N001...): fields as in sample-tickets.json, plus language, tags, and "
        "history (earlier turns of the same conversation, oldest first; the message is the customer's next turn). "
        "Actions: answer, escalate, answer_and_escalate, prompt, greet, resolve, refuse_injection (a "
        "refuse_injection ticket with facts must also answer the real question beside the injection). See "
        "README.md, section 'Second batch'."
    ),
    "held-out-2": (
        "Orbitask evaluation tickets, second batch (written 2026-12-06), held-out half. Never tune on this file: "
        "do not read it while choosing thresholds, exemplars, patterns or prompts, and do not copy its phrasings "
        "into code or tests; only measure on it. Written independently of the first batch, of the agent's code and "
        "of the knowledge base. Same schema as tuning-2.json; see README.md, section 'Second batch'."
    ),
}

DESCRIPTIONS_3 = {
    "tuning-3": (
        "Orbitask evaluation tickets, third batch (written 2026-12-07), tuning half. The third batch was written "
        "independently of the first two batches (tuning.json / held-out.json, tuning-2.json / held-out-2.json), of "
        "the agent's code and of the knowledge base, from escalation-rules.md and product-facts.md only. "
        "Thresholds, exemplars and prompts may be tuned on this file. Same schema as tuning.json (ids R001...): "
        "fields as in sample-tickets.json, plus language, tags, and history (earlier turns of the same "
        "conversation, oldest first; the message is the customer's next turn). Actions: answer, escalate, "
        "answer_and_escalate, prompt, greet, resolve, refuse_injection (a refuse_injection ticket with facts must "
        "also answer the real question beside the injection). See README.md, section 'Third batch'."
    ),
    "held-out-3": (
        "Orbitask evaluation tickets, third batch (written 2026-12-07), held-out half. Never tune on this file: "
        "do not read it while choosing thresholds, exemplars, patterns or prompts, and do not copy its phrasings "
        "into code or tests; only measure on it. Written independently of the first two batches, of the agent's "
        "code and of the knowledge base. Same schema as tuning-3.json; see README.md, section 'Third batch'."
    ),
}

DESCRIPTIONS_4 = {
    "tuning-4": (
        "Orbitask evaluation tickets, fourth batch (written 2026-12-07), tuning half. The fourth batch was written "
        "independently of the first three batches (tuning.json / held-out.json, tuning-2.json / held-out-2.json, "
        "tuning-3.json / held-out-3.json), of the agent's code and of the knowledge base, from escalation-rules.md "
        "and product-facts.md only. Thresholds, exemplars and prompts may be tuned on this file. Same schema as "
        "tuning.json (ids Q001...): fields as in sample-tickets.json, plus language, tags, and history (earlier turns "
        "of the same conversation, oldest first; the message is the customer's next turn). Actions: answer, escalate, "
        "answer_and_escalate, prompt, greet, resolve, refuse_injection (a refuse_injection ticket with facts must "
        "also answer the real question beside the injection). See README.md, section 'Fourth batch'."
    ),
    "held-out-4": (
        "Orbitask evaluation tickets, fourth batch (written 2026-12-07), held-out half. Never tune on this file: "
        "do not read it while choosing thresholds, exemplars, patterns or prompts, and do not copy its phrasings "
        "into code or tests; only measure on it. Written independently of the first three batches, of the agent's "
        "code and of the knowledge base. Same schema as tuning-4.json; see README.md, section 'Fourth batch'."
    ),
}

# What differs between the batches. Batch 1 keeps exactly the behaviour it had before batch 2 existed, and
# batches 1 and 2 keep exactly the behaviour they had before batch 3 existed, and batches 1 to 3 keep exactly the
# behaviour they had before batch 4 existed.
BATCHES = {
    1: {"seed": SEED, "prefix": "E", "files": (TUNING, HELD_OUT), "names": ("tuning", "held-out"),
        "descriptions": DESCRIPTIONS, "readme_section": None},
    2: {"seed": SEED_2, "prefix": "N", "files": (TUNING_2, HELD_OUT_2), "names": ("tuning-2", "held-out-2"),
        "descriptions": DESCRIPTIONS_2, "readme_section": README_SECTION_2},
    3: {"seed": SEED_3, "prefix": "R", "files": (TUNING_3, HELD_OUT_3), "names": ("tuning-3", "held-out-3"),
        "descriptions": DESCRIPTIONS_3, "readme_section": README_SECTION_3},
    4: {"seed": SEED_4, "prefix": "Q", "files": (TUNING_4, HELD_OUT_4), "names": ("tuning-4", "held-out-4"),
        "descriptions": DESCRIPTIONS_4, "readme_section": README_SECTION_4},
}


class Invalid(Exception):
    pass


def load_facts():
    facts = {}
    for line in FACTS_FILE.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^- (F\d{3}) (.+)$", line)
        if m:
            if m.group(1) in facts:
                raise Invalid(f"product-facts.md defines {m.group(1)} twice")
            facts[m.group(1)] = m.group(2)
    if len(facts) != 80:
        raise Invalid(f"expected 80 facts in {FACTS_FILE.name}, found {len(facts)}")
    return facts


def kind(t):
    e = t["expect"]
    return e["action"] + (":" + e["reason"] if "reason" in e else "")


def check_ticket(t, facts, prefix="E"):
    tid = t.get("id", "?")

    def need(cond, msg):
        if not cond:
            raise Invalid(f"{tid}: {msg}")

    need(re.fullmatch(prefix + r"\d{3}", tid or ""), f"id must look like {prefix}001")
    allowed = {"id", "channel", "language", "customer", "subject", "history", "message", "expect", "tags", "note"}
    need(set(t) <= allowed, f"unknown fields {sorted(set(t) - allowed)}")
    ch = t.get("channel")
    need(ch in CHANNELS, f"channel {ch!r}")
    need(t.get("language") in LANGUAGES, f"language {t.get('language')!r}")
    c = t.get("customer") or {}
    need(isinstance(c.get("name"), str) and c["name"].strip(), "customer.name missing")
    if ch == "whatsapp":
        need(re.fullmatch(r"\+[0-9 ]{8,20}", c.get("phone", "")), "a WhatsApp customer needs a phone")
        need("subject" not in t, "a WhatsApp ticket has no subject")
    else:
        need(re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", c.get("email", "")), f"a {ch} customer needs an email")
        need(isinstance(t.get("subject"), str) and t["subject"].strip(), f"a {ch} ticket needs a subject")
    need(isinstance(t.get("message"), str), "message must be a string")

    e = t.get("expect") or {}
    a = e.get("action")
    need(a in ACTIONS, f"action {a!r}")
    keys = set(e) - {"action"}
    if a in ("escalate", "answer_and_escalate"):
        need(e.get("reason") in REASONS, f"reason {e.get('reason')!r}")
    else:
        need("reason" not in e, f"{a} has no reason")
    if a in ("answer", "answer_and_escalate") or (a == "refuse_injection" and "facts" in e):
        need(keys - {"reason"} == {"facts", "must_include"}, f"{a} needs facts and must_include")
        fs = e["facts"]
        need(isinstance(fs, list) and fs and len(set(fs)) == len(fs), "facts must be a non-empty list")
        for f in fs:
            need(f in facts, f"fact {f} is not in product-facts.md")
        mi = e["must_include"]
        need(isinstance(mi, list) and 1 <= len(mi) <= 2, "must_include holds 1 or 2 strings")
        for s in mi:
            need(isinstance(s, str) and 0 < len(s) <= MAX_MUST_LEN, f"must_include {s!r} must be short")
            need(any(s in facts[f] for f in fs), f"must_include {s!r} is not verbatim in {fs}")
    else:
        need(keys <= {"reason"}, f"{a} takes no facts or must_include")
    if a == "prompt":
        need(t["message"].strip() == "", "a prompt ticket has an empty or whitespace-only message")
    else:
        need(t["message"].strip() != "", "only prompt tickets may have an empty message")

    tags = t.get("tags")
    need(isinstance(tags, list) and tags and len(set(tags)) == len(tags), "tags must be a non-empty list")
    for tag in tags:
        need(tag in TAGS, f"unknown tag {tag!r}")
        if tag in TAG_ACTIONS:
            need(a in TAG_ACTIONS[tag], f"tag {tag} does not go with action {a}")
    need(("multilingual" in tags) == (t["language"] != "en"), "multilingual tag iff language is not en")
    need(("not_in_facts" not in tags) or e.get("reason") == "search_failed", "not_in_facts means search_failed")
    need(("empty" in tags) == (a == "prompt"), "empty tag iff prompt")
    need(("long_email" not in tags) or ch == "email", "long_email is an email")
    need(("whatsapp_shorthand" not in tags) or ch == "whatsapp", "whatsapp_shorthand is a WhatsApp message")

    hist = t.get("history")
    need(("follow_up" in tags) == bool(hist), "follow_up tag iff history is present")
    if hist is not None:
        need(isinstance(hist, list) and hist, "history must be a non-empty list")
        for turn in hist:
            need(set(turn) == {"role", "message"} and turn["role"] in ("customer", "agent")
                 and turn["message"].strip(), "history turns are {role: customer|agent, message}")
        need(hist[0]["role"] == "customer" and hist[-1]["role"] == "agent",
             "history starts with the customer and ends with the agent's reply")


def check_all(tickets, facts, prefix="E"):
    for t in tickets:
        check_ticket(t, facts, prefix)
    ids = [t["id"] for t in tickets]
    dup = [i for i, n in Counter(ids).items() if n > 1]
    if dup:
        raise Invalid(f"duplicate ids {dup}")
    who = Counter(t["customer"].get("email") or t["customer"].get("phone") for t in tickets)
    dup = [w for w, n in who.items() if n > 1]
    if dup:
        raise Invalid(f"{len(dup)} customer identifiers are used by more than one ticket "
                      "(every ticket is its own customer; earlier turns go in history)")
    msgs = Counter(t["message"].strip().lower() for t in tickets if t["message"].strip())
    dup = [m for m, n in msgs.items() if n > 1]
    if dup:
        raise Invalid(f"duplicate messages {dup}")


def features(t):
    return ["*", "kind:" + kind(t), "channel:" + t["channel"], "lang:" + t["language"]] + [
        "tag:" + g for g in t["tags"]]


def identifier(t):
    return t["customer"].get("email") or t["customer"].get("phone")


def word_runs(text, n=RUN_WORDS):
    """Every run of n consecutive words of a text (lower-cased, punctuation ignored)."""
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def check_other_batch(tickets, other, other_name, runs=False):
    """No ticket id, customer identifier, customer name or message may occur in both batches.

    With runs=True (the third and fourth batches), no run of RUN_WORDS consecutive words of a message may either."""
    def clash(what, fn):
        theirs = {fn(t) for t in other} - {None, ""}
        ids = sorted(t["id"] for t in tickets if fn(t) in theirs)
        if ids:
            # Name only this batch's ids, never the shared text (it may come from a held-out file).
            raise Invalid(f"{what} of {len(ids)} tickets also occur in {other_name}: {', '.join(ids[:10])}")

    clash("the ids", lambda t: t["id"])
    clash("the customer identifiers", identifier)
    clash("the customer names", lambda t: t["customer"]["name"].strip().lower())
    clash("the messages", lambda t: t["message"].strip().lower())
    if runs:
        theirs = set().union(*(word_runs(t["message"]) for t in other))
        ids = sorted(t["id"] for t in tickets if word_runs(t["message"]) & theirs)
        if ids:
            raise Invalid(f"a run of {RUN_WORDS} words of the messages of {len(ids)} tickets also occurs in "
                          f"{other_name}: {', '.join(ids[:10])}")


def split(tickets, seed=SEED):
    """Seeded shuffle, then greedy stratification over every feature of a ticket."""
    order = sorted(tickets, key=lambda t: t["id"])
    rng = random.Random(seed)
    rng.shuffle(order)
    total = Counter(f for t in order for f in features(t))
    counts = [Counter(), Counter()]
    halves = [[], []]
    for t in order:
        fs = features(t)
        # Lower cost = the ticket's kinds are rarer in that half, each feature relative to how often it
        # occurs overall (so a tag with three tickets counts as much as one with ninety); the expected
        # kind and the half's size weigh most.
        cost = [sum(counts[h][f] / total[f] * (3 if f.startswith(("kind:", "*")) else 1) for f in fs)
                for h in (0, 1)]
        if cost[0] != cost[1]:
            h = 0 if cost[0] < cost[1] else 1
        elif len(halves[0]) != len(halves[1]):
            h = 0 if len(halves[0]) < len(halves[1]) else 1
        else:
            h = rng.randrange(2)
        halves[h].append(t)
        counts[h].update(fs)
    return [sorted(x, key=lambda t: t["id"]) for x in halves]


def check_coverage(tuning, held_out, everything):
    for name, half in (("tuning", tuning), ("held-out", held_out)):
        have = {f for t in half for f in features(t)}
        for f in {f for t in everything for f in features(t)}:
            n_all = sum(1 for t in everything if f in features(t))
            if n_all >= 2 and f not in have:
                raise Invalid(f"{name} half has no ticket of {f}")
    if abs(len(tuning) - len(held_out)) > len(everything) // 20 + 1:
        raise Invalid(f"halves are unbalanced: {len(tuning)} / {len(held_out)}")


def write_half(path, name, tickets, descriptions=DESCRIPTIONS):
    doc = {"description": descriptions[name], "tickets": tickets}
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def load_half(path):
    doc = json.loads(path.read_text(encoding="utf-8"))
    if set(doc) != {"description", "tickets"}:
        raise Invalid(f"{path.name}: top level must be {{description, tickets}}")
    return doc["tickets"]


def load_mix():
    doc = json.loads(MIX.read_text(encoding="utf-8"))
    total = sum(c["weight"] for c in doc["classes"])
    if abs(total - 1.0) > 1e-9:
        raise Invalid(f"realistic-mix weights sum to {total}, not 1")
    for c in doc["classes"]:
        if c["action"] not in ACTIONS or ("reason" in c and c["reason"] not in REASONS):
            raise Invalid(f"realistic-mix: unknown class {c}")
    return doc["classes"]


def mix_class(t, classes):
    e = t["expect"]
    for c in classes:
        if c["action"] == e["action"] and c.get("reason") in (None, e.get("reason")):
            return c
    raise Invalid(f"{t['id']}: no realistic-mix class for {kind(t)}")


def weighted_rate(tickets, escalated, classes):
    """Escalation rate of a realistic day: each class's weight is shared by its tickets in this set.

    escalated(t) says whether the ticket was (or, for the expected rate, should be) escalated.
    Classes with no ticket in the set are left out and the remaining weights renormalised."""
    by_class = {}
    for t in tickets:
        by_class.setdefault(id(mix_class(t, classes)), []).append(t)
    num = den = 0.0
    for c in classes:
        ts = by_class.get(id(c), [])
        if ts:
            num += c["weight"] * sum(1 for t in ts if escalated(t)) / len(ts)
            den += c["weight"]
    return num / den


def expected_escalation(t):
    return t["expect"]["action"] in ("escalate", "answer_and_escalate")


def table(title, rows, names=("tuning", "held-out")):
    out = [f"| {title} | {names[0]} | {names[1]} | all |", "| --- | ---: | ---: | ---: |"]
    out += [f"| {k} | {a} | {b} | {a + b} |" for k, a, b in rows]
    return "\n".join(out)


def stats(tuning, held_out, facts, names=("tuning", "held-out")):
    def count(fn):
        ct, ch = Counter(), Counter()
        for t in tuning:
            ct.update(fn(t))
        for t in held_out:
            ch.update(fn(t))
        keys = sorted(set(ct) | set(ch), key=lambda k: (-(ct[k] + ch[k]), k))
        return [(k, ct[k], ch[k]) for k in keys]

    parts = [
        table("tickets", [("total", len(tuning), len(held_out))], names),
        table("action", count(lambda t: [t["expect"]["action"]]), names),
        table("reason (escalate and answer_and_escalate)",
              count(lambda t: [t["expect"]["reason"]] if "reason" in t["expect"] else []), names),
        table("channel", count(lambda t: [t["channel"]]), names),
        table("language", count(lambda t: [t["language"]]), names),
        table("tag", count(lambda t: t["tags"]), names),
    ]
    def cited(ts):
        return len({f for t in ts for f in t["expect"].get("facts", [])})

    parts.append(f"| distinct facts cited | {names[0]} | {names[1]} | all |\n| --- | ---: | ---: | ---: |\n"
                 f"| facts | {cited(tuning)} | {cited(held_out)} | {cited(tuning + held_out)} of {len(facts)} |")
    classes = load_mix()
    rt = weighted_rate(tuning, expected_escalation, classes)
    rh = weighted_rate(held_out, expected_escalation, classes)
    ra = weighted_rate(tuning + held_out, expected_escalation, classes)
    parts.append(f"Expected escalation rate on the realistic mix: {names[0]} {rt:.1%}, {names[1]} {rh:.1%}, "
                 f"all {ra:.1%}.")
    return "\n\n".join(parts)


def readme_part(text, section):
    """Batch 1's counts live before the second batch's section; batch 2's counts inside it."""
    if section is None:
        return text.split("\n" + README_SECTION_2 + "\n")[0]
    start = text.find("\n" + section + "\n")
    if start < 0:
        raise Invalid(f"README.md has no section {section!r}")
    rest = text[start + len(section) + 2:]
    end = rest.find("\n## ")
    return rest if end < 0 else rest[:end]


def other_batch(batch):
    """The other batch's tickets, or None when its files do not exist yet.

    For the third batch, the tickets of the first and second batches together (both must exist); for the fourth
    batch, the tickets of the first three batches together (all must exist)."""
    if batch in (3, 4):
        files = tuple(f for b in range(1, batch) for f in BATCHES[b]["files"])
        missing = [f.name for f in files if not f.exists()]
        if missing:
            raise Invalid(f"the earlier batches' files are missing: {', '.join(missing)}")
        return [t for f in files for t in load_half(f)], ", ".join(f.name for f in files)
    other = 2 if batch == 1 else 1
    files = BATCHES[other]["files"]
    if not all(f.exists() for f in files):
        if other == 1:
            raise Invalid("the first batch's files are missing")
        return None, None
    return [t for f in files for t in load_half(f)], " and ".join(f.name for f in files)


def main(argv):
    batch = 1
    if argv[:1] == ["--batch"]:
        if len(argv) < 2 or argv[1] not in ("1", "2", "3", "4"):
            print(__doc__, file=sys.stderr)
            return 2
        batch, argv = int(argv[1]), argv[2:]
    cfg = BATCHES[batch]
    tuning_file, held_out_file = cfg["files"]
    tuning_name, held_out_name = cfg["names"]
    facts = load_facts()
    if len(argv) == 2 and argv[0] == "--write":
        src = json.loads(Path(argv[1]).read_text(encoding="utf-8"))["tickets"]
        check_all(src, facts, cfg["prefix"])
        other, other_name = other_batch(batch)
        if other is not None:
            check_other_batch(src, other, other_name, runs=batch in (3, 4))
        tuning, held_out = split(src, cfg["seed"])
        check_coverage(tuning, held_out, src)
        write_half(tuning_file, tuning_name, tuning, cfg["descriptions"])
        write_half(held_out_file, held_out_name, held_out, cfg["descriptions"])
        print(f"wrote {len(tuning)} {tuning_name} and {len(held_out)} {held_out_name} tickets")
        return 0
    if argv not in ([], ["--stats"]):
        print(__doc__, file=sys.stderr)
        return 2
    tuning, held_out = load_half(tuning_file), load_half(held_out_file)
    union = tuning + held_out
    check_all(union, facts, cfg["prefix"])
    other, other_name = other_batch(batch)
    if other is not None:
        check_other_batch(union, other, other_name, runs=batch in (3, 4))
    again = split(union, cfg["seed"])
    if [[t["id"] for t in h] for h in again] != [[t["id"] for t in h] for h in (tuning, held_out)]:
        raise Invalid("the halves are not the deterministic split of their union (edited by hand?)")
    if [json.dumps(t, sort_keys=True) for t in again[0] + again[1]] != \
            [json.dumps(t, sort_keys=True) for t in tuning + held_out]:
        raise Invalid("tickets are not stored sorted by id")
    check_coverage(tuning, held_out, union)
    load_mix()
    text = stats(tuning, held_out, facts, cfg["names"])
    if argv == ["--stats"]:
        print(text)
    elif text not in readme_part(README.read_text(encoding="utf-8"), cfg["readme_section"]):
        raise Invalid("README.md's counts are out of date: paste the output of --stats"
                      + (f" into the section {cfg['readme_section']!r}" if cfg["readme_section"] else ""))
    else:
        print(f"ok: {len(tuning)} {tuning_name} + {len(held_out)} {held_out_name} tickets, "
              f"{len({f for t in union for f in t['expect'].get('facts', [])})} facts cited")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Invalid as err:
        print(f"invalid: {err}", file=sys.stderr)
        sys.exit(1)
