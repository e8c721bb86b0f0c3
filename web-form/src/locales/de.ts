import type { Messages } from '../i18n';

const LABELS = {
  name: 'Name',
  email: 'E-Mail',
  phone: 'Telefon',
  subject: 'Betreff',
  category: 'Kategorie',
  priority: 'Priorität',
  message: 'Nachricht',
} as const;

/** German. */
export const de: Messages = {
  formTitle: 'Orbitask-Support kontaktieren',
  formIntro:
    'Sagen Sie uns, was Sie brauchen – wir antworten hier und per E-Mail. Alle Felder sind Pflichtfelder, sofern nicht als optional gekennzeichnet.',
  fieldLabels: LABELS,
  optional: '(optional)',
  chooseCategory: 'Kategorie wählen',
  categories: {
    general: 'Allgemeine Frage',
    technical: 'Technischer Support',
    billing: 'Abrechnung',
    feedback: 'Feedback',
    bug_report: 'Fehlermeldung',
  },
  priorities: { low: 'Niedrig', medium: 'Mittel', high: 'Hoch' },
  phoneHint: 'Mit Ländervorwahl, zum Beispiel +49 151 23456789.',
  emailFromAccount: 'Aus Ihrem Konto.',
  characters: 'Zeichen',
  send: 'Anfrage senden',
  sending: 'Wird gesendet…',
  checkExisting: 'Bestehende Anfrage prüfen',
  checkFields: (count, fields) =>
    count === 1 ? `Bitte prüfen Sie 1 Feld: ${fields}.` : `Bitte prüfen Sie ${count} Felder: ${fields}.`,
  retryIn: (seconds) =>
    seconds < 90
      ? `Sie können es in ${seconds} Sekunden erneut versuchen.`
      : `Sie können es in etwa ${Math.ceil(seconds / 60)} Minuten erneut versuchen.`,
  issue: (field, issue) => {
    switch (issue.kind) {
      case 'required':
        return {
          name: 'Geben Sie Ihren Namen ein.',
          email: 'Geben Sie Ihre E-Mail-Adresse ein.',
          phone: 'Geben Sie Ihre Telefonnummer ein.',
          subject: 'Geben Sie einen Betreff ein.',
          category: 'Wählen Sie eine Kategorie.',
          priority: 'Wählen Sie eine Priorität: Niedrig, Mittel oder Hoch.',
          message: 'Geben Sie Ihre Nachricht ein.',
        }[field];
      case 'too_short':
        return `„${LABELS[field]}“ muss mindestens ${issue.min} Zeichen lang sein.`;
      case 'too_long':
        return `„${LABELS[field]}“ darf höchstens ${issue.max} Zeichen lang sein.`;
      case 'invalid':
        if (field === 'email') return 'Geben Sie eine gültige E-Mail-Adresse ein, zum Beispiel name@beispiel.de.';
        if (field === 'phone') return 'Geben Sie die Telefonnummer mit Ländervorwahl ein, zum Beispiel +49 151 23456789.';
        if (field === 'priority') return 'Wählen Sie eine Priorität: Niedrig, Mittel oder Hoch.';
        return `Prüfen Sie das Feld „${LABELS[field]}“.`;
    }
  },
  errors: {
    network: 'Der Orbitask-Support ist nicht erreichbar. Prüfen Sie Ihre Verbindung und versuchen Sie es erneut.',
    rateLimited: 'Wir haben viele Anfragen von Ihnen erhalten. Bitte warten Sie einen Moment und versuchen Sie es erneut.',
    tooLarge: 'Ihre Nachricht ist zu lang zum Senden. Bitte kürzen Sie sie und versuchen Sie es erneut.',
    unavailable: 'Unser Support-Dienst ist gerade nicht verfügbar. Bitte versuchen Sie es in ein paar Minuten erneut.',
    challengeFailed: 'Die Überprüfung ist nicht durchgegangen. Bitte wiederholen Sie sie und senden Sie erneut.',
    generic: 'Beim Senden ist etwas schiefgegangen. Bitte versuchen Sie es erneut.',
  },
  challenge: {
    label: 'Überprüfung',
    loading: 'Die Überprüfung wird geladen…',
    failed: 'Die Überprüfung konnte nicht geladen werden. Laden Sie die Seite neu oder versuchen Sie es später.',
    required: 'Schließen Sie die Überprüfung vor dem Senden ab.',
  },
  lookup: {
    title: 'Bestehende Anfrage prüfen',
    label: 'Anfrage-ID oder Link',
    hint: 'Fügen Sie den Link aus Ihrer Bestätigung ein, um das Gespräch zu sehen, oder die Anfrage-ID für den Status.',
    empty: 'Geben Sie Ihre Anfrage-ID oder Ihren Link ein.',
    invalid: 'Geben Sie die ID aus Ihrer Bestätigung ein. Sie sieht so aus: 0b7e5c1a-4d2f-4e8a-9c3b-2f1d6a7e8b90.',
    submit: 'Status prüfen',
    back: 'Zurück zum Kontaktformular',
  },
  status: {
    thanks: 'Vielen Dank. Wir haben Ihre Anfrage erhalten.',
    confirmation: 'Wir antworten auf dieser Seite und per E-Mail.',
    ticketId: 'Anfrage-ID',
    copy: 'Kopieren',
    copyTicketId: 'Anfrage-ID kopieren',
    copied: 'Kopiert',
    copyFailed: 'Markieren Sie die ID und kopieren Sie sie.',
    estimateLabel: 'Voraussichtliche Antwortzeit',
    keepLink: 'Bewahren Sie den Link dieser Seite auf: Er zeigt unsere Antworten, und Sie können darüber antworten.',
    yourConversation: 'Ihr Gespräch',
    yourTicket: 'Ihre Anfrage',
    notFound: 'Wir haben keine Anfrage mit dieser ID gefunden.',
    notFoundDetail: 'Prüfen Sie die ID in Ihrer Bestätigung und versuchen Sie es erneut.',
    accessDenied: 'Dieser Link öffnet das Gespräch dieser Anfrage nicht. Verwenden Sie den Link aus Ihrer Bestätigung.',
    statusOnly: 'Öffnen Sie den Link aus Ihrer Bestätigung, um das Gespräch zu sehen und zu antworten.',
    caption: 'Status',
    labels: {
      received: 'Eingegangen',
      in_progress: 'Antwort in Vorbereitung',
      answered: 'Beantwortet',
      with_team: 'Bei unserem Team',
      resolved: 'Erledigt',
    },
    notes: {
      received: 'Wir bereiten eine Antwort vor. Diese Seite aktualisiert sich von selbst.',
      in_progress: 'Wir bereiten eine Antwort vor. Diese Seite aktualisiert sich von selbst.',
      with_team: 'Ein Mitglied unseres Teams kümmert sich um Ihre Anfrage. Wir antworten hier und per E-Mail.',
      resolved: 'Diese Anfrage ist erledigt. Wenn Sie weitere Hilfe brauchen, senden Sie eine neue Anfrage.',
    },
    refreshFailed: (detail) =>
      detail
        ? `Diese Anfrage konnte nicht aktualisiert werden: ${detail} Wir versuchen es gleich noch einmal.`
        : 'Diese Anfrage konnte nicht aktualisiert werden. Wir versuchen es gleich noch einmal.',
    loading: 'Die Anfrage wird geladen…',
    conversation: 'Gespräch',
    roles: { customer: 'Sie', agent: 'Orbitask-Support', system: 'Hinweis' },
    lastUpdated: 'Zuletzt aktualisiert',
    checkUpdates: 'Nach Neuigkeiten sehen',
    newRequest: 'Neue Anfrage senden',
    checkAnother: 'Andere Anfrage prüfen',
  },
  estimate: {
    withinMinutes: (minutes) =>
      minutes <= 1 ? 'In der Regel innerhalb einer Minute' : `In der Regel innerhalb von etwa ${minutes} Minuten`,
    withinHours: (hours) => `In der Regel innerhalb von etwa ${hours} Stunden`,
    teamBy: (time) => `Ein Mitglied unseres Teams antwortet bis ${time}`,
    unknown: 'Wir antworten so bald wie möglich',
  },
  reply: {
    label: 'Ihre Antwort',
    hint: 'Wir antworten hier und per E-Mail.',
    send: 'Antwort senden',
    sending: 'Wird gesendet…',
    sent: 'Gesendet. Wir bereiten eine Antwort vor.',
    resolved: 'Diese Anfrage ist erledigt. Senden Sie eine neue Anfrage, wenn Sie weitere Hilfe brauchen.',
  },
};
