//! A website channel's options (kept in the channel's `settings` JSON) and what the channel
//! object shows of them: the widget's look and texts, the allowed origins, the rules, whether
//! the ratings page is public, and the snippet and chat link built from the public address.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::http::HeaderMap;
use charla_core::{Channel, ChannelKind};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const DEFAULT_BUTTON_TEXT: &str = "Have a question? Chat with us.";
pub const DEFAULT_BUTTON_COLOR: &str = "#875a7b";
pub const DEFAULT_HEADER_COLOR: &str = "#875a7b";
pub const DEFAULT_PLACEHOLDER: &str = "Ask something…";
pub const DEFAULT_GREETING: &str = "Hello, how may I help you?";
const MAX_RULES: usize = 50;
const MAX_ORIGINS: usize = 50;

/// When a rule's button shows and what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum ButtonMode {
    /// The chat button.
    #[default]
    Show,
    /// The button and a text bubble beside it.
    ShowWithNotification,
    /// The button, and the chat opens by itself after `auto_open_after_secs`.
    OpenAutomatically,
    /// No button: no chat on these pages.
    Hide,
}

/// One channel rule: tried in order, the first that matches the page and the visitor's
/// country decides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Rule {
    /// A regular expression searched in the page's URL (`/contactus`); empty: any page.
    #[serde(default)]
    pub url_regex: Option<String>,
    /// ISO 3166-1 alpha-2 codes (`ES`, `FR`); empty: any country. Needs the GeoIP database.
    #[serde(default)]
    pub countries: Vec<String>,
    #[serde(default)]
    pub button: ButtonMode,
    /// `open_automatically`: seconds on the page before the chat opens.
    #[serde(default)]
    pub auto_open_after_secs: Option<u32>,
    /// The chatbot that takes the chat under this rule; null: operators only. (No bots exist
    /// yet, so this must be null.)
    #[serde(default)]
    pub chatbot_id: Option<i64>,
    /// With a chatbot: only when no operator is available.
    #[serde(default)]
    pub chatbot_only_if_no_operator: bool,
}

/// The options as stored in the channel's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct WebsiteOptions {
    pub button_text: String,
    /// `#rrggbb`
    pub button_color: String,
    /// `#rrggbb`
    pub header_color: String,
    /// The input's placeholder.
    pub placeholder: String,
    /// Origins (`https://shop.example.com`) whose pages may carry the widget; empty: any.
    pub allowed_origins: Vec<String>,
    pub rules: Vec<Rule>,
    /// Whether `/ratings/{channel_id}` shows the channel's ratings (off by default).
    pub ratings_page_public: bool,
}

impl Default for WebsiteOptions {
    fn default() -> Self {
        WebsiteOptions {
            button_text: DEFAULT_BUTTON_TEXT.into(),
            button_color: DEFAULT_BUTTON_COLOR.into(),
            header_color: DEFAULT_HEADER_COLOR.into(),
            placeholder: DEFAULT_PLACEHOLDER.into(),
            allowed_origins: Vec::new(),
            rules: Vec::new(),
            ratings_page_public: false,
        }
    }
}

/// A change of options: absent fields stay.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct WebsitePatch {
    pub button_text: Option<String>,
    pub button_color: Option<String>,
    pub header_color: Option<String>,
    pub placeholder: Option<String>,
    pub allowed_origins: Option<Vec<String>>,
    pub rules: Option<Vec<Rule>>,
    pub ratings_page_public: Option<bool>,
}

/// What the channel object shows of a website channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WebsiteView {
    #[serde(flatten)]
    pub options: WebsiteOptions,
    /// Where the snippet and chat link point: the server's public address.
    pub base_url: String,
    /// The public ratings page (answers 404 while `ratings_page_public` is off).
    pub ratings_url: String,
}

/// The stored settings: the options plus the public address they were saved with.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Stored {
    #[serde(flatten)]
    options: Option<WebsiteOptions>,
    #[serde(default)]
    base_url: Option<String>,
}

/// The options of a website channel (defaults for anything missing or unreadable).
pub fn options(channel: &Channel) -> WebsiteOptions {
    serde_json::from_str::<Stored>(&channel.settings).ok().and_then(|s| s.options).unwrap_or_default()
}

/// The public address stored with the options (no trailing slash).
pub fn base_url(channel: &Channel) -> Option<String> {
    serde_json::from_str::<Stored>(&channel.settings).ok().and_then(|s| s.base_url)
}

/// The line to paste into a page's `<head>`.
pub fn embed_snippet(base: &str, channel_id: i64) -> String {
    format!("<script type=\"module\" async src=\"{base}/widget.js?channel={channel_id}\"></script>")
}

pub fn chat_link(base: &str, channel_id: i64) -> String {
    format!("{base}/chat/{channel_id}")
}

/// `(embed_snippet, chat_link, website)` of the channel object; all None for other kinds.
pub fn wire_parts(c: &Channel) -> (Option<String>, Option<String>, Option<WebsiteView>) {
    if c.kind != ChannelKind::Website {
        return (None, None, None);
    }
    let base = base_url(c).unwrap_or_default();
    let view =
        WebsiteView { options: options(c), ratings_url: format!("{base}/ratings/{}", c.id), base_url: base.clone() };
    (Some(embed_snippet(&base, c.id)), Some(chat_link(&base, c.id)), Some(view))
}

/// The server's public address: the configured one, else the address the request came to.
pub fn public_base(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(u) =
        state.config.public_url.as_deref().map(|u| u.trim().trim_end_matches('/')).filter(|u| !u.is_empty())
    {
        return u.to_string();
    }
    let host = headers
        .get("x-forwarded-host")
        .filter(|_| state.config.trust_proxy)
        .or_else(|| headers.get(axum::http::header::HOST))
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)))
        .unwrap_or("127.0.0.1:8080");
    let proto = headers
        .get("x-forwarded-proto")
        .filter(|_| state.config.trust_proxy)
        .and_then(|h| h.to_str().ok())
        .filter(|p| *p == "https" || *p == "http")
        .unwrap_or(if state.config.secure_cookies { "https" } else { "http" });
    format!("{proto}://{host}")
}

fn invalid(code: &str, message: impl Into<String>) -> ApiError {
    ApiError::unprocessable(code, message)
}

fn text(v: &str, field: &str, max: usize) -> ApiResult<String> {
    let v = v.trim();
    if v.is_empty() || v.chars().count() > max || v.chars().any(|c| c.is_control()) {
        return Err(invalid(&format!("invalid_{field}"), format!("{field} must be 1-{max} characters")));
    }
    Ok(v.to_string())
}

fn color(v: &str, field: &str) -> ApiResult<String> {
    let v = v.trim();
    let ok = v.len() == 7 && v.starts_with('#') && v[1..].bytes().all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(v.to_ascii_lowercase())
    } else {
        Err(invalid(&format!("invalid_{field}"), format!("{field} must be #rrggbb")))
    }
}

/// `scheme://host[:port]` of an origin as browsers send it; None when it is not one.
pub fn normalize_origin(v: &str) -> Option<String> {
    let u = reqwest::Url::parse(v.trim()).ok()?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none_or(str::is_empty) {
        return None;
    }
    if !(u.path() == "/" || u.path().is_empty()) || u.query().is_some() {
        return None;
    }
    Some(u.origin().ascii_serialization())
}

fn check_rule(r: Rule) -> ApiResult<Rule> {
    let url_regex = r.url_regex.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    if let Some(re) = &url_regex {
        if re.len() > 500 {
            return Err(invalid("invalid_rule", "url_regex is too long (500 characters at most)"));
        }
        crate::visitor::rules::compile(re)
            .map_err(|e| invalid("invalid_rule", format!("url_regex {re:?} is not a valid regular expression: {e}")))?;
    }
    let mut countries = Vec::with_capacity(r.countries.len());
    for c in &r.countries {
        let c = c.trim().to_ascii_uppercase();
        if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(invalid("invalid_rule", format!("{c:?} is not a two-letter country code")));
        }
        if !countries.contains(&c) {
            countries.push(c);
        }
    }
    if r.chatbot_id.is_some() {
        return Err(invalid("invalid_rule", "there are no chatbots yet: chatbot_id must be null"));
    }
    let auto_open_after_secs = match (r.button, r.auto_open_after_secs) {
        (ButtonMode::OpenAutomatically, Some(s)) if s <= 3600 => Some(s),
        (ButtonMode::OpenAutomatically, None) => Some(0),
        (ButtonMode::OpenAutomatically, Some(_)) => {
            return Err(invalid("invalid_rule", "auto_open_after_secs must be at most 3600"));
        }
        _ => None,
    };
    Ok(Rule {
        url_regex,
        countries,
        button: r.button,
        auto_open_after_secs,
        chatbot_id: None,
        chatbot_only_if_no_operator: r.chatbot_only_if_no_operator,
    })
}

/// Applies a change to the options, checking every field.
pub fn apply(mut o: WebsiteOptions, p: &WebsitePatch) -> ApiResult<WebsiteOptions> {
    if let Some(v) = &p.button_text {
        o.button_text = text(v, "button_text", 200)?;
    }
    if let Some(v) = &p.button_color {
        o.button_color = color(v, "button_color")?;
    }
    if let Some(v) = &p.header_color {
        o.header_color = color(v, "header_color")?;
    }
    if let Some(v) = &p.placeholder {
        o.placeholder = text(v, "placeholder", 200)?;
    }
    if let Some(list) = &p.allowed_origins {
        if list.len() > MAX_ORIGINS {
            return Err(invalid("invalid_allowed_origins", format!("at most {MAX_ORIGINS} origins")));
        }
        let mut out: Vec<String> = Vec::new();
        for v in list.iter().filter(|v| !v.trim().is_empty()) {
            let n = normalize_origin(v).ok_or_else(|| {
                invalid("invalid_allowed_origins", format!("{v:?} is not an origin like https://shop.example.com"))
            })?;
            if !out.contains(&n) {
                out.push(n);
            }
        }
        o.allowed_origins = out;
    }
    if let Some(rules) = &p.rules {
        if rules.len() > MAX_RULES {
            return Err(invalid("invalid_rule", format!("at most {MAX_RULES} rules")));
        }
        o.rules = rules.iter().cloned().map(check_rule).collect::<ApiResult<_>>()?;
    }
    if let Some(v) = p.ratings_page_public {
        o.ratings_page_public = v;
    }
    Ok(o)
}

fn store(options: &WebsiteOptions, base: String) -> ApiResult<String> {
    let mut v = serde_json::to_value(options).map_err(ApiError::internal)?;
    v["base_url"] = serde_json::Value::String(base);
    Ok(v.to_string())
}

/// The settings JSON of a new website channel (`website` of the creation request, optional).
pub fn create(state: &AppState, headers: &HeaderMap, patch: Option<&serde_json::Value>) -> ApiResult<String> {
    let patch = parse_patch(patch)?;
    store(&apply(WebsiteOptions::default(), &patch)?, public_base(state, headers))
}

/// The settings JSON after a change of options; the public address is refreshed.
pub fn update(
    state: &AppState,
    headers: &HeaderMap,
    channel: &Channel,
    patch: &serde_json::Value,
) -> ApiResult<String> {
    let patch = parse_patch(Some(patch))?;
    store(&apply(options(channel), &patch)?, public_base(state, headers))
}

fn parse_patch(v: Option<&serde_json::Value>) -> ApiResult<WebsitePatch> {
    match v {
        None | Some(serde_json::Value::Null) => Ok(WebsitePatch::default()),
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| invalid("invalid_website", format!("website: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_normalize() {
        assert_eq!(normalize_origin("https://Shop.Example.com/").as_deref(), Some("https://shop.example.com"));
        assert_eq!(normalize_origin("http://127.0.0.1:9000").as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(normalize_origin("https://shop.example.com:443").as_deref(), Some("https://shop.example.com"));
        assert_eq!(normalize_origin("https://shop.example.com/page"), None);
        assert_eq!(normalize_origin("javascript:alert(1)"), None);
        assert_eq!(normalize_origin("shop.example.com"), None);
    }

    #[test]
    fn patches_are_checked() {
        let o = WebsiteOptions::default();
        let ok = apply(o.clone(), &WebsitePatch { button_color: Some("#AABBCC".into()), ..Default::default() });
        assert_eq!(ok.map(|o| o.button_color).ok().as_deref(), Some("#aabbcc"));
        for bad in [
            WebsitePatch { button_color: Some("red".into()), ..Default::default() },
            WebsitePatch { button_text: Some(" ".into()), ..Default::default() },
            WebsitePatch { allowed_origins: Some(vec!["nope".into()]), ..Default::default() },
            WebsitePatch {
                rules: Some(vec![Rule {
                    url_regex: Some("(".into()),
                    countries: vec![],
                    button: ButtonMode::Show,
                    auto_open_after_secs: None,
                    chatbot_id: None,
                    chatbot_only_if_no_operator: false,
                }]),
                ..Default::default()
            },
            WebsitePatch {
                rules: Some(vec![Rule {
                    url_regex: None,
                    countries: vec!["Spain".into()],
                    button: ButtonMode::Show,
                    auto_open_after_secs: None,
                    chatbot_id: None,
                    chatbot_only_if_no_operator: false,
                }]),
                ..Default::default()
            },
        ] {
            assert!(apply(o.clone(), &bad).is_err(), "{bad:?}");
        }
    }
}
