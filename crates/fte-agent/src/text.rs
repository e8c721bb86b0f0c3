//! A customer message as the rules read it: folded (lowercase, accents
//! of the five languages removed), cut into the pieces triage judges one
//! by one, whether a piece asks something, and the small talk (greetings,
//! thanks, "it works now") that needs no answer from the knowledge base.
//! Triage, the hard rules, sentiment and retrieval all read text this way.

use std::sync::LazyLock;

use regex::Regex;

/// Lowercases and folds the accents of the five languages, so "Rückerstattung",
/// "reembolsó" and "remboursé" match plain patterns.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.to_lowercase().chars() {
        if c == 'ß' {
            out.push_str("ss");
            continue;
        }
        out.push(match c {
            'á' | 'à' | 'â' | 'ã' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'õ' | 'ö' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            '’' | '‘' => '\'',
            other => other,
        });
    }
    out
}

fn pattern(alternatives: &[&str]) -> Regex {
    Regex::new(&format!(r"\b(?:{})", alternatives.join("|"))).expect("valid triage pattern")
}

pub(crate) static GREETING_ONLY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:(?:hi|hello|hey|hiya|yo|good (?:morning|afternoon|evening)|hola|buenos dias|buenas(?: tardes| noches)?|ola|oi|bom dia|boa tarde|boa noite|hallo|guten (?:morgen|tag|abend)|servus|moin|bonjour|bonsoir|salut|coucou)(?: there| team| all| orbitask| everyone| support)?\W*)+$")
        .expect("valid pattern")
});

/// A sign-off that promises to come back later ("I'll get in touch if I have
/// questions", "Ich melde mich, wenn …"): small talk beside a thank-you.
pub(crate) static CLOSING: LazyLock<Regex> = LazyLock::new(|| {
    pattern(&[
        r"(?:i'?ll|i will|we'?ll|we will) (?:\w+ ){0,2}(?:get in touch|be in touch|reach out|let you know|get back to you|write again|come back)",
        r"(?:if|when|should) (?:i|we) (?:have|get|run into) (?:any )?(?:more |other |further )?(?:questions|problems)",
        r"ich melde mich",
        r"wir melden uns",
        r"(?:le |te |les )?(?:escribo|escribire|aviso|avisare) si",
        r"si tengo (?:mas )?(?:preguntas|dudas)",
        r"(?:entro|entrarei) em contato",
        r"se (?:eu )?tiver (?:mais )?(?:duvidas|perguntas)",
        r"je (?:reviens|reviendrai) vers vous",
        r"je vous (?:recontacte|recontacterai|ecris)",
        r"si j'ai (?:d'autres )?questions",
    ])
});

pub(crate) static THANKS: LazyLock<Regex> = LazyLock::new(|| {
    pattern(&[
        r"thanks?\b",
        r"thank you",
        r"thx",
        r"cheers",
        r"gracias",
        r"obrigad[oa]",
        r"valeu",
        r"danke",
        r"vielen dank",
        r"merci",
    ])
});

pub(crate) static RESOLVED: LazyLock<Regex> = LazyLock::new(|| {
    pattern(&[
        r"(?:that|it|this|the \w+(?: \w+)?) (?:fixed|solved|worked|works)",
        r"fixed it",
        r"works now",
        r"working now",
        r"all (?:good|sorted|set)",
        r"sorted\b",
        r"problem solved",
        r"resolved",
        r"(?:that|this) (?:was|did) it\b",
        r"(?:i'?m|i am|we'?re|we are) back in\b",
        r"(?:it'?s|its|all) (?:working|fine|ok|okay) (?:now|again)",
        r"funciono",
        r"funciona ahora",
        r"ya funciona",
        r"(?:agora|ja) funciona",
        r"funktioniert (?:jetzt|wieder)",
        r"(?:ca )?(?:marche|fonctionne) (?:maintenant|a nouveau|de nouveau)",
        r"resuelto",
        r"funcionou",
        r"resolvido",
        r"deu certo",
        r"(?:hat|es) funktioniert",
        r"geloest|gelost",
        r"ca marche",
        r"ca fonctionne",
        r"resolu",
    ])
});

static QUESTION_START: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:also,? |and |but |so |ok,? |btw,? )?(?:how|what|where|when|which|why|who|can|could|do|does|is|are|will|would|should|may|i need to|i want to|como|que|donde|cuando|puedo|wie|was|wo|wann|kann|comment|ou|quand|est-ce|puis-je)\b")
        .expect("valid pattern")
});

/// Where one sentence holds two requests: a comma, semicolon or
/// conjunction followed by a new question ("How do I turn on 2FA, and
/// what's the price difference?"). The question word stays with the clause.
static CLAUSE_BREAK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:[,;]\s*(?:and |also |but |plus |y |e |et |und )?|\s+(?:and also|and|also|but|plus|y|e|et|und)\s+)(?:how|what|what's|whats|where|when|which|why|who|can|could|do|does|is|are|will|would|should|may|como|que|donde|cuando|puedo|wie|was|wo|wann|kann|comment|ou|quand|est-ce|puis-je|c'est|please|i'd like|i want|i need)\b")
        .expect("valid pattern")
});

/// The pieces of a message that triage judges one by one: its sentences
/// (split at sentence marks and at "; "), each cut again where a new
/// question starts after a comma or a conjunction.
pub fn pieces(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for sentence in fte_domain::format::split_sentences(text)
        .into_iter()
        .flat_map(|s| s.split("; "))
    {
        let mut start = 0;
        for found in CLAUSE_BREAK.find_iter(sentence) {
            // Keep the question word: cut where the separator ends.
            let separator = found.as_str();
            let word_start = separator
                .char_indices()
                .rev()
                .find(|(_, c)| c.is_whitespace() || *c == ',' || *c == ';')
                .map_or(0, |(i, c)| i + c.len_utf8());
            let cut = found.start() + word_start;
            if is_relative_clause(&sentence[cut..]) {
                continue;
            }
            if cut > start {
                out.push(sentence[start..found.start()].to_owned());
                start = cut;
            }
        }
        out.push(sentence[start..].to_owned());
    }
    out.into_iter()
        .map(|p| {
            let p = p.trim().trim_matches(|c: char| c == ',' || c == ';').trim();
            ROLE_MARKER.replace(p, "").trim().to_owned()
        })
        .filter(|p| !p.is_empty())
        .collect()
}

/// Words that ask for something without a question: wanting, needing,
/// please, someone to do it — in the five languages. Folded.
static REQUEST: LazyLock<Regex> = LazyLock::new(|| {
    pattern(&[
        r"want(?:s|ed)?\b",
        r"need(?:s|ed)?\b",
        r"(?:'d|would) like\b",
        r"please\b",
        r"pl[sz]\b",
        r"request",
        r"ask(?:ing)?\b",
        r"expect",
        r"require",
        r"demand",
        r"(?:let|put|get|connect|transfer|give) (?:me|us)\b",
        r"send (?:me|us)\b",
        r"(?:someone|somebody|anyone|anybody)\b",
        r"rather\b",
        r"prefer",
        r"looking (?:for|at)\b",
        r"hoping",
        r"call\b",
        r"(?:quero|queria|quisiera|quiero|necesit|precis|gostaria|por favor|alguien|alguem)",
        r"(?:bitte|mochte|will\b|wollen|brauche|hatte gern|jemand)",
        r"(?:voudrais|voudrions|veux\b|aimerais|aimerions|merci de|s'il vous plait|svp|veuillez|quelqu'un)",
    ])
});

/// Whether a piece asks for something: a question, or a request in other
/// words ("I'd rather speak to someone", "send us the figures").
pub fn is_request(piece: &str) -> bool {
    looks_like_question(piece) || REQUEST.is_match(&fold(piece))
}

/// What a piece talks of: the word classes a soft escalation verdict must
/// find in the piece it judges (folded, five languages).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topic {
    /// A person, a call or a conversation: what a request for a person
    /// names ("a built-in video conferencing feature" names none).
    Person,
    /// An offer, a quote, seats or licences: a competitor's offer told
    /// without a question is still about the price.
    Offer,
    /// The law, data and records, contracts and security holes: what a
    /// legal matter talks of ("the invite link says invalid now" does not).
    LawOrData,
    /// Money: a charge, a payment, a card, an amount.
    Money,
    /// A price asked about: what it costs, a rate, a discount (German
    /// "kostenlos" and French "tarif" name a plan, not a price).
    Price,
    /// The agent itself: what an instruction aimed at it addresses (you,
    /// the assistant) or asks about (its instructions, prompt, rules, mode,
    /// other customers' data). "Where do I configure that?" names none.
    Agent,
}

impl Topic {
    const ALL: [Topic; 6] = [
        Topic::Person,
        Topic::Offer,
        Topic::LawOrData,
        Topic::Money,
        Topic::Price,
        Topic::Agent,
    ];

    fn pattern(self) -> &'static str {
        match self {
            Topic::Person => {
                r"(?:person|someone|somebody|anyone|anybody|human|agent|manager|supervisor|boss|representative|\brep\b|staff|team|people|\bcall|phone|\bring\b|talk|speak|chat with|real|live|bot\b|robot|machine|\bai\b|automat|hand (?:this|it|me) over|escalat|transfer|alguien|persona|humano|agente|supervisor|jefe|encargado|alguem|pessoa|atendente|gerente|jemand|mensch|mitarbeiter|vorgesetzt|verbind|anruf|telefon|quelqu'un|personne|humain|conseiller|responsable|appel|passez-moi|sprechen|reden|hablar|falar|parler|llam|ligar|rappel|ruckruf|zuruck(?:zu)?rufen|gente|equipo|equipe)"
            }
            Topic::Offer => {
                r"(?:offer|deal|quote|seat|licen[cs]e|budget|angebot|lizenz|platze|oferta|presupuesto|orcamento|assento|licenc|offre|devis|licence)"
            }
            Topic::LawOrData => {
                r"(?:\blaw|legal|lawyer|attorney|counsel|solicitor|court|judge|gdpr|dsgvo|rgpd|lgpd|ccpa|data|record|personal|privacy|contract|agreement|dpa\b|terms|clause|liabil|indemn|complian|regulat|authorit|police|subpoena|warrant|summons|vulnerab|securi|segur|sicherheit|exploit|breach|leak|tenant|(?:another|other) (?:company|companies|customer|workspace|organi[sz]ation)|sue\b|suing|claim|erase|erasure|delete|forgotten|\bley\b|leyes|datos|contrato|tribunal|juzgado|juez|abogad|demanda|advogad|dados|\blei\b|processo|anwalt|gericht|recht|daten|vertrag|klage|behorde|avocat|donnees|contrat|justice|juridique|cnil|plainte|proces\b|autorite|effac|faille|informacion|informacoes|informations|auskunft|hole\b|injection|script|xss|remov|wipe|trace|purge|scrub|borr|apag|losch|supprim)"
            }
            Topic::Price => {
                r"(?:how much|\bcost|price|pricing|\brate\b|rates\b|discount|cheap|expensive|afford|\bspend|per (?:user|seat|member|month|year)|cuanto|cuesta|costar|precio|descuento|barat|caro\b|quanto|custa|custar|preco|desconto|wie viel|kostet|kosten\b|preis|rabatt|gunstig|teuer|combien|coute|couter|prix|remise|reduction|cher\b)"
            }
            Topic::Agent => {
                r"(?:\byou\b|\byour|\bu\b|\bur\b|assistant|\bai\b|\bbot\b|chatbot|\bmodel\b|instruction|prompt|system|\brules\b|guideline|restriction|override|\bmode\b|verbatim|above this line|(?:other|another|every|all) (?:customers?|users?)|\btus?\b|\bvous\b|\bdu\b|\bdein|\bvoce|\bseu)"
            }
            Topic::Money => {
                r"(?:charg|paid|pay|bill|invoice|card|mone?y|refund|reimburs|cash|credit|debit|fee|price|amount|bank|transaction|subscription|[$€£]|dollar|euro|cobr|pag|dinero|dinheiro|reembols|devol|factur|fatur|cartao|tarjeta|estorn|zahl|geld|abbuch|gebucht|buchen|betrag|rechnung|karte|erstatt|gebuhr|\babo\b|lastschrift|argent|rembours|carte|prelev|paiement|abonnement)"
            }
        }
    }

    /// Whether `piece` talks of this topic. An API call ("more in one
    /// call", "calls per minute") is no call with a person.
    pub fn in_piece(self, piece: &str) -> bool {
        static NOT_A_PHONE_CALL: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"\b(?:(?:one|per|each|every|single|same|api|first|next|an api|the api) calls?|calls? (?:per|to the api|to the endpoint|to an endpoint))\b")
                .expect("valid pattern")
        });
        static PATTERNS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
            Topic::ALL
                .iter()
                .map(|topic| Regex::new(topic.pattern()).expect("valid pattern"))
                .collect()
        });
        let folded = fold(piece);
        let folded = match self {
            Topic::Person => NOT_A_PHONE_CALL.replace_all(&folded, " "),
            _ => std::borrow::Cow::Borrowed(folded.as_str()),
        };
        PATTERNS[self as usize].is_match(&folded)
    }
}

/// Whether a text refers to something it does not name ("once it's all
/// come across", "if it stays declined"): a pronoun pointing back.
pub fn points_back(text: &str) -> bool {
    fold(text).split(|c: char| !c.is_alphanumeric()).any(|w| {
        matches!(
            w,
            "it" | "that" | "this" | "they" | "them" | "those" | "these"
        )
    })
}

/// A clause that describes what came before it instead of asking
/// something new: "which we already have licences for", "who is on
/// holiday", "where I keep the notes" — a relative pronoun followed by a
/// subject or a verb, not by the thing asked about ("which plan …?").
fn is_relative_clause(clause: &str) -> bool {
    static RELATIVE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)^(?:(?:which|who|where)\s+(?:i|we|they|he|she|it|is|was|were|has|had|already|also|still|our|my|their)|which\s+(?:are|have|will|would|can|could|means|makes|seems|you))\b")
            .expect("valid pattern")
    });
    RELATIVE.is_match(clause)
}

/// A chat-role label opening a piece ("### USER:", "Assistant:"): framing
/// that an injected text puts around the customer's own words.
static ROLE_MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^[#*>\s\[]*(?:user|assistant|human|customer)\]?\s*:\s*")
        .expect("valid pattern")
});

/// Whether a piece asks something: a question mark, or a question word first
/// or right after a lead-in closed by a colon or a dash ("Two quick ones: how
/// many guests can we invite").
pub fn looks_like_question(sentence: &str) -> bool {
    if sentence.contains('?') {
        return true;
    }
    let folded = fold(sentence);
    QUESTION_START.is_match(&folded)
        || folded
            .split_once([':', '—', '–'])
            .is_some_and(|(_, rest)| QUESTION_START.is_match(rest.trim_start()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_question_after_a_comma_is_its_own_piece() {
        assert_eq!(
            pieces("How do I turn on 2FA, and what's the price difference?"),
            vec!["How do I turn on 2FA", "what's the price difference?"]
        );
        assert_eq!(
            pieces("We have two teams, which plan do we need?"),
            vec!["We have two teams", "which plan do we need?"]
        );
    }

    #[test]
    fn requests_and_money_are_told_from_plain_statements() {
        for piece in [
            "I'd rather speak to someone from your team.",
            "Send us the figures for 40 seats.",
            "Könnten Sie mich bitte zurückrufen",
            "budget wise what r we looking at for 30 seats",
        ] {
            assert!(is_request(piece), "{piece}");
        }
        for piece in [
            "We're on Team at the moment.",
            "It's for a school project.",
            "I hope this reaches the right people.",
        ] {
            assert!(!is_request(piece), "{piece}");
        }
        assert!(Topic::Person.in_piece("¿Me pasan con un supervisor, por favor?"));
        assert!(
            !Topic::Person
                .in_piece("Does Orbitask have a built-in video conferencing feature like Zoom?")
        );
        assert!(
            Topic::Offer.in_piece("A competitor came back with a better offer for our 60 seats.")
        );
        assert!(Topic::Money.in_piece("Mir wurde der Betrag doppelt abgebucht."));
        assert!(Topic::LawOrData.in_piece("Wir werden rechtliche Schritte einleiten."));
        assert!(
            Topic::LawOrData
                .in_piece("Your API returns other tenants' tasks if I change the workspace id.")
        );
        assert!(Topic::LawOrData.in_piece("pls wipe everything you keep on me, every trace"));
        assert!(!Topic::LawOrData.in_piece(
            "invited a colleague like 3 wks ago and the invite link says invalid now lol"
        ));
        assert!(Topic::Money.in_piece("We were charged for seats we removed"));
        assert!(!Topic::Money.in_piece("Our reporting integration suddenly fails with 401."));
    }

    #[test]
    fn a_relative_clause_stays_with_what_it_describes() {
        for text in [
            "Can people use 1Password, which we already have licences for?",
            "Ask my colleague, who is on holiday until Monday.",
            "I saved it in the shared project, where our notes live.",
        ] {
            assert_eq!(pieces(text), vec![text], "{text}");
        }
    }
}
