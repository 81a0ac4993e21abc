//! What a messenger's refusal means for the operator: a human reason shown on the failed
//! message, and whether trying again can help. Codes are the providers' documented ones
//! (WhatsApp Cloud API / Graph API error codes, Telegram Bot API answers, Instagram
//! Messenger Platform errors).

/// Whether and when to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Retrying cannot help: the message fails now.
    Never,
    /// A temporary problem: retry with the usual backoff.
    Backoff,
    /// The provider said how long to wait, in seconds.
    AfterSecs(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderError {
    pub reason: String,
    pub retry: Retry,
}

impl ProviderError {
    fn never(reason: impl Into<String>) -> ProviderError {
        ProviderError { reason: reason.into(), retry: Retry::Never }
    }
    fn backoff(reason: impl Into<String>) -> ProviderError {
        ProviderError { reason: reason.into(), retry: Retry::Backoff }
    }
    pub fn retryable(&self) -> bool {
        self.retry != Retry::Never
    }
}

/// A failure the provider described only by its HTTP status.
pub fn from_http_status(provider: &str, status: u16) -> ProviderError {
    match status {
        401 => ProviderError::never(format!("bad token: {provider} rejected the channel's credentials (HTTP 401)")),
        403 => ProviderError::never(format!("{provider} refused the request (HTTP 403)")),
        404 => ProviderError::never(format!("{provider} does not know this account or endpoint (HTTP 404)")),
        408 => ProviderError::backoff(format!("{provider} timed out (HTTP 408)")),
        429 => ProviderError::backoff(format!("rate limited by {provider} (HTTP 429)")),
        s if s >= 500 => ProviderError::backoff(format!("{provider} is unavailable (HTTP {s})")),
        s => ProviderError::never(format!("{provider} refused the message (HTTP {s})")),
    }
}

fn with_details(reason: &str, details: Option<&str>) -> String {
    match details.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => format!("{reason} ({d})"),
        None => reason.to_string(),
    }
}

/// A WhatsApp Cloud API error: from a send's error answer (`error.code`,
/// `error.error_data.details` or `error.message`) or from a `failed` status webhook
/// (`errors[].code`, `errors[].error_data.details` or `title`).
pub fn whatsapp(http_status: Option<u16>, code: Option<i64>, details: Option<&str>) -> ProviderError {
    let d = |reason: &str| with_details(reason, details);
    let Some(code) = code else {
        return from_http_status("WhatsApp", http_status.unwrap_or(500));
    };
    match code {
        131047 => ProviderError::never(
            "outside the 24-hour window: the contact has not written for more than 24 hours; send a template",
        ),
        131026 => ProviderError::never(
            "undeliverable: the recipient may not use WhatsApp, may have blocked this number or may need to update the app",
        ),
        131030 | 131021 => ProviderError::never(d("invalid recipient")),
        133010 => ProviderError::never("the business phone number is not registered on WhatsApp"),
        190 | 0 => {
            ProviderError::never("bad access token: it expired or was revoked; update the channel's access token")
        }
        3 | 10 | 200..=299 => {
            ProviderError::never("permission denied: the access token lacks the WhatsApp messaging permission")
        }
        4 | 80007 | 130429 | 131056 => ProviderError::backoff("rate limited by WhatsApp; trying again later"),
        131048 => ProviderError::backoff("WhatsApp limits this number for spam reports; trying again later"),
        131049 => ProviderError::never("WhatsApp chose not to deliver this message to protect the user; try later"),
        131050 => ProviderError::never("the contact has stopped receiving marketing messages"),
        1 | 2 | 131000 | 131016 | 133004 => ProviderError::backoff(d("WhatsApp had a temporary problem")),
        131051 => ProviderError::never("unsupported message type"),
        131052 => ProviderError::never(d("WhatsApp could not download the media")),
        131053 => ProviderError::never(d("the media was refused (unsupported type or too large)")),
        131031 => ProviderError::never("the WhatsApp business account is locked"),
        131042 => ProviderError::never("payment problem on the WhatsApp business account"),
        368 => ProviderError::never("the WhatsApp business account is restricted for policy violations"),
        132000 => ProviderError::never("the number of template parameters does not match the template"),
        132001 => ProviderError::never("the template does not exist at WhatsApp in this language"),
        132005 => ProviderError::never("the filled template is too long"),
        132007 => ProviderError::never("the template's content breaks WhatsApp's policy"),
        132012 => ProviderError::never(d("a template parameter has the wrong format")),
        132015 => ProviderError::never("the template is paused for low quality"),
        132016 => ProviderError::never("the template is disabled"),
        33 | 100 | 131008 | 131009 => ProviderError::never(d("invalid parameter")),
        other => {
            let transient = http_status.is_some_and(|s| s >= 500 || s == 429);
            let reason = d(&format!("WhatsApp error {other}"));
            if transient { ProviderError::backoff(reason) } else { ProviderError::never(reason) }
        }
    }
}

/// A Telegram Bot API error answer `{ok: false, error_code, description, parameters?:
/// {retry_after}}`.
pub fn telegram(error_code: i64, description: &str, retry_after: Option<i64>) -> ProviderError {
    let lower = description.to_ascii_lowercase();
    let has = |s: &str| lower.contains(s);
    match error_code {
        429 => {
            let secs = retry_after.unwrap_or(1).max(1);
            ProviderError {
                reason: format!("rate limited by Telegram (retry after {secs} s)"),
                retry: Retry::AfterSecs(secs),
            }
        }
        401 | 404 => ProviderError::never("bad bot token: Telegram does not accept it; update the channel's bot token"),
        403 if has("blocked by the user") => ProviderError::never("the contact blocked the bot"),
        403 if has("user is deactivated") => ProviderError::never("the contact's Telegram account was deleted"),
        403 if has("kicked") || has("not a member") => ProviderError::never("the bot was removed from this chat"),
        403 if has("can't initiate") => {
            ProviderError::never("the contact has not started a chat with the bot, so the bot cannot write first")
        }
        400 if has("chat not found") || has("peer_id_invalid") || has("user not found") => {
            ProviderError::never("invalid recipient: Telegram does not know this chat")
        }
        400 if has("message is too long") => ProviderError::never("the text is too long for Telegram"),
        400 if has("upgraded to a supergroup") => {
            ProviderError::never("the group became a supergroup: write in the new chat")
        }
        400 if has("not enough rights") || has("have no rights") => {
            ProviderError::never("the bot may not write in this chat")
        }
        400 if has("wrong file") || (has("file") && has("url")) || has("wrong type of the web page content") => {
            ProviderError::never(with_details("Telegram refused the file", Some(description)))
        }
        c if c >= 500 => ProviderError::backoff(with_details("Telegram is unavailable", Some(description))),
        _ => ProviderError::never(with_details("Telegram refused the message", Some(description))),
    }
}

/// An Instagram (Messenger Platform / Graph API) error answer `{error: {message, code,
/// error_subcode}}`.
pub fn instagram(
    http_status: Option<u16>,
    code: Option<i64>,
    subcode: Option<i64>,
    message: Option<&str>,
) -> ProviderError {
    let d = |reason: &str| with_details(reason, message);
    let outside_window = subcode == Some(2_018_278)
        || message.is_some_and(|m| m.to_ascii_lowercase().contains("outside of allowed window"));
    if outside_window {
        return ProviderError::never(
            "outside the 24-hour window: Instagram only accepts replies within 24 hours of the contact's last message",
        );
    }
    let Some(code) = code else {
        return from_http_status("Instagram", http_status.unwrap_or(500));
    };
    match code {
        100 if subcode == Some(2_018_001) => ProviderError::never("invalid recipient: no matching Instagram user"),
        551 => ProviderError::never("the contact is not available: they may have blocked or restricted the account"),
        190 => ProviderError::never("bad access token: it expired or was revoked; update the channel's access token"),
        10 | 200..=299 => {
            ProviderError::never("permission denied: the page token lacks Instagram messaging permission")
        }
        4 | 17 | 32 | 613 => ProviderError::backoff("rate limited by Instagram; trying again later"),
        1 | 2 => ProviderError::backoff(d("Instagram had a temporary problem")),
        100 => ProviderError::never(d("invalid parameter")),
        other => {
            let transient = http_status.is_some_and(|s| s >= 500 || s == 429);
            let reason = d(&format!("Instagram error {other}"));
            if transient { ProviderError::backoff(reason) } else { ProviderError::never(reason) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::type_complexity)]
    fn whatsapp_codes() {
        // (http, code, details, reason contains, retryable)
        let cases: &[(Option<u16>, Option<i64>, Option<&str>, &str, bool)] = &[
            (Some(400), Some(131047), None, "outside the 24-hour window", false),
            (None, Some(131047), Some("Message failed to send because more than 24 hours"), "template", false),
            (Some(400), Some(131026), None, "undeliverable", false),
            (Some(400), Some(131030), Some("Recipient phone number not in allowed list"), "invalid recipient", false),
            (Some(401), Some(190), None, "bad access token", false),
            (Some(403), Some(10), None, "permission denied", false),
            (Some(429), Some(130429), None, "rate limited", true),
            (Some(400), Some(131056), None, "rate limited", true),
            (Some(400), Some(80007), None, "rate limited", true),
            (Some(500), Some(131000), None, "temporary", true),
            (Some(503), Some(2), None, "temporary", true),
            (Some(400), Some(132001), None, "template does not exist", false),
            (Some(400), Some(132000), None, "template parameters", false),
            (Some(400), Some(100), Some("Unexpected key \"foo\""), "invalid parameter (Unexpected key", false),
            (Some(400), Some(999_999), Some("new"), "WhatsApp error 999999 (new)", false),
            (Some(502), Some(999_999), None, "WhatsApp error 999999", true),
            (Some(502), None, None, "unavailable (HTTP 502)", true),
            (Some(401), None, None, "bad token", false),
            (Some(400), None, None, "HTTP 400", false),
        ];
        for (http, code, details, want, retry) in cases {
            let e = whatsapp(*http, *code, *details);
            assert!(e.reason.contains(want), "{code:?}: {} lacks {want:?}", e.reason);
            assert_eq!(e.retryable(), *retry, "{code:?}: {}", e.reason);
        }
    }

    #[test]
    fn telegram_answers() {
        let cases: &[(i64, &str, Option<i64>, &str, Retry)] = &[
            (429, "Too Many Requests: retry after 7", Some(7), "retry after 7 s", Retry::AfterSecs(7)),
            (429, "Too Many Requests", None, "rate limited", Retry::AfterSecs(1)),
            (403, "Forbidden: bot was blocked by the user", None, "blocked the bot", Retry::Never),
            (403, "Forbidden: user is deactivated", None, "deleted", Retry::Never),
            (403, "Forbidden: bot was kicked from the group chat", None, "removed", Retry::Never),
            (403, "Forbidden: bot can't initiate conversation with a user", None, "cannot write first", Retry::Never),
            (401, "Unauthorized", None, "bad bot token", Retry::Never),
            (404, "Not Found", None, "bad bot token", Retry::Never),
            (400, "Bad Request: chat not found", None, "invalid recipient", Retry::Never),
            (400, "Bad Request: message is too long", None, "too long", Retry::Never),
            (400, "Bad Request: wrong file identifier/HTTP URL specified", None, "refused the file", Retry::Never),
            (400, "Bad Request: group chat was upgraded to a supergroup chat", None, "supergroup", Retry::Never),
            (502, "Bad Gateway", None, "unavailable", Retry::Backoff),
            (400, "Bad Request: something new", None, "refused the message (Bad Request: something new)", Retry::Never),
        ];
        for (code, desc, after, want, retry) in cases {
            let e = telegram(*code, desc, *after);
            assert!(e.reason.contains(want), "{desc}: {} lacks {want:?}", e.reason);
            assert_eq!(e.retry, *retry, "{desc}");
        }
    }

    #[test]
    #[allow(clippy::type_complexity)]
    fn instagram_errors() {
        let cases: &[(Option<u16>, Option<i64>, Option<i64>, Option<&str>, &str, bool)] = &[
            (
                Some(400),
                Some(10),
                Some(2_018_278),
                Some("(#10) This message is sent outside of allowed window."),
                "24-hour",
                false,
            ),
            (Some(400), Some(100), Some(2_018_001), Some("No matching user found"), "invalid recipient", false),
            (Some(400), Some(551), None, Some("This person isn't available right now."), "not available", false),
            (Some(401), Some(190), None, None, "bad access token", false),
            (Some(400), Some(613), None, None, "rate limited", true),
            (Some(500), Some(2), None, Some("Service temporarily unavailable"), "temporary", true),
            (Some(400), Some(100), None, Some("Invalid parameter"), "invalid parameter", false),
            (Some(500), None, None, None, "HTTP 500", true),
        ];
        for (http, code, sub, msg, want, retry) in cases {
            let e = instagram(*http, *code, *sub, *msg);
            assert!(e.reason.contains(want), "{code:?}/{sub:?}: {} lacks {want:?}", e.reason);
            assert_eq!(e.retryable(), *retry, "{code:?}/{sub:?}");
        }
    }

    #[test]
    fn plain_http_statuses() {
        assert!(from_http_status("Telegram", 503).retryable());
        assert!(from_http_status("Telegram", 429).retryable());
        assert!(from_http_status("Telegram", 408).retryable());
        assert!(!from_http_status("Telegram", 400).retryable());
        assert!(from_http_status("WhatsApp", 401).reason.contains("bad token"));
    }
}
