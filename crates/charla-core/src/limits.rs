//! Size limits on what operators and contacts send.

use crate::ChannelKind;

pub const CANNED_RESPONSE_MAX: usize = 60_000;
pub const TEMPLATE_MAX: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLong {
    pub limit: usize,
    pub length: usize,
}

/// Length of a message as the channel counts it: website and API channels do not count
/// whitespace; the others count every character.
pub fn message_length(kind: ChannelKind, text: &str) -> usize {
    if kind.length_ignores_spaces() {
        text.chars().filter(|c| !c.is_whitespace()).count()
    } else {
        text.chars().count()
    }
}

pub fn check_message_length(kind: ChannelKind, limit: i64, text: &str) -> Result<(), TooLong> {
    let limit = usize::try_from(limit).unwrap_or(0);
    let length = message_length(kind, text);
    if limit > 0 && length > limit { Err(TooLong { limit, length }) } else { Ok(()) }
}

pub fn check_canned_response(text: &str) -> Result<(), TooLong> {
    let length = text.chars().count();
    if length > CANNED_RESPONSE_MAX { Err(TooLong { limit: CANNED_RESPONSE_MAX, length }) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_do_not_count_on_website_and_api() {
        let text = format!("{} {}", "a".repeat(1000), "b".repeat(1000));
        assert!(check_message_length(ChannelKind::Api, 2000, &text).is_ok());
        assert!(check_message_length(ChannelKind::Website, 2000, &text).is_ok());
        let over = format!("{text}c");
        assert_eq!(check_message_length(ChannelKind::Api, 2000, &over), Err(TooLong { limit: 2000, length: 2001 }));
        assert!(check_message_length(ChannelKind::Instagram, 2000, &text).is_err());
    }

    #[test]
    fn characters_not_bytes() {
        let text = "ж".repeat(1000);
        assert!(check_message_length(ChannelKind::Instagram, 1000, &text).is_ok());
        assert!(check_message_length(ChannelKind::Instagram, 999, &text).is_err());
    }

    #[test]
    fn defaults_per_kind() {
        assert_eq!(ChannelKind::Api.default_max_message_length(), 2000);
        assert_eq!(ChannelKind::Whatsapp.default_max_message_length(), 4096);
        assert_eq!(ChannelKind::Instagram.default_max_message_length(), 1000);
        assert!(check_canned_response(&"x".repeat(60_000)).is_ok());
        assert!(check_canned_response(&"x".repeat(60_001)).is_err());
    }
}
