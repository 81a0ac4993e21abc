//! Channel rules: which one applies to a page and a visitor (first match wins), and what the
//! widget then does. Pure functions, tested with values.

use super::settings::{ButtonMode, Rule};
use serde::Serialize;

/// What the widget does on a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub button: ButtonMode,
    /// Seconds before the chat opens by itself (`open_automatically`).
    pub auto_open_after_secs: Option<u32>,
    /// Position of the rule that matched; None: no rule matched (the button shows).
    pub rule: Option<usize>,
    /// The chatbot of the rule; always None while there are no bots.
    pub chatbot_id: Option<i64>,
}

/// Compiles a rule's URL pattern (size-limited so a hostile pattern cannot eat memory).
pub fn compile(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(pattern).size_limit(256 * 1024).dfa_size_limit(256 * 1024).build()
}

fn matches(rule: &Rule, url: &str, country: Option<&str>) -> bool {
    let url_ok = match rule.url_regex.as_deref() {
        None => true,
        // A pattern that no longer compiles matches nothing rather than everything.
        Some(p) => compile(p).is_ok_and(|re| re.is_match(url)),
    };
    let country_ok = rule.countries.is_empty() || country.is_some_and(|c| rule.countries.iter().any(|r| r == c));
    url_ok && country_ok
}

/// The first rule matching the page's URL and the visitor's country decides; without one the
/// button shows.
pub fn decide(rules: &[Rule], url: &str, country: Option<&str>) -> Decision {
    match rules.iter().position(|r| matches(r, url, country)) {
        Some(i) => {
            let r = &rules[i];
            Decision {
                button: r.button,
                auto_open_after_secs: if r.button == ButtonMode::OpenAutomatically {
                    Some(r.auto_open_after_secs.unwrap_or(0))
                } else {
                    None
                },
                rule: Some(i),
                chatbot_id: r.chatbot_id,
            }
        }
        None => Decision { button: ButtonMode::Show, auto_open_after_secs: None, rule: None, chatbot_id: None },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(url: Option<&str>, countries: &[&str], button: ButtonMode, secs: Option<u32>) -> Rule {
        Rule {
            url_regex: url.map(str::to_string),
            countries: countries.iter().map(|c| c.to_string()).collect(),
            button,
            auto_open_after_secs: secs,
            chatbot_id: None,
            chatbot_only_if_no_operator: false,
        }
    }

    #[test]
    fn first_matching_rule_wins() {
        use ButtonMode::*;
        let rules = vec![
            rule(Some("/contactus"), &[], OpenAutomatically, Some(2)),
            rule(None, &["FR"], Hide, None),
            rule(Some(r"^https://shop\.test/pricing"), &["ES", "PT"], ShowWithNotification, None),
        ];
        type Case<'a> = (&'a str, Option<&'a str>, ButtonMode, Option<usize>, Option<u32>);
        let cases: Vec<Case> = vec![
            ("https://shop.test/contactus", Some("FR"), OpenAutomatically, Some(0), Some(2)),
            ("https://shop.test/", Some("FR"), Hide, Some(1), None),
            ("https://shop.test/pricing?x=1", Some("ES"), ShowWithNotification, Some(2), None),
            ("https://shop.test/pricing", Some("DE"), Show, None, None),
            ("https://shop.test/pricing", None, Show, None, None),
            ("https://shop.test/", None, Show, None, None),
        ];
        for (url, country, button, rule_ix, secs) in cases {
            let d = decide(&rules, url, country);
            assert_eq!((d.button, d.rule, d.auto_open_after_secs), (button, rule_ix, secs), "{url} {country:?}");
        }
        assert_eq!(decide(&[], "https://x.test/", None).button, Show);
    }
}
