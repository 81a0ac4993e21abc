//! Message templates (WhatsApp rules): a body with positional parameters `{{1}}`, `{{2}}`…,
//! filled in when sent. The filled body is what the contact reads and what Charla keeps as the
//! message's text; it may not exceed [`crate::limits::TEMPLATE_MAX`] characters.

use crate::TemplateStatus;
use crate::limits::TEMPLATE_MAX;

/// Longest parameter value accepted.
pub const PARAM_MAX: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// `{{` without `}}`, or a placeholder that is not a positive number (named parameters
    /// are not supported).
    BadPlaceholder(String),
    /// The numbers used are not exactly 1..n (`{{1}} {{3}}`).
    Gap { missing: usize },
    /// The number of values given is not the number of parameters.
    ParamCount { expected: usize, given: usize },
    /// Parameter `index` (1-based) breaks a rule: empty, has a new line or tab, more than four
    /// spaces in a row, or too long.
    InvalidParam { index: usize, reason: &'static str },
    /// The filled body is over the template limit.
    TooLong { limit: usize, length: usize },
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TemplateError::BadPlaceholder(p) => {
                write!(f, "the template has a placeholder that is not {{{{n}}}} with n a number: {p:?}")
            }
            TemplateError::Gap { missing } => write!(f, "the template's parameters skip {{{{{missing}}}}}"),
            TemplateError::ParamCount { expected, given } => {
                write!(f, "the template has {expected} parameter(s); {given} value(s) were given")
            }
            TemplateError::InvalidParam { index, reason } => write!(f, "parameter {{{{{index}}}}} {reason}"),
            TemplateError::TooLong { limit, length } => {
                write!(f, "the filled template is {length} characters; the limit for templates is {limit}")
            }
        }
    }
}

impl TemplateError {
    /// The API error code.
    pub fn code(&self) -> &'static str {
        match self {
            TemplateError::BadPlaceholder(_) | TemplateError::Gap { .. } => "invalid_template",
            TemplateError::ParamCount { .. } | TemplateError::InvalidParam { .. } => "invalid_template_params",
            TemplateError::TooLong { .. } => "message_too_long",
        }
    }
}

/// One piece of a body: literal text or a parameter number.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Param(usize),
}

fn pieces(body: &str) -> Result<Vec<Piece<'_>>, TemplateError> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            out.push(Piece::Text(&rest[..start]));
        }
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(TemplateError::BadPlaceholder(rest[start..].chars().take(20).collect()));
        };
        let inner = after[..end].trim();
        let n: usize = inner
            .parse()
            .ok()
            .filter(|n| *n > 0 && inner.chars().all(|c| c.is_ascii_digit()))
            .ok_or_else(|| TemplateError::BadPlaceholder(format!("{{{{{}}}}}", &after[..end])))?;
        out.push(Piece::Param(n));
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    Ok(out)
}

/// The number of parameters of a body: placeholders must be `{{1}}` to `{{n}}`, each used at
/// least once (in any order, repeats allowed).
pub fn param_count(body: &str) -> Result<usize, TemplateError> {
    let mut used: Vec<usize> =
        pieces(body)?.into_iter().filter_map(|p| if let Piece::Param(n) = p { Some(n) } else { None }).collect();
    used.sort_unstable();
    used.dedup();
    for (i, n) in used.iter().enumerate() {
        if *n != i + 1 {
            return Err(TemplateError::Gap { missing: i + 1 });
        }
    }
    Ok(used.len())
}

/// WhatsApp's rules for a parameter value.
pub fn check_param(index: usize, value: &str) -> Result<(), TemplateError> {
    let bad = |reason| Err(TemplateError::InvalidParam { index, reason });
    if value.trim().is_empty() {
        return bad("is empty");
    }
    if value.contains(['\n', '\r', '\t']) {
        return bad("may not contain new lines or tabs");
    }
    if value.contains("     ") {
        return bad("may not contain more than four spaces in a row");
    }
    if value.chars().count() > PARAM_MAX {
        return bad("is too long");
    }
    Ok(())
}

/// The body with `{{n}}` replaced by `params[n-1]`, after checking the count, each value and
/// the length of the result.
pub fn render(body: &str, params: &[String]) -> Result<String, TemplateError> {
    let expected = param_count(body)?;
    if params.len() != expected {
        return Err(TemplateError::ParamCount { expected, given: params.len() });
    }
    for (i, p) in params.iter().enumerate() {
        check_param(i + 1, p)?;
    }
    let mut out = String::with_capacity(body.len());
    for piece in pieces(body)? {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Param(n) => out.push_str(params.get(n - 1).map(String::as_str).unwrap_or_default()),
        }
    }
    let length = out.chars().count();
    if length > TEMPLATE_MAX {
        return Err(TemplateError::TooLong { limit: TEMPLATE_MAX, length });
    }
    Ok(out)
}

/// The status of a provider's template review (`APPROVED`, `PENDING`, `REJECTED`, `PAUSED`,
/// `DISABLED`, `IN_APPEAL`…) in Charla's three: only approved ones can be sent; those under
/// review or appeal are pending; anything else (rejected, paused, disabled, deleted) cannot
/// be sent and reads as rejected.
pub fn status_from_provider(s: &str) -> TemplateStatus {
    match s.trim().to_ascii_uppercase().as_str() {
        "APPROVED" => TemplateStatus::Approved,
        "PENDING" | "IN_APPEAL" | "PENDING_REVIEW" | "IN_REVIEW" => TemplateStatus::Pending,
        _ => TemplateStatus::Rejected,
    }
}

/// A template name as WhatsApp accepts it: lowercase letters, digits and underscores, at most
/// 512 characters.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 512
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn counting_parameters() {
        let cases: &[(&str, Result<usize, TemplateError>)] = &[
            ("Hello", Ok(0)),
            ("Hello {{1}}", Ok(1)),
            ("{{1}} and {{2}}, again {{1}}", Ok(2)),
            ("{{2}} before {{1}}", Ok(2)),
            ("{{ 1 }}", Ok(1)),
            ("{{1}} {{3}}", Err(TemplateError::Gap { missing: 2 })),
            ("{{2}}", Err(TemplateError::Gap { missing: 1 })),
            ("{{name}}", Err(TemplateError::BadPlaceholder("{{name}}".into()))),
            ("{{0}}", Err(TemplateError::BadPlaceholder("{{0}}".into()))),
            ("{{-1}}", Err(TemplateError::BadPlaceholder("{{-1}}".into()))),
            ("open {{1", Err(TemplateError::BadPlaceholder("{{1".into()))),
            ("braces { } are fine", Ok(0)),
        ];
        for (body, want) in cases {
            assert_eq!(&param_count(body), want, "{body:?}");
        }
    }

    #[test]
    fn rendering() {
        let body = "Hola {{1}}, tu pedido {{2}} llega el {{3}}. ¡Gracias, {{1}}!";
        assert_eq!(
            render(body, &s(&["Ana", "#123", "lunes"])),
            Ok("Hola Ana, tu pedido #123 llega el lunes. ¡Gracias, Ana!".to_string())
        );
        assert_eq!(render("Hi", &[]), Ok("Hi".to_string()));
        let cases: &[(&str, Vec<String>, &str)] = &[
            ("Hi {{1}}", vec![], "invalid_template_params"),
            ("Hi {{1}}", s(&["a", "b"]), "invalid_template_params"),
            ("Hi {{1}}", s(&[""]), "invalid_template_params"),
            ("Hi {{1}}", s(&["   "]), "invalid_template_params"),
            ("Hi {{1}}", s(&["a\nb"]), "invalid_template_params"),
            ("Hi {{1}}", s(&["a\tb"]), "invalid_template_params"),
            ("Hi {{1}}", s(&["a     b"]), "invalid_template_params"),
            ("Hi {{x}}", s(&["a"]), "invalid_template"),
        ];
        for (body, params, code) in cases {
            assert_eq!(render(body, params).map_err(|e| e.code()), Err(*code), "{body:?} {params:?}");
        }
        assert!(render("Hi {{1}}", &s(&["a    b"])).is_ok(), "four spaces are allowed");
    }

    #[test]
    fn filled_body_limit() {
        let body = format!("{}{{{{1}}}}", "x".repeat(1000));
        assert!(render(&body, &s(&[&"y".repeat(24)])).is_ok());
        assert_eq!(render(&body, &s(&[&"y".repeat(25)])), Err(TemplateError::TooLong { limit: 1024, length: 1025 }));
        // Characters, not bytes.
        assert!(render(&"ж".repeat(1024), &[]).is_ok());
    }

    #[test]
    fn provider_statuses() {
        let cases = [
            ("APPROVED", TemplateStatus::Approved),
            ("approved", TemplateStatus::Approved),
            ("PENDING", TemplateStatus::Pending),
            ("IN_APPEAL", TemplateStatus::Pending),
            ("REJECTED", TemplateStatus::Rejected),
            ("PAUSED", TemplateStatus::Rejected),
            ("DISABLED", TemplateStatus::Rejected),
            ("", TemplateStatus::Rejected),
        ];
        for (raw, want) in cases {
            assert_eq!(status_from_provider(raw), want, "{raw}");
        }
    }

    #[test]
    fn names() {
        assert!(valid_name("order_update_2"));
        assert!(!valid_name("Order update"));
        assert!(!valid_name(""));
        assert!(!valid_name("pedido-listo"));
    }
}
