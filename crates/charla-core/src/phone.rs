//! Phone numbers in E.164 (`+`, then 7 to 15 digits, the first not 0): the one spelling that
//! contact search and merging compare, whatever formatting a channel or a person used.

/// Shortest and longest E.164 numbers, counted in digits (country code included).
const MIN_DIGITS: usize = 7;
const MAX_DIGITS: usize = 15;

/// The E.164 form of a phone number, or None when it is not one.
///
/// Accepted: `+34 600 123 456`, `+1 (555) 010-9999`, `0034600123456` (international `00`
/// prefix), and bare digits, which are taken as already international because that is how
/// WhatsApp (`wa_id`) and Telegram (shared contacts) give them: `34600123456`. Spaces, dots,
/// dashes, slashes and parentheses are ignored; letters (extensions, words) make it not a
/// number. National numbers without a country code cannot be told apart from international
/// ones here, so callers pass only what a provider or a person gave as international.
pub fn normalize_e164(raw: &str) -> Option<String> {
    let mut digits = String::with_capacity(raw.len());
    let mut plus = false;
    for c in raw.trim().chars() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if digits.is_empty() && !plus => plus = true,
            ' ' | '-' | '.' | '/' | '(' | ')' | '\u{a0}' => {}
            _ => return None,
        }
    }
    let digits = match digits.strip_prefix("00") {
        Some(rest) if !plus => rest.to_string(),
        _ => digits,
    };
    let ok = (MIN_DIGITS..=MAX_DIGITS).contains(&digits.len()) && !digits.starts_with('0');
    ok.then(|| format!("+{digits}"))
}

/// The E.164 form when there is one, else the text as given (trimmed); None when blank. What
/// a contact's phone field keeps.
pub fn normalize_or_keep(raw: &str) -> Option<String> {
    let t = raw.trim();
    if t.is_empty() {
        return None;
    }
    Some(normalize_e164(t).unwrap_or_else(|| t.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_cases() {
        let cases: &[(&str, Option<&str>)] = &[
            ("+34 600 123 456", Some("+34600123456")),
            ("+1 (555) 010-9999", Some("+15550109999")),
            ("34600123456", Some("+34600123456")),
            ("0034600123456", Some("+34600123456")),
            ("+7.916.123.45.67", Some("+79161234567")),
            ("  +44 20 7946 0958  ", Some("+442079460958")),
            ("+49/30/1234567", Some("+49301234567")),
            ("+34\u{a0}600123456", Some("+34600123456")),
            ("", None),
            ("   ", None),
            ("+", None),
            ("12345", None),
            ("+1234567890123456", None),
            ("0600123456", None),
            ("+0600123456", None),
            ("+34 600 123 456 ext 7", None),
            ("tel:+34600123456", None),
            ("+34+600123456", None),
            ("600-ABC-123", None),
            ("+683 4002", Some("+6834002")),
        ];
        for (raw, want) in cases {
            assert_eq!(normalize_e164(raw).as_deref(), *want, "{raw:?}");
        }
    }

    #[test]
    fn keep_what_is_not_a_number() {
        assert_eq!(normalize_or_keep(" +34 600 123 456 ").as_deref(), Some("+34600123456"));
        assert_eq!(normalize_or_keep("ext. 12").as_deref(), Some("ext. 12"));
        assert_eq!(normalize_or_keep("  "), None);
    }
}
