export { SupportForm } from './SupportForm';
export type { SupportFormProps } from './SupportForm';
export { createSupportApi, ApiError } from './api';
export type {
  ApiFieldError,
  FetchLike,
  MessageChannel,
  MessageRole,
  SubmitResponse,
  SupportApi,
  Ticket,
  TicketMessage,
  TicketStatus,
} from './api';
export { supportFormCss, ensureStyles } from './styles';
export * from './validation';
