import type { Messages } from '../i18n';

const LABELS = {
  name: 'Nom',
  email: 'E-mail',
  phone: 'Téléphone',
  subject: 'Objet',
  category: 'Catégorie',
  priority: 'Priorité',
  message: 'Message',
} as const;

/** French. */
export const fr: Messages = {
  formTitle: 'Contacter le support Orbitask',
  formIntro:
    'Dites-nous ce dont vous avez besoin : nous répondrons ici et par e-mail. Tous les champs sont obligatoires, sauf ceux marqués facultatifs.',
  fieldLabels: LABELS,
  optional: '(facultatif)',
  chooseCategory: 'Choisissez une catégorie',
  categories: {
    general: 'Question générale',
    technical: 'Support technique',
    billing: 'Facturation',
    feedback: 'Avis',
    bug_report: 'Signaler un bug',
  },
  priorities: { low: 'Basse', medium: 'Moyenne', high: 'Haute' },
  phoneHint: 'Avec l’indicatif du pays, par exemple +33 6 12 34 56 78.',
  emailFromAccount: 'De votre compte.',
  characters: 'caractères',
  send: 'Envoyer la demande',
  sending: 'Envoi…',
  checkExisting: 'Consulter une demande existante',
  checkFields: (count, fields) =>
    count === 1 ? `Vérifiez 1 champ : ${fields}.` : `Vérifiez ${count} champs : ${fields}.`,
  retryIn: (seconds) =>
    seconds < 90
      ? `Vous pourrez réessayer dans ${seconds} secondes.`
      : `Vous pourrez réessayer dans environ ${Math.ceil(seconds / 60)} minutes.`,
  issue: (field, issue) => {
    switch (issue.kind) {
      case 'required':
        return {
          name: 'Saisissez votre nom.',
          email: 'Saisissez votre adresse e-mail.',
          phone: 'Saisissez votre numéro de téléphone.',
          subject: 'Saisissez un objet.',
          category: 'Choisissez une catégorie.',
          priority: 'Choisissez une priorité : Basse, Moyenne ou Haute.',
          message: 'Saisissez votre message.',
        }[field];
      case 'too_short':
        return `Le champ « ${LABELS[field]} » doit compter au moins ${issue.min} caractères.`;
      case 'too_long':
        return `Le champ « ${LABELS[field]} » doit compter au plus ${issue.max} caractères.`;
      case 'invalid':
        if (field === 'email') return 'Saisissez une adresse e-mail valide, par exemple nom@exemple.fr.';
        if (field === 'phone') return 'Saisissez le numéro avec l’indicatif du pays, par exemple +33 6 12 34 56 78.';
        if (field === 'priority') return 'Choisissez une priorité : Basse, Moyenne ou Haute.';
        return `Vérifiez le champ « ${LABELS[field]} ».`;
    }
  },
  errors: {
    network: 'Impossible de joindre le support Orbitask. Vérifiez votre connexion et réessayez.',
    rateLimited: 'Nous avons reçu de nombreuses demandes de votre part. Patientez un instant et réessayez.',
    tooLarge: 'Votre message est trop long pour être envoyé. Raccourcissez-le et réessayez.',
    unavailable: 'Notre service de support n’est pas disponible pour le moment. Réessayez dans quelques minutes.',
    challengeFailed: 'La vérification n’a pas abouti. Refaites-la et renvoyez votre demande.',
    generic: 'Un problème est survenu lors de l’envoi. Réessayez.',
  },
  challenge: {
    label: 'Vérification',
    loading: 'Chargement de la vérification…',
    failed: 'La vérification n’a pas pu se charger. Rechargez la page ou réessayez plus tard.',
    required: 'Terminez la vérification avant d’envoyer.',
  },
  lookup: {
    title: 'Consulter une demande existante',
    label: 'Identifiant ou lien de la demande',
    hint: 'Collez le lien de votre confirmation pour voir la conversation, ou l’identifiant de la demande pour voir son état.',
    empty: 'Saisissez l’identifiant ou le lien de votre demande.',
    invalid: 'Saisissez l’identifiant de votre confirmation. Il ressemble à ceci : 0b7e5c1a-4d2f-4e8a-9c3b-2f1d6a7e8b90.',
    submit: 'Voir l’état',
    back: 'Retour au formulaire de contact',
  },
  status: {
    thanks: 'Merci. Nous avons bien reçu votre demande.',
    confirmation: 'Nous répondrons sur cette page et par e-mail.',
    ticketId: 'Identifiant de la demande',
    copy: 'Copier',
    copyTicketId: 'Copier l’identifiant de la demande',
    copied: 'Copié',
    copyFailed: 'Sélectionnez l’identifiant et copiez-le.',
    estimateLabel: 'Délai de réponse estimé',
    keepLink: 'Conservez le lien de cette page : il affiche nos réponses et vous permet de répondre.',
    yourConversation: 'Votre conversation',
    yourTicket: 'Votre demande',
    notFound: 'Nous n’avons trouvé aucune demande avec cet identifiant.',
    notFoundDetail: 'Vérifiez l’identifiant de votre confirmation et réessayez.',
    accessDenied: 'Ce lien n’ouvre pas la conversation de cette demande. Utilisez le lien de votre confirmation.',
    statusOnly: 'Ouvrez le lien de votre confirmation pour voir la conversation et répondre.',
    caption: 'État',
    labels: {
      received: 'Reçue',
      in_progress: 'Réponse en préparation',
      answered: 'Répondue',
      with_team: 'Auprès de notre équipe',
      resolved: 'Résolue',
    },
    notes: {
      received: 'Nous préparons une réponse. Cette page se met à jour toute seule.',
      in_progress: 'Nous préparons une réponse. Cette page se met à jour toute seule.',
      with_team: 'Un membre de notre équipe examine votre demande. Nous répondrons ici et par e-mail.',
      resolved: 'Cette demande est résolue. Si vous avez besoin d’aide, envoyez une nouvelle demande.',
    },
    refreshFailed: (detail) =>
      detail
        ? `Impossible d’actualiser cette demande : ${detail} Nous réessaierons sous peu.`
        : 'Impossible d’actualiser cette demande. Nous réessaierons sous peu.',
    loading: 'Chargement de la demande…',
    conversation: 'Conversation',
    roles: { customer: 'Vous', agent: 'Support Orbitask', system: 'Information' },
    lastUpdated: 'Dernière mise à jour',
    checkUpdates: 'Vérifier les nouveautés',
    newRequest: 'Envoyer une nouvelle demande',
    checkAnother: 'Consulter une autre demande',
  },
  estimate: {
    withinMinutes: (minutes) =>
      minutes <= 1 ? 'En général en moins d’une minute' : `En général en environ ${minutes} minutes`,
    withinHours: (hours) => `En général en environ ${hours} heures`,
    teamBy: (time) => `Un membre de notre équipe répondra d’ici le ${time}`,
    unknown: 'Nous répondrons dès que possible',
  },
  reply: {
    label: 'Votre réponse',
    hint: 'Nous répondons ici et par e-mail.',
    send: 'Envoyer la réponse',
    sending: 'Envoi…',
    sent: 'Envoyé. Nous préparons une réponse.',
    resolved: 'Cette demande est résolue. Envoyez une nouvelle demande si vous avez besoin d’aide.',
  },
};
