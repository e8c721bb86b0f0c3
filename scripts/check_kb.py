#!/usr/bin/env python3
"""Check the knowledge base in kb/ against context/product-facts.md.

Usage: python3 scripts/check_kb.py [--root DIR]

Exits 0 and prints one summary line when every rule holds; otherwise prints
one line per problem (path: message), then the summary, and exits 1.
Standard library only, so it runs anywhere Python 3.8+ does.

Rules
-----
Articles are the files kb/<category>/<slug>.md (kb/README.md is not one).

1. Count: there are at least MIN_ARTICLES articles.
2. Front matter: the file starts with a "---" line, then "key: value" lines,
   then a closing "---" line, then a non-empty body. Exactly the keys
   `title`, `category` and `facts` are present:
   - title: a non-empty single-line plain scalar (no ": " or " #" inside, no
     leading YAML indicator character) or a matching-quoted string; unique
     across the knowledge base;
   - category: one of CATEGORIES and equal to the folder name;
   - facts: an inline list like [F001, F002] of known fact ids, no duplicates,
     at least one.
   The slug is lowercase letters, digits and hyphens; the body has at least
   MIN_BODY_WORDS words.
3. Coverage: every fact in product-facts.md is listed by at least one article.
4. Money: no currency symbol ($ € £ ¥), currency code (USD, EUR, GBP),
   "discount", "coupon", "% off", "per seat per month" style price, or an
   amount like "12 dollars". Prices, refunds and offers are for people.
5. Menu paths: wherever an article writes " > " it is a menu path, and it
   must be a path (or a prefix of a path, like "Admin > Billing" for
   "Admin > Billing > Invoices") that appears in one of the facts the article
   lists. A line is cut into clauses at ", ", "; " and sentence ends, each
   clause holding " > " is split on " > " into parts p0 > p1 > ... > pn, and
   it matches a fact path s0 > s1 > ... > sk (k >= n) when:
     - p0 ends with the last word of s0 (the start of a path inside prose is
       ambiguous, so only the word right before the first " > " is compared),
     - p1 ... p(n-1) equal s1 ... s(n-1) exactly,
     - pn starts with sn, followed by the end of the clause or a character
       that is not a letter or digit.
   Fact paths are read from the facts with the same cutting; the last segment
   of a fact path ends at punctuation, " (" or a joining word such as "is" or
   "gives". Markdown emphasis (*, _, `) is ignored. Write two menu paths in
   one sentence with a comma or semicolon between them.
6. Numbers: every number in an article (title and body; numbered-list
   markers "1. " excluded; numbers glued to letters or hyphens on the left,
   like "ORB-123", "AES-256" or "v2", excluded) must occur as a number in the
   text of the facts the article lists. A number is digits with optional
   ",", "." or ":" groups ("10,000", "99.9", "08:00"), an optional en-dash
   range ("1–4"), an optional ordinal suffix ("1st") and an optional "%".
   When a word follows the number directly (after a space or a hyphen, as in
   "30 minutes", "250 MB", "14-day") that word is its unit, and some
   occurrence of the same number in those facts must have the same word
   (case-insensitive, a trailing "s" ignored) among the three words that
   follow it. So "30 minutes" passes for F001, while "60 minutes", "30 hours"
   or "30 minutes" in an article that does not list F001 (or another fact
   saying it) fail. Write numbers as digits, as the facts do.
7. Sample tickets: for every ticket in context/sample-tickets.json whose
   expected action is `answer` or `answer_and_escalate`, each must_include
   string appears verbatim (case-sensitive) in at least one article that
   lists at least one of the ticket's facts.
8. No emoji anywhere in an article.
"""

import argparse
import json
import re
import sys
from pathlib import Path

MIN_ARTICLES = 100
MIN_BODY_WORDS = 50
CATEGORIES = (
    "account",
    "workspaces",
    "projects",
    "automations",
    "notifications",
    "integrations",
    "api",
    "apps",
    "data",
    "billing",
    "service",
)
REQUIRED_KEYS = ("title", "category", "facts")
ANSWER_ACTIONS = ("answer", "answer_and_escalate")

FACT_LINE = re.compile(r"^- (F\d{3}) (.+)$")
FACT_ID = re.compile(r"^F\d{3}$")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

MONEY_PATTERNS = (
    (re.compile(r"[$€£¥]"), "currency symbol"),
    (re.compile(r"\b(?:USD|EUR|GBP)\b"), "currency code"),
    (re.compile(r"discount", re.IGNORECASE), '"discount"'),
    (re.compile(r"coupon", re.IGNORECASE), '"coupon"'),
    (re.compile(r"%\s*off\b", re.IGNORECASE), '"% off"'),
    (re.compile(r"\b\d[\d,.]*\s*(?:dollars?|euros?|pounds?|cents?)\b", re.IGNORECASE), "amount of money"),
    (re.compile(r"\bper (?:seat|user|member) per (?:month|year)\b", re.IGNORECASE), "price wording"),
)

# Numbers: not glued to a word, hyphen, dot, comma, colon, slash or dash on the left.
NUMBER = re.compile(
    r"(?<![\w.,:/–-])"
    r"(\d+(?:[.,:]\d+)*(?:–\d+)?(?:st|nd|rd|th)?%?)"
    r"(?![\w])"
    r"(?:(?:\s+|-)([A-Za-z][A-Za-z'-]*))?"
)
LIST_MARKER = re.compile(r"^(\s*)\d+\.\s", re.MULTILINE)
WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'.,:%–-]*")

PATH_SEP = " > "
CLAUSE_CUT = re.compile(r",\s|;\s|\.\s|\.$|:\s|\s—\s|\s\(e\.g\.")
LAST_SEGMENT_STOP = re.compile(
    r"[,;:.!?\"(]|\s(?:is|are|gives|lists|shows|opens|and|or|with|the|a|an|which|where|that|can)\b"
)
EMPHASIS = re.compile(r"[*_`]")
EMOJI = re.compile(
    "[\U0001F000-\U0001FAFF\U00002600-\U000027BF\U0001F900-\U0001F9FF\U00002B50\U00002B55\uFE0F]"
)


class Fact:
    def __init__(self, fact_id, text):
        self.id = fact_id
        self.text = text
        self.numbers = number_occurrences(text)
        self.paths = fact_paths(text)


def number_occurrences(text):
    """Map each number in text to the lists of (up to) three words after it."""
    occurrences = {}
    for match in NUMBER.finditer(text):
        following = WORD.findall(text[match.end(1):])[:3]
        occurrences.setdefault(match.group(1), []).append([normalise_word(w) for w in following])
    return occurrences


def normalise_word(word):
    word = word.lower().strip("'.,:;")
    if len(word) > 3 and word.endswith("s"):
        word = word[:-1]
    return word


def clauses_with_paths(line):
    for clause in CLAUSE_CUT.split(line):
        if PATH_SEP in clause:
            yield clause


def fact_paths(text):
    """Menu paths in a fact, each a list of segments (first segment: last word only)."""
    paths = []
    for clause in clauses_with_paths(text):
        parts = clause.split(PATH_SEP)
        first = parts[0].split()[-1] if parts[0].split() else ""
        last = LAST_SEGMENT_STOP.split(parts[-1], maxsplit=1)[0].strip()
        segments = [first] + [p.strip() for p in parts[1:-1]] + [last]
        if all(segments):
            paths.append(segments)
    return paths


def path_matches(parts, fact_path):
    n = len(parts) - 1
    if n < 1 or len(fact_path) <= n:
        return False
    head = parts[0].split()
    if not head or head[-1] != fact_path[0]:
        return False
    for i in range(1, n):
        if parts[i].strip() != fact_path[i]:
            return False
    tail = parts[n]
    want = fact_path[n]
    if not tail.startswith(want):
        return False
    rest = tail[len(want):]
    return rest == "" or not rest[0].isalnum()


def load_facts(path):
    facts = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = FACT_LINE.match(line.strip())
        if match:
            facts[match.group(1)] = Fact(match.group(1), match.group(2))
    return facts


def parse_scalar(raw):
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return raw[1:-1], None
    if raw and raw[0] in "[]{}&*!|>'\"%@`#,?-":
        return None, "starts with a YAML indicator character"
    if ": " in raw or " #" in raw or raw.endswith(":"):
        return None, 'contains ": " or " #"; quote it'
    return raw, None


def parse_article(text):
    """Return (front matter dict, body, list of problems)."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return None, None, ["front matter missing: the file must start with a '---' line"]
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        return None, None, ["front matter not closed with a '---' line"]
    meta, problems = {}, []
    for raw in lines[1:end]:
        if not raw.strip():
            continue
        if ":" not in raw:
            problems.append(f"front matter line is not 'key: value': {raw!r}")
            continue
        key, value = raw.split(":", 1)
        key = key.strip()
        if key in meta:
            problems.append(f"front matter key {key!r} repeated")
        meta[key] = value.strip()
    return meta, "\n".join(lines[end + 1:]), problems


def check_front_matter(rel, folder, meta, facts, titles):
    problems = []
    for key in REQUIRED_KEYS:
        if key not in meta:
            problems.append(f"front matter: missing {key!r}")
    for key in meta:
        if key not in REQUIRED_KEYS:
            problems.append(f"front matter: unknown key {key!r}")
    title, listed = None, []
    if "title" in meta:
        title, error = parse_scalar(meta["title"])
        if error:
            problems.append(f"front matter: title {error}")
        elif not title.strip():
            problems.append("front matter: empty title")
        elif title.lower() in titles:
            problems.append(f"front matter: title {title!r} also used by {titles[title.lower()]}")
        else:
            titles[title.lower()] = rel
    if "category" in meta:
        category = meta["category"]
        if category not in CATEGORIES:
            problems.append(f"front matter: unknown category {category!r}")
        if category != folder:
            problems.append(f"front matter: category {category!r} differs from folder {folder!r}")
    if "facts" in meta:
        raw = meta["facts"]
        if not (raw.startswith("[") and raw.endswith("]")):
            problems.append("front matter: facts must be an inline list like [F001, F002]")
        else:
            items = [item.strip() for item in raw[1:-1].split(",") if item.strip()]
            if not items:
                problems.append("front matter: facts list is empty")
            for item in items:
                if not FACT_ID.match(item):
                    problems.append(f"front matter: {item!r} is not a fact id")
                elif item not in facts:
                    problems.append(f"front matter: unknown fact id {item}")
                elif item in listed:
                    problems.append(f"front matter: fact {item} listed twice")
                else:
                    listed.append(item)
    return title, listed, problems


def check_money(text):
    problems = []
    for pattern, label in MONEY_PATTERNS:
        match = pattern.search(text)
        if match:
            problems.append(f"money: {label} {match.group(0)!r} (prices, refunds and offers are not in the knowledge base)")
    return problems


def check_paths(text, listed, facts):
    problems = []
    own = [p for fid in listed for p in facts[fid].paths]
    other = {}
    for fid, fact in facts.items():
        for p in fact.paths:
            other.setdefault(fid, []).append(p)
    for line in EMPHASIS.sub("", text).splitlines():
        for clause in clauses_with_paths(line):
            parts = clause.split(PATH_SEP)
            if any(path_matches(parts, p) for p in own):
                continue
            shown = clause.strip()
            elsewhere = [fid for fid, paths in other.items() if any(path_matches(parts, p) for p in paths)]
            if elsewhere:
                problems.append(f"menu path {shown!r} comes from {', '.join(elsewhere)}, which the article does not list")
            else:
                problems.append(f"menu path {shown!r} is not in the product facts")
    return problems


def check_numbers(text, listed, facts):
    problems = []
    allowed = {}
    for fid in listed:
        for number, follows in facts[fid].numbers.items():
            allowed.setdefault(number, []).extend(follows)
    scanned = LIST_MARKER.sub(r"\1", text)
    seen = set()
    for match in NUMBER.finditer(scanned):
        number, unit = match.group(1), match.group(2)
        token = f"{number} {unit}" if unit else number
        if token in seen:
            continue
        seen.add(token)
        if number not in allowed:
            problems.append(f"number {token!r} does not occur in the listed facts ({', '.join(listed) or 'none'})")
        elif unit and not any(normalise_word(unit) in follows for follows in allowed[number]):
            problems.append(f"number {token!r}: the listed facts never say {number} with {unit!r}")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=Path(__file__).resolve().parent.parent, type=Path)
    args = parser.parse_args()
    root = args.root
    facts_path = root / "context" / "product-facts.md"
    tickets_path = root / "context" / "sample-tickets.json"
    kb = root / "kb"

    problems = []
    facts = load_facts(facts_path)
    if not facts:
        print(f"{facts_path}: no facts found", file=sys.stderr)
        return 1

    articles = {}  # rel path -> (listed facts, full text)
    titles = {}
    covered = set()
    files = sorted(p for p in kb.glob("*/*.md"))
    stray = sorted(p for p in kb.rglob("*.md") if p not in files and p.parent != kb)
    for path in stray:
        problems.append(f"{path.relative_to(root)}: articles live exactly one folder deep, kb/<category>/<slug>.md")
    for path in files:
        rel = str(path.relative_to(root))
        folder = path.parent.name
        text = path.read_text(encoding="utf-8")
        local = []
        if not SLUG.match(path.stem):
            local.append("file name must be lowercase words joined by hyphens")
        meta, body, parse_problems = parse_article(text)
        local.extend(parse_problems)
        listed, title = [], ""
        if meta is not None:
            title, listed, fm_problems = check_front_matter(rel, folder, meta, facts, titles)
            local.extend(fm_problems)
            title = title or ""
            if len(body.split()) < MIN_BODY_WORDS:
                local.append(f"body has {len(body.split())} words; at least {MIN_BODY_WORDS} expected")
            content = f"{title}\n{body}"
            local.extend(check_money(content))
            local.extend(check_paths(content, listed, facts))
            local.extend(check_numbers(content, listed, facts))
            emoji = EMOJI.search(content)
            if emoji:
                local.append(f"emoji {emoji.group(0)!r} in the article")
            covered.update(listed)
            articles[rel] = (listed, content)
        problems.extend(f"{rel}: {p}" for p in local)

    if len(files) < MIN_ARTICLES:
        problems.append(f"kb: {len(files)} articles; at least {MIN_ARTICLES} expected")
    for fid in sorted(set(facts) - covered):
        problems.append(f"{fid}: no article lists this fact")

    tickets = json.loads(tickets_path.read_text(encoding="utf-8"))["tickets"]
    for ticket in tickets:
        expect = ticket.get("expect", {})
        if expect.get("action") not in ANSWER_ACTIONS:
            continue
        wanted_facts = set(expect.get("facts", []))
        for needle in expect.get("must_include", []):
            if not any(wanted_facts & set(listed) and needle in content for listed, content in articles.values()):
                problems.append(
                    f"{ticket['id']}: {needle!r} is in no article listing {', '.join(sorted(wanted_facts))}"
                )

    for problem in problems:
        print(problem)
    print(f"kb: {len(files)} articles, {len(covered & set(facts))}/{len(facts)} facts covered, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
