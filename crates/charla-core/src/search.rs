//! Inbox search terms: substring search from 4 characters.

pub const MIN_SEARCH_CHARS: usize = 4;

/// Where an inbox search looks: the search box's "everywhere" (the default), or one side of it
/// (the "Contacts" and "Messages" tabs of the search).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SearchScope {
    /// Contact fields and message text.
    #[default]
    Everywhere,
    /// Contact name, phone, e-mail, Telegram username (and the channel identity's name) only.
    Contacts,
    /// Message text only.
    Messages,
}

impl SearchScope {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "all" | "everywhere" | "" => Some(Self::Everywhere),
            "contacts" | "contact" => Some(Self::Contacts),
            "messages" | "message" => Some(Self::Messages),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerm {
    /// Lower-cased text to find as a substring of name, e-mail, username, and in message text.
    pub text: String,
    /// The digits of the term when it looks like (part of) a phone number, matched against
    /// the contact's phone digits whatever its formatting.
    pub phone_digits: Option<String>,
    /// Where it is looked for.
    pub scope: SearchScope,
}

impl SearchTerm {
    /// The same term looked for only where `scope` says.
    pub fn within(self, scope: SearchScope) -> Self {
        Self { scope, ..self }
    }

    /// Whether contact fields are searched.
    pub fn in_contacts(&self) -> bool {
        self.scope != SearchScope::Messages
    }

    /// Whether message text is searched: not in the Contacts scope, and only when the term has
    /// something a full-text tokenizer keeps (letters or digits).
    pub fn in_messages(&self) -> bool {
        self.scope != SearchScope::Contacts && self.text.chars().any(char::is_alphanumeric)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooShort;

/// Parses a search box entry. Fewer than 4 non-blank characters is an error the API reports.
pub fn parse(q: &str) -> Result<SearchTerm, TooShort> {
    let text = q.trim().to_lowercase();
    if text.chars().count() < MIN_SEARCH_CHARS {
        return Err(TooShort);
    }
    let looks_like_phone = text.chars().all(|c| c.is_ascii_digit() || "+-() .".contains(c));
    let digits = digits_of(&text);
    let phone_digits = (looks_like_phone && digits.len() >= MIN_SEARCH_CHARS).then_some(digits);
    Ok(SearchTerm { text, phone_digits, scope: SearchScope::Everywhere })
}

/// Only the digits of a phone number: what phone search compares.
pub fn digits_of(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_digit()).collect()
}

/// The lower-cased text contact search looks in: name, e-mail, username (one string so one
/// index serves all).
pub fn contact_search_text(parts: &[Option<&str>]) -> String {
    parts.iter().flatten().map(|p| p.to_lowercase()).collect::<Vec<_>>().join("\u{1f}")
}

/// What contact search looks in for a conversation, kept on the conversation by the store: its
/// contact's search text (see [`contact_search_text`]; none when detached), then its identity's
/// lower-cased name. The phone digits are kept beside it.
pub fn conversation_search_text(contact_search_text: Option<&str>, identity_name: &str) -> String {
    format!("{}\u{1f}{}", contact_search_text.unwrap_or(""), identity_name.to_lowercase())
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
pub fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms() {
        assert_eq!(parse("abc"), Err(TooShort));
        assert_eq!(parse("  ab  "), Err(TooShort));
        let t = parse("Maria").unwrap_or_else(|_| panic!("parse"));
        assert_eq!(t.text, "maria");
        assert_eq!(t.phone_digits, None);
        let t = parse("(555) 12").unwrap_or_else(|_| panic!("parse"));
        assert_eq!(t.phone_digits.as_deref(), Some("55512"));
        let t = parse("+7 9").unwrap_or_else(|_| panic!("parse"));
        assert_eq!(t.phone_digits, None, "too few digits");
        let t = parse("4567").unwrap_or_else(|_| panic!("parse"));
        assert_eq!(t.phone_digits.as_deref(), Some("4567"));
        let t = parse("ab12345").unwrap_or_else(|_| panic!("parse"));
        assert_eq!(t.phone_digits, None);
    }

    #[test]
    fn scopes() {
        let t = parse("Maria").unwrap_or_else(|_| panic!("parse"));
        assert!(t.in_contacts() && t.in_messages());
        let c = t.clone().within(SearchScope::Contacts);
        assert!(c.in_contacts() && !c.in_messages());
        let m = t.within(SearchScope::Messages);
        assert!(!m.in_contacts() && m.in_messages());
        // Nothing a tokenizer keeps: no message can match.
        let p = parse("+-()  .").unwrap_or_else(|_| panic!("parse"));
        assert!(!p.in_messages());
        assert_eq!(SearchScope::parse("contacts"), Some(SearchScope::Contacts));
        assert_eq!(SearchScope::parse("messages"), Some(SearchScope::Messages));
        assert_eq!(SearchScope::parse(""), Some(SearchScope::Everywhere));
        assert_eq!(SearchScope::parse("files"), None);
    }

    #[test]
    fn helpers() {
        assert_eq!(digits_of("+1 (555) 010-99"), "155501099");
        assert_eq!(like_escape("50%_a\\"), "50\\%\\_a\\\\");
        assert_eq!(contact_search_text(&[Some("Ana"), None, Some("A@B.c")]), "ana\u{1f}a@b.c");
        assert_eq!(conversation_search_text(Some("ana\u{1f}a@b.c"), "Ana B"), "ana\u{1f}a@b.c\u{1f}ana b");
        assert_eq!(conversation_search_text(None, "Ana"), "\u{1f}ana");
    }
}
