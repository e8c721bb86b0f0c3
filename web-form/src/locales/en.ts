import type { Messages } from '../i18n';

const LABELS = {
  name: 'Name',
  email: 'Email',
  phone: 'Phone',
  subject: 'Subject',
  category: 'Category',
  priority: 'Priority',
  message: 'Message',
} as const;

/** English. The field errors are worded exactly as the gateway words them. */
export const en: Messages = {
  formTitle: 'Contact Orbitask Support',
  formIntro:
    'Tell us what you need and we will reply here and by email. All fields are required unless marked optional.',
  fieldLabels: LABELS,
  optional: '(optional)',
  chooseCategory: 'Choose a category',
  categories: {
    general: 'General question',
    technical: 'Technical support',
    billing: 'Billing',
    feedback: 'Feedback',
    bug_report: 'Bug report',
  },
  priorities: { low: 'Low', medium: 'Medium', high: 'High' },
  phoneHint: 'Include the country code, for example +34 612 345 678.',
  emailFromAccount: 'From your account.',
  characters: 'characters',
  send: 'Send request',
  sending: 'Sending…',
  checkExisting: 'Check an existing ticket',
  checkFields: (count, fields) =>
    count === 1 ? `Please check 1 field: ${fields}.` : `Please check ${count} fields: ${fields}.`,
  retryIn: (seconds) =>
    seconds < 90
      ? `You can try again in ${seconds} seconds.`
      : `You can try again in about ${Math.ceil(seconds / 60)} minutes.`,
  issue: (field, issue) => {
    switch (issue.kind) {
      case 'required':
        return {
          name: 'Enter your name.',
          email: 'Enter your email address.',
          phone: 'Enter your phone number.',
          subject: 'Enter a subject.',
          category: 'Choose a category.',
          priority: 'Choose a priority: Low, Medium or High.',
          message: 'Enter your message.',
        }[field];
      case 'too_short':
        return `${LABELS[field]} must be at least ${issue.min} characters.`;
      case 'too_long':
        return field === 'email'
          ? `Email address must be at most ${issue.max} characters.`
          : `${LABELS[field]} must be at most ${issue.max} characters.`;
      case 'invalid':
        if (field === 'email') return 'Enter a valid email address, like name@example.com.';
        if (field === 'phone') return 'Enter the phone number with its country code, like +34 612 345 678.';
        if (field === 'priority') return 'Choose a priority: Low, Medium or High.';
        return `Check the ${LABELS[field].toLowerCase()}.`;
    }
  },
  errors: {
    network: 'We could not reach Orbitask Support. Check your connection and try again.',
    rateLimited: 'We have received many requests from you. Please wait a moment and try again.',
    tooLarge: 'Your message is too large to send. Please shorten it and try again.',
    unavailable: 'Our support service is not available right now. Please try again in a few minutes.',
    challengeFailed: 'The verification did not go through. Please complete it again and resend.',
    generic: 'Something went wrong while sending. Please try again.',
  },
  challenge: {
    label: 'Verification',
    loading: 'Loading the verification…',
    failed: 'The verification could not load. Reload the page or try again later.',
    required: 'Complete the verification before sending.',
  },
  lookup: {
    title: 'Check an existing ticket',
    label: 'Ticket ID or link',
    hint: 'Paste the link from your confirmation to see the conversation, or the ticket ID to see its status.',
    empty: 'Enter your ticket ID or link.',
    invalid: 'Enter the ticket ID from your confirmation. It looks like 0b7e5c1a-4d2f-4e8a-9c3b-2f1d6a7e8b90.',
    submit: 'Check status',
    back: 'Back to the contact form',
  },
  status: {
    thanks: 'Thank you. We have received your request.',
    confirmation: 'We will reply on this page and by email.',
    ticketId: 'Ticket ID',
    copy: 'Copy',
    copyTicketId: 'Copy ticket ID',
    copied: 'Copied',
    copyFailed: 'Select the ID and copy it.',
    estimateLabel: 'Estimated response time',
    keepLink: "Keep this page's link: it shows our answers and lets you reply.",
    yourConversation: 'Your conversation',
    yourTicket: 'Your ticket',
    notFound: 'We could not find a ticket with this ID.',
    notFoundDetail: 'Check the ID in your confirmation and try again.',
    accessDenied: 'This link does not open the conversation of this ticket. Use the link from your confirmation.',
    statusOnly: 'Open the link from your confirmation to see the conversation and reply.',
    caption: 'Status',
    labels: {
      received: 'Received',
      in_progress: 'Preparing a reply',
      answered: 'Answered',
      with_team: 'With our team',
      resolved: 'Resolved',
    },
    notes: {
      received: 'We are preparing a reply. This page updates by itself.',
      in_progress: 'We are preparing a reply. This page updates by itself.',
      with_team: 'A member of our team is looking at your request. We will reply here and by email.',
      resolved: 'This ticket is resolved. If you need more help, send a new request.',
    },
    refreshFailed: (detail) =>
      detail
        ? `We could not refresh this ticket: ${detail} We will try again shortly.`
        : 'We could not refresh this ticket. We will try again shortly.',
    loading: 'Loading the ticket…',
    conversation: 'Conversation',
    roles: { customer: 'You', agent: 'Orbitask Support', system: 'Update' },
    lastUpdated: 'Last updated',
    checkUpdates: 'Check for updates',
    newRequest: 'Send a new request',
    checkAnother: 'Check another ticket',
  },
  estimate: {
    withinMinutes: (minutes) =>
      minutes <= 1 ? 'Usually within a minute' : `Usually within about ${minutes} minutes`,
    withinHours: (hours) => `Usually within about ${hours} hours`,
    teamBy: (time) => `A member of our team will reply by ${time}`,
    unknown: 'We will reply as soon as we can',
  },
  reply: {
    label: 'Your reply',
    hint: 'We answer here and by email.',
    send: 'Send reply',
    sending: 'Sending…',
    sent: 'Sent. We are preparing an answer.',
    resolved: 'This ticket is resolved. Send a new request if you need more help.',
  },
};
