// Wire shapes of /api/v1 (crates/charla-server/src/wire.rs is the contract).

export type Id = number;

export interface User {
  id: Id;
  email: string;
  name: string;
  display_name: string;
  role: 'admin' | 'agent';
  flags: string[];
  language: string;
  presence: 'online' | 'away' | 'offline';
  max_concurrent: number;
  active: boolean;
  last_activity_at: string | null;
  created_at: string;
}

export interface Team {
  id: Id;
  name: string;
  member_ids: Id[];
}

export type ChannelKind = 'website' | 'api' | 'telegram' | 'whatsapp' | 'instagram' | 'email';

export interface Channel {
  id: Id;
  kind: ChannelKind;
  name: string;
  webhook_url: string | null;
  routing_mode: 'manual' | 'auto';
  max_message_length: number;
  auto_close_after_secs: number | null;
  response_time_limit_secs: number;
  greeting: string | null;
  member_ids: Id[];
  active: boolean;
  created_at: string;
  secret?: string;
  /** Website: the line to paste into a page, and the full-screen chat link. */
  embed_snippet?: string;
  chat_link?: string;
  website?: WebsiteOptions & { base_url: string; ratings_url: string };
  /** Messengers (docs/messengers.md): where the provider must send webhooks (a path on this server). */
  webhook_url_to_configure?: string;
  phone_number_id?: string;
  business_account_id?: string;
  display_phone_number?: string;
  page_id?: string;
  bot_username?: string;
  api_base_url?: string;
  /** WhatsApp and Instagram: only in the answers of creation and rotate-secret. */
  verify_token?: string;
}

export type ButtonMode = 'show' | 'show_with_notification' | 'open_automatically' | 'hide';

export interface WebsiteRule {
  url_regex: string | null;
  countries: string[];
  button: ButtonMode;
  auto_open_after_secs: number | null;
  chatbot_id?: null;
  chatbot_only_if_no_operator?: boolean;
}

export interface WebsiteOptions {
  button_text: string;
  button_color: string;
  header_color: string;
  placeholder: string;
  allowed_origins: string[];
  rules: WebsiteRule[];
  ratings_page_public: boolean;
}

export interface Contact {
  id: Id;
  name: string;
  phone: string | null;
  email: string | null;
  avatar_url: string | null;
  telegram_username: string | null;
  telegram_id: string | null;
  source: string | null;
  custom_attributes: Record<string, unknown>;
  tag_ids: Id[];
  blocked: boolean;
  created_at: string;
}

export interface ContactCard {
  id: Id;
  name: string;
  phone: string | null;
  email: string | null;
  avatar_url: string | null;
  telegram_username: string | null;
  tag_ids: Id[];
  blocked: boolean;
}

export interface Tag {
  id: Id;
  name: string;
  color: string;
  pinned: boolean;
}

export interface CloseReason {
  id: Id;
  name: string;
}

export interface CannedResponse {
  id: Id;
  shortcut: string;
  text: string;
  personal: boolean;
  owner_id: Id | null;
}

export interface LastMessage {
  id: Id | null;
  preview: string;
  author_type: 'contact' | 'user' | 'bot' | 'system' | null;
  at: string;
}

export interface Conversation {
  id: Id;
  status: 'open' | 'snoozed' | 'closed';
  channel_id: Id;
  assignee_id: Id | null;
  team_id: Id | null;
  /** A full card in API answers, only {id} in realtime summaries. */
  contact: (Partial<ContactCard> & { id: Id }) | null;
  identity_id: Id;
  identity?: { id: Id; external_id: string; name: string };
  is_group: boolean;
  unread_count: number;
  marked_unread: boolean;
  unanswered: boolean;
  no_reply_needed: boolean;
  owned_by_bot: boolean;
  snoozed_until: string | null;
  waiting_since: string | null;
  due_at: string | null;
  last_message: LastMessage | null;
  last_activity_at: string;
  created_at: string;
  draft: string | null;
  /** When the contact last wrote. */
  last_inbound_at?: string | null;
  /** WhatsApp and Instagram: when the 24-hour reply window closes (null: no window, or never wrote). */
  reply_window_expires_at?: string | null;
}

export interface Counts {
  mine: number;
  unassigned: number;
  all: number;
  teammates: number;
}

export interface ConversationPage {
  items: Conversation[];
  counts: Counts;
  next_cursor: string | null;
}

export interface Attachment {
  id: Id;
  name: string;
  content_type: string;
  size: number;
  url: string;
  message_id: Id | null;
  created_at: string;
}

export type MessageStatus = 'queued' | 'sent' | 'delivered' | 'read' | 'failed';

export interface Message {
  id: Id;
  conversation_id: Id;
  channel_id: Id;
  attention_id: Id | null;
  kind: 'inbound' | 'outbound' | 'note' | 'event';
  text: string;
  status: MessageStatus;
  error: string | null;
  provider_id: string | null;
  attachments: Attachment[];
  author: { type: 'contact' | 'user' | 'bot' | 'system'; id: Id | null; name: string };
  reply_to: Id | null;
  client_msg_id: string | null;
  /** History lines: what happened, to be said in the operator's language (`text` is English). */
  event?: MessageEvent | null;
  created_at: string;
  /** Client-only: the send has not been acknowledged yet / failed locally. */
  pending?: 'sending' | 'error';
  /** Client-only: the template a pending send used (a retry sends it again). */
  template?: TemplateSend;
}

export interface MessageEvent {
  type: string;
  from?: string | null;
  to?: string | null;
  reason?: string | null;
  /** Unix milliseconds. */
  until?: number | null;
}

export interface MessagePage {
  items: Message[];
  next_before: Id | null;
}

export interface Notification {
  id: Id;
  kind: string;
  conversation_id: Id | null;
  text: string;
  read: boolean;
  created_at: string;
}

export interface Attention {
  id: Id;
  conversation_id: Id;
  status: string;
  assignee_id: Id | null;
  team_id: Id | null;
  opened_at: string;
  closed_at: string | null;
  close_reason: string | null;
  first_response_at: string | null;
}

export interface WsFrame {
  seq: number | null;
  type: string;
  data: any;
}

// ------------------------------------------------------------------ messenger channels

export interface Template {
  id: Id;
  channel_id: Id;
  name: string;
  language: string;
  category: string;
  body: string;
  /** null: placeholders Charla cannot fill (named ones). */
  param_count: number | null;
  status: 'approved' | 'pending' | 'rejected';
  rejection_reason: string | null;
  synced: boolean;
  updated_at: string;
}

export interface TemplateSend {
  id: Id;
  params: string[];
}

export interface ConnectionReport {
  ok: boolean;
  detail: string;
  account: string | null;
  webhook_url: string | null;
}
