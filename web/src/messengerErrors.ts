// Error codes of the messenger endpoints (channel setup, templates, sending) shown in the
// interface language; store.ts's errText uses them. Other codes show the server's text.
import type { TextKey } from './i18n';

export const MESSENGER_ERRORS: Record<string, TextKey> = {
  whatsapp_window_closed: 'error.whatsappWindowClosed',
  instagram_window_closed: 'error.instagramWindowClosed',
  template_not_approved: 'error.templateNotApproved',
  invalid_template_params: 'error.invalidTemplateParams',
  invalid_template: 'error.invalidTemplate',
  invalid_template_message: 'error.invalidTemplateMessage',
  templates_from_provider: 'error.templatesFromProvider',
  templates_not_synced: 'error.templatesNotSynced',
  invalid_phone_number_id: 'error.invalidPhoneNumberId',
  invalid_business_account_id: 'error.invalidBusinessAccountId',
  invalid_page_id: 'error.invalidPageId',
  invalid_access_token: 'error.invalidAccessToken',
  invalid_app_secret: 'error.invalidAppSecret',
  invalid_verify_token: 'error.invalidVerifyToken',
  invalid_bot_token: 'error.invalidBotToken',
  invalid_secret_token: 'error.invalidSecretToken',
  invalid_api_base_url: 'error.invalidApiBaseUrl',
  invalid_webhook_base_url: 'error.invalidWebhookBaseUrl',
  invalid_category: 'error.invalidCategory',
  unsupported_channel_kind: 'error.unsupportedChannelKind',
};
