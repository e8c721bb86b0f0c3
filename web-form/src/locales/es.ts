import type { Messages } from '../i18n';

const LABELS = {
  name: 'Nombre',
  email: 'Correo electrónico',
  phone: 'Teléfono',
  subject: 'Asunto',
  category: 'Categoría',
  priority: 'Prioridad',
  message: 'Mensaje',
} as const;

/** Spanish. */
export const es: Messages = {
  formTitle: 'Contacta con el soporte de Orbitask',
  formIntro:
    'Cuéntanos qué necesitas y te responderemos aquí y por correo electrónico. Todos los campos son obligatorios salvo los marcados como opcionales.',
  fieldLabels: LABELS,
  optional: '(opcional)',
  chooseCategory: 'Elige una categoría',
  categories: {
    general: 'Pregunta general',
    technical: 'Soporte técnico',
    billing: 'Facturación',
    feedback: 'Comentarios',
    bug_report: 'Informe de error',
  },
  priorities: { low: 'Baja', medium: 'Media', high: 'Alta' },
  phoneHint: 'Incluye el prefijo del país, por ejemplo +34 612 345 678.',
  emailFromAccount: 'De tu cuenta.',
  characters: 'caracteres',
  send: 'Enviar solicitud',
  sending: 'Enviando…',
  checkExisting: 'Consultar una solicitud existente',
  checkFields: (count, fields) =>
    count === 1 ? `Revisa 1 campo: ${fields}.` : `Revisa ${count} campos: ${fields}.`,
  retryIn: (seconds) =>
    seconds < 90
      ? `Puedes volver a intentarlo en ${seconds} segundos.`
      : `Puedes volver a intentarlo en unos ${Math.ceil(seconds / 60)} minutos.`,
  issue: (field, issue) => {
    switch (issue.kind) {
      case 'required':
        return {
          name: 'Escribe tu nombre.',
          email: 'Escribe tu correo electrónico.',
          phone: 'Escribe tu número de teléfono.',
          subject: 'Escribe un asunto.',
          category: 'Elige una categoría.',
          priority: 'Elige una prioridad: Baja, Media o Alta.',
          message: 'Escribe tu mensaje.',
        }[field];
      case 'too_short':
        return `El campo «${LABELS[field]}» debe tener al menos ${issue.min} caracteres.`;
      case 'too_long':
        return `El campo «${LABELS[field]}» debe tener como máximo ${issue.max} caracteres.`;
      case 'invalid':
        if (field === 'email') return 'Escribe un correo electrónico válido, como nombre@ejemplo.com.';
        if (field === 'phone') return 'Escribe el teléfono con el prefijo del país, como +34 612 345 678.';
        if (field === 'priority') return 'Elige una prioridad: Baja, Media o Alta.';
        return `Revisa el campo «${LABELS[field]}».`;
    }
  },
  errors: {
    network: 'No hemos podido conectar con el soporte de Orbitask. Comprueba tu conexión y vuelve a intentarlo.',
    rateLimited: 'Hemos recibido muchas solicitudes tuyas. Espera un momento y vuelve a intentarlo.',
    tooLarge: 'Tu mensaje es demasiado largo para enviarlo. Acórtalo y vuelve a intentarlo.',
    unavailable: 'Nuestro servicio de soporte no está disponible ahora mismo. Vuelve a intentarlo en unos minutos.',
    challengeFailed: 'La verificación no se ha completado. Vuelve a hacerla y envía de nuevo.',
    generic: 'Algo ha fallado al enviar. Vuelve a intentarlo.',
  },
  challenge: {
    label: 'Verificación',
    loading: 'Cargando la verificación…',
    failed: 'No se ha podido cargar la verificación. Recarga la página o inténtalo más tarde.',
    required: 'Completa la verificación antes de enviar.',
  },
  lookup: {
    title: 'Consultar una solicitud existente',
    label: 'ID o enlace de la solicitud',
    hint: 'Pega el enlace de tu confirmación para ver la conversación, o el ID de la solicitud para ver su estado.',
    empty: 'Escribe el ID o el enlace de tu solicitud.',
    invalid: 'Escribe el ID de tu confirmación. Tiene este aspecto: 0b7e5c1a-4d2f-4e8a-9c3b-2f1d6a7e8b90.',
    submit: 'Consultar estado',
    back: 'Volver al formulario de contacto',
  },
  status: {
    thanks: 'Gracias. Hemos recibido tu solicitud.',
    confirmation: 'Te responderemos en esta página y por correo electrónico.',
    ticketId: 'ID de la solicitud',
    copy: 'Copiar',
    copyTicketId: 'Copiar el ID de la solicitud',
    copied: 'Copiado',
    copyFailed: 'Selecciona el ID y cópialo.',
    estimateLabel: 'Tiempo estimado de respuesta',
    keepLink: 'Guarda el enlace de esta página: muestra nuestras respuestas y te permite contestar.',
    yourConversation: 'Tu conversación',
    yourTicket: 'Tu solicitud',
    notFound: 'No hemos encontrado ninguna solicitud con este ID.',
    notFoundDetail: 'Comprueba el ID de tu confirmación y vuelve a intentarlo.',
    accessDenied:
      'Este enlace no abre la conversación de esta solicitud. Usa el enlace de tu confirmación.',
    statusOnly: 'Abre el enlace de tu confirmación para ver la conversación y responder.',
    caption: 'Estado',
    labels: {
      received: 'Recibida',
      in_progress: 'Preparando una respuesta',
      answered: 'Respondida',
      with_team: 'Con nuestro equipo',
      resolved: 'Resuelta',
    },
    notes: {
      received: 'Estamos preparando una respuesta. Esta página se actualiza sola.',
      in_progress: 'Estamos preparando una respuesta. Esta página se actualiza sola.',
      with_team:
        'Una persona de nuestro equipo está revisando tu solicitud. Te responderemos aquí y por correo electrónico.',
      resolved: 'Esta solicitud está resuelta. Si necesitas más ayuda, envía una nueva solicitud.',
    },
    refreshFailed: (detail) =>
      detail
        ? `No hemos podido actualizar esta solicitud: ${detail} Lo intentaremos de nuevo en breve.`
        : 'No hemos podido actualizar esta solicitud. Lo intentaremos de nuevo en breve.',
    loading: 'Cargando la solicitud…',
    conversation: 'Conversación',
    roles: { customer: 'Tú', agent: 'Soporte de Orbitask', system: 'Aviso' },
    lastUpdated: 'Última actualización',
    checkUpdates: 'Buscar novedades',
    newRequest: 'Enviar una nueva solicitud',
    checkAnother: 'Consultar otra solicitud',
  },
  estimate: {
    withinMinutes: (minutes) =>
      minutes <= 1 ? 'Normalmente en menos de un minuto' : `Normalmente en unos ${minutes} minutos`,
    withinHours: (hours) => `Normalmente en unas ${hours} horas`,
    teamBy: (time) => `Una persona de nuestro equipo te responderá antes del ${time}`,
    unknown: 'Te responderemos lo antes posible',
  },
  reply: {
    label: 'Tu respuesta',
    hint: 'Respondemos aquí y por correo electrónico.',
    send: 'Enviar respuesta',
    sending: 'Enviando…',
    sent: 'Enviado. Estamos preparando una respuesta.',
    resolved: 'Esta solicitud está resuelta. Envía una nueva solicitud si necesitas más ayuda.',
  },
};
