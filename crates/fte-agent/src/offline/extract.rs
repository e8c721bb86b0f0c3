//! The extractive answer: the sentences, steps and table rows of the best
//! articles closest to the question (by embedding similarity, shared
//! keywords and position), answered part by part when a message asks
//! several things, copied verbatim so every number and menu path stays as
//! the knowledge base states it.

use fte_domain::Channel;
use fte_domain::format::split_sentences;

use super::retrieval::{asked_part, keyword_set};
use super::units::{Unit, answer_units};
use crate::embed::{EmbeddingCache, cosine};
use crate::search::{HybridSearch, SearchResults};
use crate::triage::fold;
use crate::types::AgentError;

/// A sentence joins the answer when its similarity to the question is at
/// least this share of the best sentence's similarity.
const SENTENCE_KEEP_RATIO: f32 = 0.8;
/// Units below this similarity never join the answer.
const MIN_UNIT_SCORE: f32 = 0.2;

/// The most relevant sentences of the best articles, in article order;
/// a numbered step of the best article pulls in its whole list (a
/// how-to is its steps).
pub(super) async fn extract_answer(
    search: &HybridSearch,
    cache: &EmbeddingCache,
    question: &str,
    results: &SearchResults,
    channel: Channel,
) -> Result<String, AgentError> {
    // A message asking several things ("the limits per plan, how to
    // create them, and also sprints") may draw on one article per part.
    let parts = question_parts(question);
    let multi_part = parts.len() >= MULTI_PART_MIN;
    let articles = results.top_articles(if multi_part { parts.len().max(3) } else { 3 });
    let Some(best) = articles.first() else {
        return Ok(String::new());
    };
    let best_article_score = best[0].score;
    let mut units: Vec<Unit> = Vec::new();
    let mut lists = 0;
    for (rank, article) in articles.iter().enumerate() {
        // Other articles compete only when the search ranked them
        // nearly as high (a message with several questions).
        if rank > 0 && article[0].score < best_article_score * 0.8 {
            continue;
        }
        units.extend(answer_units(article, rank, &mut lists));
    }
    if units.is_empty() {
        return Ok(String::new());
    }
    let part_count = if multi_part { parts.len() } else { 0 };
    // What the message asks, without the situation told around it.
    let asked = asked_sentences(question);
    let focused = asked.is_some();
    let mut texts: Vec<String> = vec![question.to_owned()];
    texts.extend(asked);
    texts.extend(resolve_pronouns(&parts[..part_count]));
    texts.extend(units.iter().map(|u| u.context.clone()));
    // The message and its parts are new; the article sentences recur.
    let fresh = texts.len() - units.len();
    let embedder = search.embedder().as_ref();
    let mut vectors = embedder.embed(&texts[..fresh]).await?;
    vectors.extend(cache.embed(embedder, &texts[fresh..]).await?);
    let (query, rest) = vectors.split_first().expect("the question was embedded");
    let (focus, rest) = if focused {
        let (focus, rest) = rest
            .split_first()
            .expect("the asked sentences were embedded");
        (Some(focus), rest)
    } else {
        (None, rest)
    };
    let (part_vectors, unit_vectors) = rest.split_at(part_count);
    let question_words = keyword_set(question);
    let how_to = HOW_TO.is_match(&fold(question));
    let wants = Wants::of(question);
    let message_numbers = figures_in(question);
    let lead = units.iter().filter(|u| u.article == 0).count() * 2 / 5;
    let scores: Vec<f32> = units
        .iter()
        .enumerate()
        .zip(unit_vectors)
        .map(|((index, unit), vector)| {
            let overlap = keyword_set(&unit.text)
                .iter()
                .filter(|w| question_words.contains(w))
                .count() as f32;
            let similarity = match focus {
                Some(focus) => {
                    FOCUS_WEIGHT * cosine(focus, vector)
                        + (1.0 - FOCUS_WEIGHT) * cosine(query, vector)
                }
                None => cosine(query, vector),
            };
            let mut score = similarity + 0.04 * overlap.min(4.0);
            if unit.article == 0 {
                score += 0.05;
                // Articles lead with the main answer (units of the best
                // article come first in `units`).
                if index < lead.max(2) {
                    score += 0.06;
                }
            }
            if how_to && unit.list.is_some() {
                score += 0.08;
            }
            score + wants.bonus(&unit.text) + quoted_figure_bonus(&message_numbers, &unit.text)
        })
        .collect();
    let best_score = scores.iter().copied().fold(f32::MIN, f32::max);
    // A message asking several things is answered part by part, in the
    // order asked, with each part's best unit: no part goes unanswered
    // because another part's article ranked higher, and the channel's
    // formatting cuts a long answer (WhatsApp's "Reply MORE").
    let mut by_part: Vec<usize> = Vec::new();
    for (part, vector) in parts.iter().zip(part_vectors) {
        // A "how to" part is answered by where to click or what to do.
        let part_how_to = HOW_TO.is_match(&fold(part));
        let best_for_part = (0..units.len())
            .filter(|&i| !is_signpost(&units[i].text))
            .map(|i| {
                // The whole question keeps a part like "all the limits
                // per plan" on the message's subject.
                let mut similarity = cosine(vector, &unit_vectors[i]) + 0.5 * scores[i];
                if part_how_to && (units[i].list.is_some() || units[i].text.contains(" > ")) {
                    similarity += 0.08;
                }
                // With one unit per part, the one with the specifics
                // (numbers, plans, menu paths) answers; an intro does not.
                if has_specifics(&units[i].text) || names_a_plan(&units[i].text) {
                    similarity += 0.1;
                }
                (i, similarity)
            })
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let Some((i, similarity)) = best_for_part else {
            continue;
        };
        let repeats = by_part.iter().any(|&j| {
            j == i
                || fold(&units[j].text) == fold(&units[i].text)
                || (!numbers_in(&units[i].text).is_empty()
                    && numbers_in(&units[j].text) == numbers_in(&units[i].text))
        });
        if similarity >= PART_MIN_SCORE && !repeats {
            by_part.push(i);
        }
    }
    if by_part.len() >= 2 {
        let texts: Vec<String> = by_part.iter().map(|&i| units[i].text.clone()).collect();
        return Ok(join_units(&texts));
    }
    // A few units always (the best one is often a generic intro), more
    // while they stay close to the best.
    let (min_units, max_units) = match channel {
        Channel::Whatsapp => (3, 5),
        Channel::Email | Channel::WebForm => (4, 6),
    };
    let mut ranked: Vec<usize> = (0..units.len()).collect();
    ranked.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut chosen: Vec<usize> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for i in ranked {
        let key = fold(&units[i].text);
        let numbers = numbers_in(&units[i].text);
        let repeats_numbers = !numbers.is_empty()
            && chosen
                .iter()
                .any(|&j| numbers_in(&units[j].text) == numbers);
        if seen.contains(&key) || repeats_numbers || is_signpost(&units[i].text) {
            continue;
        }
        let close = scores[i] >= best_score * SENTENCE_KEEP_RATIO;
        let floor = scores[i] >= MIN_UNIT_SCORE;
        if chosen.len() < max_units && (close || (chosen.len() < min_units && floor)) {
            seen.push(key);
            chosen.push(i);
        }
    }
    // Whole numbered lists of the best article; its steps replace any
    // other article's steps (two lists of the same how-to confuse).
    let lists: Vec<usize> = chosen
        .iter()
        .filter(|&&i| units[i].article == 0)
        .filter_map(|&i| units[i].list)
        .collect();
    if !lists.is_empty() {
        chosen.retain(|&i| units[i].article == 0 || units[i].list.is_none());
    }
    for (i, unit) in units.iter().enumerate() {
        if unit.list.is_some_and(|l| lists.contains(&l)) && !chosen.contains(&i) {
            chosen.push(i);
        }
    }
    // Each step once: a sentence that only retells the chosen steps ("fix
    // the endpoint, then open Admin > Integrations > Webhooks and set the
    // webhook up again") goes when the steps are in the answer.
    let step_words: Vec<String> = chosen
        .iter()
        .filter(|&&i| units[i].list.is_some())
        .flat_map(|&i| keyword_set(&units[i].text))
        .collect();
    if !step_words.is_empty() {
        chosen.retain(|&i| units[i].list.is_some() || !retells(&units[i].text, &step_words));
    }
    chosen.sort_unstable();
    // An amount question is answered by its figure first: the best sentence
    // stating one leads, the article's order follows (a short channel cuts
    // what comes last).
    if wants.amount
        && let Some(position) = chosen
            .iter()
            .enumerate()
            .filter(|&(_, &i)| units[i].list.is_none() && !numbers_in(&units[i].text).is_empty())
            .max_by(|&(_, &a), &(_, &b)| scores[a].total_cmp(&scores[b]))
            .map(|(position, _)| position)
    {
        let figure = chosen.remove(position);
        chosen.insert(0, figure);
    }
    // On WhatsApp every character counts: an article's opening summary
    // without any specifics (numbers, menu paths, commands) gives way
    // when the answer would not fit one message.
    if channel == Channel::Whatsapp && chosen.first() == Some(&0) && !has_specifics(&units[0].text)
    {
        let length: usize = chosen
            .iter()
            .map(|&i| units[i].text.chars().count() + 4)
            .sum();
        if length > 280 && chosen.len() > 1 {
            chosen.remove(0);
        }
    }
    let mut out: Vec<String> = Vec::new();
    let mut step = 0;
    let mut previous_list: Option<usize> = None;
    for i in chosen {
        let unit = &units[i];
        match unit.list {
            Some(list) => {
                step = if previous_list == Some(list) {
                    step + 1
                } else {
                    1
                };
                previous_list = Some(list);
                out.push(format!("{step}. {}", unit.text));
            }
            None => {
                previous_list = None;
                out.push(unit.text.clone());
            }
        }
    }
    Ok(join_units(&out))
}

/// Sentences that talk about the article rather than the product ("Here
/// is how", "work through these three checks") or ask the reader a
/// rhetorical question: true in an article, noise in an answer.
static SIGNPOST: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"(?i)\b(?:here is how|here's how|here are|these (?:\w+ )?(?:checks|steps|tips)|this (?:article|page|guide)|follow these|read on)\b")
        .expect("valid pattern")
});

fn is_signpost(text: &str) -> bool {
    text.trim_end().ends_with('?') || SIGNPOST.is_match(text)
}

/// Whether `sentence` retells the steps: it names a menu path, and all its
/// content words but one (a "then", a "first") are already among
/// `step_words`. A statement of fact without a path stays, even when the
/// steps happen to use its words.
fn retells(sentence: &str, step_words: &[String]) -> bool {
    let words = keyword_set(sentence);
    let new = words.iter().filter(|w| !step_words.contains(w)).count();
    sentence.contains(" > ") && words.len() >= 4 && new <= 1
}

fn has_specifics(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_ascii_digit() || matches!(c, '"' | '/' | '@'))
        || text.contains(" > ")
}

/// A question splits into at least this many parts before each part is
/// answered on its own (two parts are usually one question with a detail).
const MULTI_PART_MIN: usize = 3;
/// A part's best unit joins the answer from this score up (its cosine
/// similarity with the part plus half its score for the whole question).
const PART_MIN_SCORE: f32 = 0.55;

/// The parts of a question that asks several things: split at sentence
/// ends, commas, semicolons and "and", keeping parts with at least one
/// keyword ("all the limits per plan", "how to create them", "sprints").
/// When the message asks with question marks, only those sentences make
/// parts: the ones around them tell the situation ("I'm getting married in
/// March", "we have forty finished projects"), which is not a second
/// question to answer with its own sentence.
fn question_parts(question: &str) -> Vec<String> {
    static SPLIT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?i)[?!.;,]+(?:\s+|$)|\s+(?:and also|and|also|plus)\s+")
            .expect("valid pattern")
    });
    let asked = question_sentences(question);
    let asked = if asked.is_empty() {
        vec![question]
    } else {
        asked
    };
    // "…on Team, or is it on a higher plan?" offers the other answer to
    // the same question: a part opening with "or" stays with the one
    // before it.
    let mut parts: Vec<String> = Vec::new();
    for part in asked.into_iter().flat_map(|sentence| SPLIT.split(sentence)) {
        let part = part.trim();
        match parts.last_mut() {
            Some(previous) if fold(part).starts_with("or ") => {
                previous.push_str(", ");
                previous.push_str(part);
            }
            _ => parts.push(part.to_owned()),
        }
    }
    parts.retain(|part| !keyword_set(part).is_empty());
    parts
}

/// How much the question sentences weigh against the whole message when a
/// unit is scored for a message that tells its situation around them. The
/// situation often names the topic ("our webhook was switched off. What
/// happened?"), so the whole message keeps most of the weight; chosen on
/// the tuning sets (0.3, 0.5, 0.7 tried: +1, ±0, −3 must-include facts).
const FOCUS_WEIGHT: f32 = 0.3;

/// What a message asks ([`asked_part`]), when that is not the whole message.
fn asked_sentences(message: &str) -> Option<String> {
    let asked = asked_part(message);
    (asked.trim() != message.trim()).then_some(asked)
}

/// The sentences of a message that end in a question mark.
fn question_sentences(message: &str) -> Vec<&str> {
    split_sentences(message)
        .into_iter()
        .filter(|s| s.ends_with('?'))
        .collect()
}

/// Parts as embedded: a part that refers back with a pronoun ("how to
/// create them") carries the first part's keywords, because a message
/// asking several things names its subject first ("everything about
/// automations, …, how to create them").
fn resolve_pronouns(parts: &[String]) -> Vec<String> {
    const PRONOUNS: &[&str] = &["them", "it", "they", "those", "these", "one", "ones"];
    let subject = parts
        .first()
        .map(|p| keyword_set(p).join(" "))
        .unwrap_or_default();
    parts
        .iter()
        .enumerate()
        .map(|(index, part)| {
            let refers_back = fold(part).split_whitespace().any(|w| PRONOUNS.contains(&w));
            if index > 0 && refers_back && !subject.is_empty() {
                format!("{part} ({subject})")
            } else {
                part.clone()
            }
        })
        .collect()
}

fn names_a_plan(text: &str) -> bool {
    ["Free", "Team", "Business", "Enterprise"]
        .iter()
        .any(|plan| {
            text.split(|c: char| !c.is_alphanumeric())
                .any(|w| w == *plan)
        })
}

/// The numbers of a text, to spot two units stating the same figures.
fn numbers_in(text: &str) -> Vec<String> {
    let mut numbers: Vec<String> = text
        .split(|c: char| !(c.is_ascii_digit() || c == ',' || c == '.'))
        .map(|n| n.trim_matches([',', '.']))
        .filter(|n| n.chars().any(|c| c.is_ascii_digit()))
        .map(str::to_owned)
        .collect();
    numbers.sort();
    numbers.dedup();
    numbers
}

/// A sentence stating a figure the customer quotes ("it only gives me 50
/// items", "we have 25k rows") is about the limit they ran into, whatever
/// words it uses: it gains this much.
const QUOTED_FIGURE_BONUS: f32 = 0.2;

/// The figures of a message worth matching: numbers of two digits or more
/// (a lone digit is as likely a step, a count of days or part of "2FA").
fn figures_in(text: &str) -> Vec<String> {
    numbers_in(text)
        .into_iter()
        .filter(|n| n.chars().filter(char::is_ascii_digit).count() >= 2)
        .collect()
}

fn quoted_figure_bonus(message_figures: &[String], unit: &str) -> f32 {
    if message_figures.is_empty() {
        return 0.0;
    }
    let shared = figures_in(unit)
        .iter()
        .any(|figure| message_figures.contains(figure));
    if shared { QUOTED_FIGURE_BONUS } else { 0.0 }
}

/// What kind of fact a question asks for, beside its topic: an amount
/// ("how many", "how long", "cuántos", "wie viele") is answered by a
/// sentence with a number, whether something comes with a plan ("is
/// there…", "we're on the Team plan", "is it included") by the sentence
/// that names the plans, and where something is done ("where do I…",
/// "dónde", "wo finde ich") by the sentence with the menu path. Topic
/// similarity alone often prefers the article's introduction, which
/// states none of them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Wants {
    amount: bool,
    plan: bool,
    place: bool,
}

/// A sentence holding the kind of fact asked for gains this much.
const WANTED_FACT_BONUS: f32 = 0.12;

static AMOUNT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(concat!(
        r"\b(?:how (?:many|much|long|big|large|often|far|old|soon|fast)|what(?:'s| is) the (?:limit|maximum|minimum|max|size)|(?:at )?what time|",
        r"(?:largest|biggest|longest|highest|smallest|lowest|fewest)\b|",
        r"(?:max|maximum|minimum|limit|up to|at most)\b|",
        r"cuant[oa]s?|cual es el (?:limite|maximo)|quant[oa]s?|wie (?:viele|viel|lange|gross)|combien|jusqu|a que hora|que horas|um wie viel uhr|a quelle heure)"
    ))
    .expect("valid pattern")
});

static AVAILABILITY: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(concat!(
        r"\b(?:is there|are there|do you (?:have|offer|support)|does (?:orbitask|it) (?:have|support|offer)|",
        r"included|available|availability|which plans?|what plans?|on (?:the |our |a )?(?:free|team|business|enterprise)|",
        r"hay|existe|incluid[oa]|disponible|gibt es|verfugbar|enthalten|y a-t-il|inclus|tem|incluso)\b"
    ))
    .expect("valid pattern")
});

impl Wants {
    fn of(question: &str) -> Self {
        let folded = fold(question);
        Self {
            amount: AMOUNT.is_match(&folded),
            plan: AVAILABILITY.is_match(&folded) || names_a_plan(question),
            place: PLACE.is_match(&folded),
        }
    }

    fn bonus(self, unit: &str) -> f32 {
        let mut bonus = 0.0;
        if self.amount && !numbers_in(unit).is_empty() {
            bonus += WANTED_FACT_BONUS;
        }
        if self.plan && names_a_plan(unit) {
            bonus += WANTED_FACT_BONUS;
        }
        if self.place && MENU_PATH.is_match(unit) {
            bonus += WANTED_FACT_BONUS;
        }
        bonus
    }
}

static PLACE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(concat!(
        r"\b(?:where (?:do|can|is|are|should|would|does|did|to)|where's|which (?:menu|page|screen|tab|setting|button)|",
        r"(?:find|see) the (?:setting|option|button|menu)|",
        r"donde|onde|wo (?:kann|finde|ist|sind|stelle)|ou (?:est|sont|puis|trouver|se trouve|peut))\b"
    ))
    .expect("valid pattern")
});

/// A menu path as the articles write it: "Admin > Members > Invite".
static MENU_PATH: std::sync::LazyLock<regex::Regex> =
    std::sync::LazyLock::new(|| regex::Regex::new(r"\S > \S").expect("valid pattern"));

static HOW_TO: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"\b(?:how (?:do|can|to|should)|what are the steps|como (?:hago|puedo|faco|posso)|wie kann|comment)\b")
        .expect("valid pattern")
});

fn join_units(units: &[String]) -> String {
    let mut out = String::new();
    for (i, unit) in units.iter().enumerate() {
        if i > 0 {
            let is_step = unit.chars().next().is_some_and(|c| c.is_ascii_digit());
            let prev_step = units[i - 1]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit());
            out.push_str(if is_step || prev_step { "\n" } else { " " });
        }
        out.push_str(unit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_amount_question_prefers_the_sentence_with_the_number() {
        let wants = Wants::of("how big can one upload get?");
        assert!(wants.amount);
        let intro = "Attachments keep files next to the task they belong to.";
        let limit = "Each file can be up to 250 MB on paid plans.";
        assert_eq!(wants.bonus(intro), 0.0);
        assert!(wants.bonus(limit) > 0.0);
        for question in [
            "¿Cuántos proyectos puedo crear?",
            "Wie viele Mitglieder passen in einen Arbeitsbereich?",
            "Combien d'invités puis-je ajouter ?",
            "Quantos membros posso ter?",
            "what is the largest page size we can ask for?",
            "at what time does the reminder go out",
            "¿A qué hora llega el resumen?",
        ] {
            assert!(Wants::of(question).amount, "{question}");
        }
    }

    #[test]
    fn a_sentence_with_the_figure_the_customer_quotes_is_preferred() {
        let quoted = figures_in("the endpoint only ever gives me 50 items, 2FA is on");
        assert_eq!(quoted, vec!["50"], "a lone digit is no figure to match");
        assert!(
            quoted_figure_bonus(&quoted, "The page size defaults to 50 and is at most 200.") > 0.0
        );
        assert_eq!(quoted_figure_bonus(&quoted, "Ask for a larger page."), 0.0);
        assert_eq!(quoted_figure_bonus(&[], "Up to 50 members."), 0.0);
    }

    #[test]
    fn an_availability_question_prefers_the_sentence_naming_the_plans() {
        let wants = Wants::of("We're on the Team plan. Do we get dependencies?");
        assert!(wants.plan);
        assert!(wants.bonus("Dependencies are available on Business and Enterprise.") > 0.0);
        assert_eq!(wants.bonus("A task can be blocked by another task."), 0.0);
        assert!(Wants::of("Is there an audit trail?").plan);
        assert!(Wants::of("¿Está incluido en mi plan?").plan);
    }

    #[test]
    fn a_plain_how_to_wants_no_kind_of_fact() {
        assert_eq!(
            Wants::of("How do I change my notification settings?"),
            Wants::default()
        );
    }

    #[test]
    fn a_where_question_prefers_the_sentence_with_the_menu_path() {
        let wants = Wants::of("Where do I change my notification settings?");
        assert!(wants.place);
        assert!(wants.bonus("Open Profile > Notifications and pick the events.") > 0.0);
        assert_eq!(wants.bonus("Notifications keep you up to date."), 0.0);
        for question in [
            "¿Dónde se hace exactamente?",
            "Onde fica essa opção?",
            "Wo finde ich die Einstellung?",
            "Où est le bouton d'export ?",
            "which menu is that in",
        ] {
            assert!(Wants::of(question).place, "{question}");
        }
        assert!(!Wants::of("Does it vanish straight away?").place);
    }

    #[test]
    fn a_sentence_retelling_the_steps_adds_nothing() {
        let steps: Vec<String> = [
            "Fix the problem at your endpoint and check that it answers correctly.",
            "Open Admin > Integrations > Webhooks.",
            "Set the webhook up again for your endpoint.",
        ]
        .iter()
        .flat_map(|s| keyword_set(s))
        .collect();
        assert!(retells(
            "Fix the endpoint, then open Admin > Integrations > Webhooks and set the webhook up again.",
            &steps
        ));
        assert!(!retells(
            "After 8 failed deliveries in a row the webhook is switched off.",
            &steps
        ));
        assert!(
            !retells(
                "Fix the endpoint and check that it answers correctly.",
                &steps
            ),
            "no menu path: a statement, not a retelling"
        );
    }

    #[test]
    fn the_asked_sentences_are_those_ending_in_a_question_mark() {
        assert_eq!(
            asked_sentences("We sync a few thousand tasks. What is the largest page size? Thanks."),
            Some("What is the largest page size?".to_owned())
        );
        assert_eq!(
            asked_sentences("How do I export a project?"),
            None,
            "the whole message"
        );
        assert_eq!(
            asked_sentences("my phone still buzzes lol"),
            None,
            "nothing asked"
        );
    }

    #[test]
    fn a_question_asking_several_things_splits_into_its_parts() {
        let parts = question_parts(
            "Can you explain everything about automations, all the limits per plan, how to create them, and also the time tracking feature and sprints and the timeline view?",
        );
        assert_eq!(
            parts,
            vec![
                "Can you explain everything about automations",
                "all the limits per plan",
                "how to create them",
                "the time tracking feature",
                "sprints",
                "the timeline view",
            ]
        );
        assert_eq!(question_parts("How do I reset my password?").len(), 1);
        assert_eq!(
            question_parts(
                "I'm moving house in March, and my address changes with my new job. \
                 How do I update the email on my login? Thanks, Ana"
            ),
            vec!["How do I update the email on my login"],
            "the sentences around a question tell the situation; they are not asked"
        );
        assert_eq!(
            question_parts(
                "we archived 2.5 projects, sorry, and then some. Can archived ones come back?"
            ),
            vec!["Can archived ones come back"],
        );
        assert_eq!(
            question_parts(
                "Is the timer and the timesheet included on Team, or is it on a higher plan?"
            ),
            vec![
                "Is the timer",
                "the timesheet included on Team, or is it on a higher plan"
            ],
            "an alternative is the same question"
        );
        assert_eq!(
            question_parts("Is the limit 1,000 runs per month?").len(),
            1,
            "a thousands separator is no split"
        );
    }
}
