// Shapes shared by the loader and the chat (types only: nothing here is bundled).

export interface ChannelInfo {
  id: number;
  name: string;
  button_text: string;
  button_color: string;
  header_color: string;
  placeholder: string;
  welcome_message: string;
  max_message_length: number;
}

export interface ConvState {
  status: 'open' | 'snoozed' | 'closed';
  operator: string | null;
  rating: string | null;
}

export interface Visit {
  token: string;
  visitor_id: string;
  channel: ChannelInfo;
  rule: {
    button: 'show' | 'show_with_notification' | 'open_automatically' | 'hide';
    auto_open_after_secs: number | null;
    rule: number | null;
  };
  country: string | null;
  email: string | null;
  available: boolean;
  conversation: ConvState | null;
}

export interface Ctx {
  base: string;
  channel: number;
  visit: Visit;
  pageMode: boolean;
  load(k: string): string | null;
  save(k: string, v: string | null): void;
  root: ShadowRoot;
  /** The chat was minimized: show the button again. */
  minimized(): void;
  /** Set by the chat: show it again after it was minimized. */
  reopen?: () => void;
}

export interface VAttachment {
  id: number;
  name: string;
  content_type: string;
  size: number;
  url: string;
}

export interface VMessage {
  id: number;
  kind: 'inbound' | 'outbound';
  text: string;
  status: string;
  author: string;
  attachments: VAttachment[];
  client_msg_id: string | null;
  created_at: string;
}
