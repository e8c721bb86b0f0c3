//! Product vocabulary of Spanish, Portuguese, German and French, with its
//! English word: added to the search query of a message in those languages.
//!
//! Why: the local embedding model (all-MiniLM-L6-v2) and PostgreSQL's full
//! text search are English, and so are the articles. "¿Dónde descargo las
//! facturas?" shares no word with the invoices article; with "download
//! invoice" added it finds it. The list is the product's own vocabulary
//! (the areas of `context/product-facts.md`), not phrases of any ticket.

use crate::triage::fold;

/// (English terms, word starts in the other four languages, accent-folded).
const GLOSSARY: &[(&str, &[&str])] = &[
    (
        "password",
        &["contrasena", "senha", "passwort", "mot de passe"],
    ),
    (
        "reset restore",
        &[
            "restablec",
            "redefin",
            "recuper",
            "zurucksetz",
            "zuruckgesetzt",
            "reinitialis",
            "restaur",
            "wiederherstell",
        ],
    ),
    ("invoice", &["factura", "fatura", "rechnung", "facture"]),
    (
        "download",
        &["descarg", "baixar", "herunterlad", "telecharg"],
    ),
    ("account", &["cuenta", "conta ", "konto", "compte"]),
    (
        "delete",
        &["borrar", "elimin", "apagar", "exclu", "losch", "supprim"],
    ),
    (
        "active sessions signed-in devices",
        &[
            "dispositivo",
            "gerat",
            "appareil",
            "angemeldet",
            "sesion",
            "sessao",
            "sitzung",
        ],
    ),
    (
        "sign in",
        &[
            "iniciar sesion",
            "inicio de sesion",
            "entrar",
            "anmeld",
            "connexion",
            "connecter",
        ],
    ),
    ("locked", &["bloque", "gesperrt", "verrouill"]),
    (
        "failed attempts",
        &["intentos", "tentativas", "versuche", "tentatives"],
    ),
    (
        "how long",
        &[
            "cuanto tiempo",
            "quanto tempo",
            "wie lange",
            "combien de temps",
        ],
    ),
    ("characters long", &["caracteres", "zeichen"]),
    ("interface language", &["idioma", "sprache", "langue"]),
    (
        "time zone",
        &["zona horaria", "fuso horario", "zeitzone", "fuseau horaire"],
    ),
    ("trash", &["papelera", "lixeira", "papierkorb", "corbeille"]),
    ("task", &["tarea", "tarefa", "aufgabe", "tache"]),
    ("project", &["proyecto", "projeto", "projekt", "projet"]),
    (
        "attachment",
        &["adjunto", "anexo", "anhang", "piece jointe"],
    ),
    (
        "maximum size",
        &["tamano", "tamanho", "grosse", "taille", "maxim"],
    ),
    (
        "invite members",
        &[
            "invitar", "convidar", "einlad", "inviter", "miembro", "membro", "mitglied", "membre",
        ],
    ),
    (
        "invitation link expires",
        &["enlace", "lien", "gultig", "valido", "expir", "caduc"],
    ),
    (
        "notifications",
        &["notificac", "benachrichtig", "notification"],
    ),
    ("email", &["correo", "e-mail", "courriel"]),
    (
        "status outage incident",
        &[
            "caida",
            "incidencia",
            "interrupcion",
            "queda",
            "ausfall",
            "storung",
            "panne",
        ],
    ),
    (
        "bank transfer payment methods",
        &["transferencia", "uberweisung", "virement"],
    ),
    (
        "pay payment",
        &["pagar", "bezahl", "payer", "paiement", "pago"],
    ),
    (
        "cancel subscription",
        &[
            "cancelar",
            "kundig",
            "abo ",
            "abonnement",
            "resili",
            "suscripcion",
            "assinatura",
        ],
    ),
    ("set up webhooks", &["configurar", "einricht", "configurer"]),
    (
        "backup codes",
        &[
            "respaldo",
            "codigos de backup",
            "backup-code",
            "codes de secours",
            "codigos",
        ],
    ),
    (
        "blank window desktop app",
        &["ventana", "janela", "fenster", "fenetre"],
    ),
    (
        "troubleshooting",
        &["que hacer", "que fazer", "was tun", "que faire"],
    ),
    ("automation runs", &["automatiz", "automatis"]),
    ("counter resets", &["contador", "zahler", "compteur"]),
    (
        "workspace owner transfer ownership",
        &["dueno", "dona ", "dono ", "eigentumer", "proprietaire"],
    ),
    (
        "two-factor authentication 2FA",
        &[
            "dos factores",
            "dois fatores",
            "zwei-faktor",
            "deux facteurs",
        ],
    ),
    (
        "storage",
        &["almacenamiento", "armazenamento", "speicher", "stockage"],
    ),
    ("export", &["exportar", "exportier", "exporter"]),
    ("archive", &["archiv"]),
    (
        "guests",
        &["invitado", "convidado", "gast", "gaste", "invite"],
    ),
    ("plan", &["plano", "tarif"]),
    ("mobile app", &["movil", "celular", "handy", "portable"]),
    // Every area of the product facts, so that a question in another
    // language reaches its article by its subject's English words.
    (
        "subtasks",
        &["subtarea", "subtarefa", "unteraufgabe", "sous-tache"],
    ),
    (
        "levels deep",
        &[
            "nivel",
            "niveis",
            "niveau",
            "ebene",
            "verschacht",
            "imbriqu",
        ],
    ),
    (
        "task dependencies",
        &[
            "dependencia",
            "abhangigkeit",
            "dependance",
            "bloquead",
            "blockiert",
        ],
    ),
    (
        "custom fields",
        &[
            "campos personalizados",
            "campo personalizado",
            "benutzerdefiniert",
            "champs personnalis",
            "champ personnalis",
        ],
    ),
    (
        "recurring tasks repeat",
        &[
            "recurrent",
            "repetir",
            "wiederkehrend",
            "wiederhol",
            "repeter",
            "periodic",
        ],
    ),
    ("templates", &["plantilla", "modelo", "vorlage", "modele"]),
    (
        "keyboard shortcuts",
        &["atajo", "atalho", "tastenkurz", "tastatur", "raccourci"],
    ),
    (
        "time tracking timer",
        &[
            "seguimiento del tiempo",
            "controle de tempo",
            "zeiterfassung",
            "suivi du temps",
            "cronometr",
            "temporizador",
            "minuteur",
        ],
    ),
    ("sprints", &["sprint"]),
    (
        "timeline gantt view",
        &[
            "gantt",
            "cronograma",
            "linea de tiempo",
            "zeitleiste",
            "chronologie",
            "vista",
            "ansicht",
            "visualiza",
            "vue ",
        ],
    ),
    ("board kanban", &["tablero", "quadro", "kanban", "tableau"]),
    ("calendar", &["calendario", "kalender", "calendrier"]),
    (
        "daily digest email",
        &[
            "resumen diario",
            "resumo diario",
            "tagliche zusammenfassung",
            "zusammenfassung",
            "resume quotidien",
            "recapitulatif",
            "diario",
            "taglich",
            "quotidien",
        ],
    ),
    (
        "push notifications",
        &[
            "push",
            "notificaciones moviles",
            "mitteilung",
            "alerte",
            "alerta",
            "vibr",
        ],
    ),
    (
        "spam folder",
        &[
            "spam",
            "correo no deseado",
            "lixo eletronico",
            "indesirable",
        ],
    ),
    (
        "integration",
        &[
            "integracion",
            "integracao",
            "integration",
            "verbind",
            "conectar",
        ],
    ),
    (
        "attach files",
        &["adjuntar", "anexar", "anhangen", "joindre"],
    ),
    (
        "API token",
        &[
            "token",
            "clave de api",
            "chave de api",
            "api-schlussel",
            "cle api",
            "cle d'api",
        ],
    ),
    (
        "rate limit requests per minute",
        &[
            "solicitudes por minuto",
            "requisicoes por minuto",
            "anfragen pro minute",
            "requetes par minute",
            "ratenbegrenz",
        ],
    ),
    (
        "page size pagination",
        &["paginac", "pagina", "seitengrosse", "pagination", "seite"],
    ),
    (
        "webhook retries",
        &[
            "reintent",
            "reenvi",
            "erneut",
            "nouvelle tentative",
            "retent",
        ],
    ),
    (
        "supported devices requirements version",
        &[
            "version",
            "versao",
            "compatib",
            "requisito",
            "anforderung",
            "exigence",
            "configuration requise",
        ],
    ),
    (
        "desktop app",
        &[
            "escritorio",
            "desktop",
            "bureau",
            "ordenador",
            "computador",
            "rechner",
            "ordinateur",
        ],
    ),
    (
        "offline mode",
        &[
            "sin conexion",
            "sem conexao",
            "offline",
            "hors ligne",
            "sans connexion",
        ],
    ),
    ("sync", &["sincroniz", "synchronis"]),
    (
        "browser page not loading",
        &[
            "navegador",
            "browser",
            "navigateur",
            "no carga",
            "nao carrega",
            "ladt nicht",
            "ne charge pas",
        ],
    ),
    (
        "extensions ad blocker",
        &[
            "extension",
            "erweiterung",
            "bloqueador",
            "werbeblocker",
            "bloqueur",
        ],
    ),
    ("import", &["importar", "importier", "importer", "import"]),
    ("rows", &["filas", "linhas", "zeilen", "lignes"]),
    (
        "encryption TLS",
        &["cifrado", "criptograf", "verschlussel", "chiffr", "encript"],
    ),
    (
        "data stored hosted region",
        &[
            "aloj", "hosped", "gehostet", "heberg", "servidor", "server", "serveur",
        ],
    ),
    (
        "backups",
        &[
            "copia de seguridad",
            "copias de seguridad",
            "backup",
            "sicherung",
            "sauvegarde",
        ],
    ),
    (
        "audit log",
        &[
            "auditor",
            "protokoll",
            "journal d'audit",
            "registro de actividad",
        ],
    ),
    (
        "activity history",
        &["historial", "historico", "verlauf", "historique"],
    ),
    ("roles admin member", &["rol", "papel", "rolle", "role"]),
    (
        "free plan",
        &["gratis", "gratuito", "gratuit", "kostenlos", "free"],
    ),
    (
        "members seats users",
        &[
            "personas",
            "pessoas",
            "personen",
            "personnes",
            "usuario",
            "utilisateur",
            "benutzer",
            "nutzer",
            "asiento",
            "assento",
            "lizenz",
            "licencia",
            "licenca",
            "licence",
            "platz",
            "place",
        ],
    ),
    (
        "upgrade",
        &[
            "mejorar el plan",
            "subir de plan",
            "upgrade",
            "hochstuf",
            "passer au plan",
        ],
    ),
    (
        "downgrade",
        &[
            "bajar de plan",
            "rebaixar",
            "downgrade",
            "herabstuf",
            "retrograd",
        ],
    ),
    (
        "card payment failed retries",
        &[
            "tarjeta",
            "cartao",
            "karte",
            "carte",
            "fallid",
            "falhou",
            "fehlgeschlagen",
            "echoue",
            "rechaz",
            "recus",
            "abbuchung",
        ],
    ),
    (
        "read-only",
        &[
            "solo lectura",
            "somente leitura",
            "schreibgeschutzt",
            "lecture seule",
        ],
    ),
    (
        "nonprofit education program",
        &[
            "sin animo de lucro",
            "sin fines de lucro",
            "ong",
            "sem fins lucrativos",
            "gemeinnutzig",
            "association",
            "escuela",
            "escola",
            "schule",
            "ecole",
            "educac",
            "bildung",
            "educati",
        ],
    ),
    (
        "uptime SLA",
        &[
            "disponibilidad",
            "disponibilidade",
            "verfugbarkeit",
            "disponibilite",
        ],
    ),
    (
        "feature request feedback suggest",
        &[
            "sugerencia",
            "sugerir",
            "sugestao",
            "vorschlag",
            "vorschlagen",
            "suggestion",
            "suggerer",
            "proposer",
            "propon",
            "propor",
            "una idea",
            "uma ideia",
            "eine idee",
            "une idee",
            "funcion nueva",
            "nueva funcion",
            "funcionalidad",
            "neue funktion",
            "nouvelle fonctionnalite",
        ],
    ),
    (
        "dark mode",
        &[
            "modo oscuro",
            "modo escuro",
            "dunkelmodus",
            "dunkler modus",
            "mode sombre",
        ],
    ),
    (
        "single sign-on SAML SSO",
        &[
            "inicio de sesion unico",
            "sso",
            "saml",
            "single sign-on",
            "authentification unique",
        ],
    ),
    (
        "provisioning SCIM",
        &[
            "aprovisionamiento",
            "provisionamento",
            "bereitstellung",
            "provisionnement",
            "scim",
        ],
    ),
    (
        "switch between workspaces",
        &[
            "cambiar de espacio",
            "trocar de espaco",
            "wechseln",
            "changer d'espace",
            "espacio de trabajo",
            "espaco de trabalho",
            "arbeitsbereich",
            "espace de travail",
        ],
    ),
    (
        "deactivated members",
        &["desactiv", "desativ", "deaktivier"],
    ),
    (
        "AI assistant",
        &[
            "inteligencia artificial",
            "intelligence artificielle",
            "kunstliche intelligenz",
            "ki-assistent",
            "ki-funktion",
            "asistente de ia",
            "assistente de ia",
            "assistant ia",
        ],
    ),
    (
        "sign out",
        &["cerrar sesion", "sair da conta", "abmeld", "deconnect"],
    ),
];

/// German verbs whose particle leaves them in a question or a main clause
/// ("Wo richte ich Webhooks ein?", "Wie lade ich Gäste ein?"): (the verb's
/// stem, its particle, the joined word start the glossary knows).
const SEPARABLE: &[(&str, &str, &str)] = &[
    ("richt", "ein", "einricht"),
    ("lad", "ein", "einlad"),
    ("lad", "herunter", "herunterlad"),
    ("meld", "an", "anmeld"),
    ("meld", "ab", "abmeld"),
];

/// The joined words of the separable verbs in `folded` text, each with a
/// leading space: a form of the verb ("richte", "richten", "richtet")
/// followed later in the same sentence by its particle.
fn joined_separable_verbs(folded: &str) -> String {
    let mut out = String::new();
    for sentence in folded.split(['.', '?', '!', ';']) {
        let words: Vec<&str> = sentence
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        for (i, word) in words.iter().enumerate() {
            for (stem, particle, joined) in SEPARABLE {
                let is_form = word
                    .strip_prefix(stem)
                    .is_some_and(|ending| ending.len() <= 2);
                if is_form && words[i + 1..].contains(particle) {
                    out.push(' ');
                    out.push_str(joined);
                }
            }
        }
    }
    out
}

/// The English terms for the product words of a message in another
/// language, space-separated (empty when none is found).
pub fn english_terms(text: &str) -> String {
    let folded = fold(text);
    // A word may follow any punctuation, not only a space: quotes of every
    // language („Passwort vergessen“, «mot de passe»), brackets, slashes.
    // Apostrophes and hyphens stay, they are inside words ("cle d'api").
    let spaced: String = folded
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '\'' | '-' | '¿') {
                c
            } else {
                ' '
            }
        })
        .collect();
    let folded = format!(" {spaced} {} ", joined_separable_verbs(&folded));
    let mut terms: Vec<&str> = Vec::new();
    for (english, words) in GLOSSARY {
        let found = words.iter().any(|word| {
            folded.contains(&format!(" {word}"))
                || folded.contains(&format!("¿{word}"))
                || folded.contains(&format!("'{word}"))
        });
        if found && !terms.contains(english) {
            terms.push(english);
        }
    }
    terms.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_words_of_the_four_languages_get_their_english_terms() {
        assert_eq!(
            english_terms("¿Dónde descargo las facturas?"),
            "invoice download"
        );
        assert_eq!(
            english_terms("Wie lange ist der Link gültig?"),
            "how long invitation link expires"
        );
        assert_eq!(
            english_terms("Comment changer la langue ?"),
            "interface language"
        );
        assert_eq!(english_terms("How do I export a project?"), "");
        assert_eq!(
            english_terms("mon tel vibre toute la nuit avec les alertes"),
            "push notifications"
        );
        assert_eq!(
            english_terms("¿Tiene un asistente de inteligencia artificial?"),
            "AI assistant",
            "the acronym the articles would have to name"
        );
        assert_eq!(
            english_terms("Ich habe „Passwort vergessen“ gewählt."),
            "password"
        );
        assert_eq!(english_terms("«Mot de passe» (oublié)"), "password");
        for wish in [
            "Tengo una idea para mejorar los tableros, ¿a quién se la propongo?",
            "Onde posso propor uma melhoria?",
            "Ich hätte eine Idee für die App.",
        ] {
            assert!(english_terms(wish).contains("feature request"), "{wish}");
        }
    }

    #[test]
    fn a_german_verb_split_from_its_particle_is_found() {
        assert!(english_terms("Wo richte ich Webhooks ein?").contains("set up webhooks"));
        assert!(english_terms("Wie lade ich neue Kollegen ein?").contains("invite members"));
        assert!(english_terms("Wo lade ich die Rechnung herunter?").contains("download"));
        // The particle must follow the verb in the same sentence.
        assert_eq!(joined_separable_verbs("ein link. wo richte ich das"), "");
    }
}
