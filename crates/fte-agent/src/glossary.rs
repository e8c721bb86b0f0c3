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
];

/// The English terms for the product words of a message in another
/// language, space-separated (empty when none is found).
pub fn english_terms(text: &str) -> String {
    let folded = format!(" {} ", fold(text));
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
    }
}
