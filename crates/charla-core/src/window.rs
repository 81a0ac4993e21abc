//! The customer-service window of messengers that limit replies (DESIGN §2): WhatsApp accepts
//! free text only within 24 hours of the contact's last message and templates at any time;
//! Instagram accepts replies only within those 24 hours. Other channels have no window.

use crate::{ChannelKind, Millis};

/// 24 hours.
pub const CUSTOMER_SERVICE_WINDOW_MS: Millis = 24 * 60 * 60 * 1000;

/// The length of the channel kind's reply window; None: it has none.
pub fn window_ms(kind: ChannelKind) -> Option<Millis> {
    match kind {
        ChannelKind::Whatsapp | ChannelKind::Instagram => Some(CUSTOMER_SERVICE_WINDOW_MS),
        _ => None,
    }
}

/// Whether pre-approved templates may be sent when the window is closed.
pub fn templates_outside_window(kind: ChannelKind) -> bool {
    kind == ChannelKind::Whatsapp
}

/// When the window closes: the contact's last inbound message plus the window. None when the
/// kind has no window, or the contact never wrote (then the window is closed).
pub fn expires_at(kind: ChannelKind, last_inbound_at: Option<Millis>) -> Option<Millis> {
    Some(last_inbound_at?.saturating_add(window_ms(kind)?))
}

/// Whether free text may be sent now. Always true on kinds without a window.
pub fn is_open(kind: ChannelKind, last_inbound_at: Option<Millis>, now: Millis) -> bool {
    if window_ms(kind).is_none() {
        return true;
    }
    expires_at(kind, last_inbound_at).is_some_and(|end| now <= end)
}

/// Why a message may not be sent now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowClosed {
    /// The API error code: `whatsapp_window_closed` or `instagram_window_closed`.
    pub code: &'static str,
    pub message: String,
}

/// The window rule before an outbound message is queued: free text needs the window open;
/// a template passes where the kind allows templates outside it.
pub fn check_outbound(
    kind: ChannelKind,
    last_inbound_at: Option<Millis>,
    now: Millis,
    is_template: bool,
) -> Result<(), WindowClosed> {
    if is_open(kind, last_inbound_at, now) || (is_template && templates_outside_window(kind)) {
        return Ok(());
    }
    Err(match kind {
        ChannelKind::Whatsapp => WindowClosed {
            code: "whatsapp_window_closed",
            message: "more than 24 hours since the contact's last message: WhatsApp only accepts templates now".into(),
        },
        _ => WindowClosed {
            code: "instagram_window_closed",
            message: "more than 24 hours since the contact's last message: Instagram accepts no reply until the \
                      contact writes again"
                .into(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Millis = 1_700_000_000_000;
    const H: Millis = 3_600_000;

    #[test]
    fn windows_per_kind() {
        assert_eq!(window_ms(ChannelKind::Whatsapp), Some(24 * H));
        assert_eq!(window_ms(ChannelKind::Instagram), Some(24 * H));
        for k in [ChannelKind::Telegram, ChannelKind::Api, ChannelKind::Website, ChannelKind::Email] {
            assert_eq!(window_ms(k), None, "{k}");
            assert_eq!(expires_at(k, Some(T)), None);
            assert!(is_open(k, None, T));
        }
        assert_eq!(expires_at(ChannelKind::Whatsapp, Some(T)), Some(T + 24 * H));
        assert_eq!(expires_at(ChannelKind::Whatsapp, None), None);
    }

    #[test]
    #[allow(clippy::type_complexity)]
    fn outbound_rule() {
        use ChannelKind::*;
        // (kind, last inbound, now, template, allowed)
        let cases: &[(ChannelKind, Option<Millis>, Millis, bool, Result<(), &str>)] = &[
            (Whatsapp, Some(T), T + H, false, Ok(())),
            (Whatsapp, Some(T), T + 24 * H, false, Ok(())),
            (Whatsapp, Some(T), T + 24 * H + 1, false, Err("whatsapp_window_closed")),
            (Whatsapp, Some(T), T + 24 * H + 1, true, Ok(())),
            (Whatsapp, None, T, false, Err("whatsapp_window_closed")),
            (Whatsapp, None, T, true, Ok(())),
            (Instagram, Some(T), T + 23 * H, false, Ok(())),
            (Instagram, Some(T), T + 25 * H, false, Err("instagram_window_closed")),
            (Instagram, Some(T), T + 25 * H, true, Err("instagram_window_closed")),
            (Telegram, None, T, false, Ok(())),
            (Telegram, Some(T), T + 1000 * H, false, Ok(())),
            (Api, Some(T), T + 1000 * H, true, Ok(())),
        ];
        for (kind, last, now, template, want) in cases {
            let got = check_outbound(*kind, *last, *now, *template).map_err(|e| e.code);
            assert_eq!(got, *want, "{kind} last={last:?} now={now} template={template}");
        }
    }
}
