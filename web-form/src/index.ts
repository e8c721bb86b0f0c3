export { SupportForm } from './SupportForm';
export type { SupportFormProps, Theme } from './SupportForm';
export { createSupportApi, ApiError, ACCESS_KEY_HEADER } from './api';
export type {
  ApiFieldError,
  ChallengeConfig,
  CustomerStatus,
  Estimate,
  FetchLike,
  FollowUpAccepted,
  MessageChannel,
  MessageRole,
  SubmitResponse,
  SupportApi,
  Ticket,
  TicketMessage,
  TicketStatus,
  WidgetConfig,
} from './api';
export { SUPPORTED_LANGUAGES, resolveLocale, messagesFor, formatTimestamp } from './i18n';
export type { Language, Messages } from './i18n';
export { Markdown } from './markdown';
export { supportFormCss, ensureStyles } from './styles';
export * from './validation';
