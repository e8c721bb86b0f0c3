import type { Messages } from '../i18n';

const LABELS = {
  name: 'Nome',
  email: 'E-mail',
  phone: 'Telefone',
  subject: 'Assunto',
  category: 'Categoria',
  priority: 'Prioridade',
  message: 'Mensagem',
} as const;

/** Portuguese. */
export const pt: Messages = {
  formTitle: 'Fale com o suporte da Orbitask',
  formIntro:
    'Diga-nos do que precisa e responderemos aqui e por e-mail. Todos os campos são obrigatórios, exceto os marcados como opcionais.',
  fieldLabels: LABELS,
  optional: '(opcional)',
  chooseCategory: 'Escolha uma categoria',
  categories: {
    general: 'Pergunta geral',
    technical: 'Suporte técnico',
    billing: 'Faturação',
    feedback: 'Opinião',
    bug_report: 'Relatório de erro',
  },
  priorities: { low: 'Baixa', medium: 'Média', high: 'Alta' },
  phoneHint: 'Inclua o indicativo do país, por exemplo +351 912 345 678.',
  emailFromAccount: 'Da sua conta.',
  characters: 'caracteres',
  send: 'Enviar pedido',
  sending: 'A enviar…',
  checkExisting: 'Consultar um pedido existente',
  checkFields: (count, fields) =>
    count === 1 ? `Verifique 1 campo: ${fields}.` : `Verifique ${count} campos: ${fields}.`,
  retryIn: (seconds) =>
    seconds < 90
      ? `Pode tentar novamente dentro de ${seconds} segundos.`
      : `Pode tentar novamente dentro de cerca de ${Math.ceil(seconds / 60)} minutos.`,
  issue: (field, issue) => {
    switch (issue.kind) {
      case 'required':
        return {
          name: 'Escreva o seu nome.',
          email: 'Escreva o seu e-mail.',
          phone: 'Escreva o seu número de telefone.',
          subject: 'Escreva um assunto.',
          category: 'Escolha uma categoria.',
          priority: 'Escolha uma prioridade: Baixa, Média ou Alta.',
          message: 'Escreva a sua mensagem.',
        }[field];
      case 'too_short':
        return `O campo «${LABELS[field]}» deve ter pelo menos ${issue.min} caracteres.`;
      case 'too_long':
        return `O campo «${LABELS[field]}» deve ter no máximo ${issue.max} caracteres.`;
      case 'invalid':
        if (field === 'email') return 'Escreva um e-mail válido, como nome@exemplo.com.';
        if (field === 'phone') return 'Escreva o telefone com o indicativo do país, como +351 912 345 678.';
        if (field === 'priority') return 'Escolha uma prioridade: Baixa, Média ou Alta.';
        return `Verifique o campo «${LABELS[field]}».`;
    }
  },
  errors: {
    network: 'Não foi possível contactar o suporte da Orbitask. Verifique a sua ligação e tente novamente.',
    rateLimited: 'Recebemos muitos pedidos seus. Aguarde um momento e tente novamente.',
    tooLarge: 'A sua mensagem é demasiado longa para ser enviada. Encurte-a e tente novamente.',
    unavailable: 'O nosso serviço de suporte não está disponível neste momento. Tente novamente dentro de alguns minutos.',
    challengeFailed: 'A verificação não foi concluída. Conclua-a novamente e volte a enviar.',
    generic: 'Algo correu mal ao enviar. Tente novamente.',
  },
  challenge: {
    label: 'Verificação',
    loading: 'A carregar a verificação…',
    failed: 'Não foi possível carregar a verificação. Recarregue a página ou tente mais tarde.',
    required: 'Conclua a verificação antes de enviar.',
  },
  lookup: {
    title: 'Consultar um pedido existente',
    label: 'ID ou ligação do pedido',
    hint: 'Cole a ligação da sua confirmação para ver a conversa, ou o ID do pedido para ver o estado.',
    empty: 'Escreva o ID ou a ligação do seu pedido.',
    invalid: 'Escreva o ID da sua confirmação. Tem este aspeto: 0b7e5c1a-4d2f-4e8a-9c3b-2f1d6a7e8b90.',
    submit: 'Consultar estado',
    back: 'Voltar ao formulário de contacto',
  },
  status: {
    thanks: 'Obrigado. Recebemos o seu pedido.',
    confirmation: 'Responderemos nesta página e por e-mail.',
    ticketId: 'ID do pedido',
    copy: 'Copiar',
    copyTicketId: 'Copiar o ID do pedido',
    copied: 'Copiado',
    copyFailed: 'Selecione o ID e copie-o.',
    estimateLabel: 'Tempo de resposta estimado',
    keepLink: 'Guarde a ligação desta página: mostra as nossas respostas e permite-lhe responder.',
    yourConversation: 'A sua conversa',
    yourTicket: 'O seu pedido',
    notFound: 'Não encontrámos nenhum pedido com este ID.',
    notFoundDetail: 'Verifique o ID na sua confirmação e tente novamente.',
    accessDenied: 'Esta ligação não abre a conversa deste pedido. Use a ligação da sua confirmação.',
    statusOnly: 'Abra a ligação da sua confirmação para ver a conversa e responder.',
    caption: 'Estado',
    labels: {
      received: 'Recebido',
      in_progress: 'A preparar uma resposta',
      answered: 'Respondido',
      with_team: 'Com a nossa equipa',
      resolved: 'Resolvido',
    },
    notes: {
      received: 'Estamos a preparar uma resposta. Esta página atualiza-se sozinha.',
      in_progress: 'Estamos a preparar uma resposta. Esta página atualiza-se sozinha.',
      with_team: 'Um membro da nossa equipa está a analisar o seu pedido. Responderemos aqui e por e-mail.',
      resolved: 'Este pedido está resolvido. Se precisar de mais ajuda, envie um novo pedido.',
    },
    refreshFailed: (detail) =>
      detail
        ? `Não foi possível atualizar este pedido: ${detail} Tentaremos novamente em breve.`
        : 'Não foi possível atualizar este pedido. Tentaremos novamente em breve.',
    loading: 'A carregar o pedido…',
    conversation: 'Conversa',
    roles: { customer: 'Você', agent: 'Suporte da Orbitask', system: 'Aviso' },
    lastUpdated: 'Última atualização',
    checkUpdates: 'Procurar novidades',
    newRequest: 'Enviar um novo pedido',
    checkAnother: 'Consultar outro pedido',
  },
  estimate: {
    withinMinutes: (minutes) =>
      minutes <= 1 ? 'Normalmente em menos de um minuto' : `Normalmente em cerca de ${minutes} minutos`,
    withinHours: (hours) => `Normalmente em cerca de ${hours} horas`,
    teamBy: (time) => `Um membro da nossa equipa responderá até ${time}`,
    unknown: 'Responderemos assim que possível',
  },
  reply: {
    label: 'A sua resposta',
    hint: 'Respondemos aqui e por e-mail.',
    send: 'Enviar resposta',
    sending: 'A enviar…',
    sent: 'Enviado. Estamos a preparar uma resposta.',
    resolved: 'Este pedido está resolvido. Envie um novo pedido se precisar de mais ajuda.',
  },
};
