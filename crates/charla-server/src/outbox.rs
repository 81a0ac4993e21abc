//! Outbound delivery to channel providers: the worker side of the durable outbox.
//!
//! `store.send_message` writes an outbound message with status `queued` and a `deliver` job in
//! one transaction; the job runner ([`crate::jobs`]) claims the job and calls [`deliver`], which
//! makes one attempt and records its outcome (`sent`, a retry with backoff, or `failed` with the
//! reason the operator sees).
//!
//! API channel: the message is POSTed as JSON to the channel's `webhook_url`, signed like the
//! inbound webhooks (`X-Charla-Signature: sha256=<hex HMAC-SHA256(secret, body)>`), with
//! `X-Charla-Delivery: <message id>` so the integrator can drop a repeated delivery (an attempt
//! whose answer was lost is tried again: delivery is at least once).
//!
//! WhatsApp, Telegram and Instagram: the provider's API through [`crate::channels`]; its
//! refusals become the operator's reason, retried only where a retry can help (rate limits,
//! the provider's temporary errors, timeouts), and a reached send limit puts the message back
//! without counting an attempt.

use crate::signature;
use crate::state::{AppState, now_ms};
use charla_core::{ChannelKind, Millis};
use charla_store::{Delivery, DeliveryOutcome, Job, StoreError};
use serde::Serialize;
use std::time::Duration;

/// Longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// Larger answers from the integrator are not read (only an `id` is wanted from them).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// The JSON an API channel's webhook receives for each outbound message.
#[derive(Debug, Serialize)]
pub struct OutboundPayload {
    /// Charla's message id (also in `X-Charla-Delivery`): the id to use in status updates.
    pub message_id: i64,
    pub conversation_id: i64,
    /// The contact's id in the integrator's system (the `contact.external_id` it sent us).
    pub external_id: String,
    pub text: String,
    pub attachments: Vec<OutboundAttachment>,
    /// Charla id of the quoted message, if any.
    pub reply_to: Option<i64>,
    pub author: OutboundAuthor,
    pub created_at: String,
}

#[derive(Debug, Serialize)]
pub struct OutboundAttachment {
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub url: String,
}

#[derive(Debug, Serialize)]
pub struct OutboundAuthor {
    pub name: String,
}

/// Makes one delivery attempt for a claimed `deliver` job and records its outcome.
pub async fn deliver(state: &AppState, job: &Job) -> Result<(), StoreError> {
    // A batch's jobs run concurrently but are loaded one after the other, in claim order (oldest
    // first), and each takes its conversation's turn before the next is loaded: messages to one
    // messenger chat leave in the order they were written even while they wait for its limit.
    let loading = state.send_limits.loading().await;
    let delivery = match state.store.delivery(job).await {
        Ok(d) => d,
        // The message is gone (conversation deleted): the store dropped the job.
        Err(StoreError::NotFound) => return Ok(()),
        Err(e) => return Err(e),
    };
    let key = format!("conversation:{}", delivery.conversation.id);
    let mut turn = Box::pin(async {
        match delivery.channel.kind {
            ChannelKind::Whatsapp | ChannelKind::Telegram | ChannelKind::Instagram => {
                Some(state.send_limits.turn(&key).await)
            }
            _ => None,
        }
    });
    // The first poll queues this job for its turn; only then may the next job load, so the
    // order holds while this one waits.
    let first = std::future::poll_fn(|cx| std::task::Poll::Ready(turn.as_mut().poll(cx))).await;
    drop(loading);
    let _turn = match first {
        std::task::Poll::Ready(guard) => guard,
        std::task::Poll::Pending => turn.await,
    };
    let outcome = attempt(state, &delivery, job.attempts).await;
    match &outcome {
        DeliveryOutcome::Sent { .. } => metrics::counter!("charla_deliveries_total", "outcome" => "sent").increment(1),
        DeliveryOutcome::Retry { error, .. } => {
            tracing::info!(
                message_id = delivery.message.id,
                attempt = job.attempts + 1,
                "delivery will be retried: {error}"
            );
            metrics::counter!("charla_deliveries_total", "outcome" => "retry").increment(1)
        }
        DeliveryOutcome::Failed { error } => {
            tracing::warn!(message_id = delivery.message.id, attempt = job.attempts + 1, "delivery failed: {error}");
            metrics::counter!("charla_deliveries_total", "outcome" => "failed").increment(1)
        }
        DeliveryOutcome::Defer { .. } => {
            metrics::counter!("charla_deliveries_total", "outcome" => "deferred").increment(1)
        }
    }
    let written = state.store.finish_delivery(job, outcome, now_ms()).await?;
    state.publish(written.events).await;
    Ok(())
}

/// What one attempt gives, by channel kind.
async fn attempt(state: &AppState, d: &Delivery, attempts: i64) -> DeliveryOutcome {
    if !d.channel.active {
        return DeliveryOutcome::Failed { error: "the channel is disabled".into() };
    }
    match d.channel.kind {
        ChannelKind::Api => {
            let Some(url) = d.channel.webhook_url.as_deref().filter(|u| !u.trim().is_empty()) else {
                return DeliveryOutcome::Failed { error: "the channel has no webhook_url".into() };
            };
            match post_api(state, d, url).await {
                Ok(provider_id) => DeliveryOutcome::Sent { provider_id },
                Err(AttemptError::Permanent(error)) => DeliveryOutcome::Failed { error },
                Err(AttemptError::Transient(error)) => retry_or_fail(state, attempts, error, now_ms()),
            }
        }
        // The visitor's widget reads the conversation from Charla itself: stored is sent.
        ChannelKind::Website => DeliveryOutcome::Sent { provider_id: None },
        ChannelKind::Whatsapp | ChannelKind::Telegram | ChannelKind::Instagram => messenger(state, d, attempts).await,
        other => DeliveryOutcome::Failed { error: format!("sending to {other} channels is not supported yet") },
    }
}

/// One attempt through a messenger's API (see [`crate::channels`]).
async fn messenger(state: &AppState, d: &Delivery, attempts: i64) -> DeliveryOutcome {
    use crate::channels::SendError;
    use charla_core::provider_errors::Retry;
    let now = now_ms();
    match crate::channels::send(state, d).await {
        Ok(ids) => {
            if ids.len() > 1
                && let Err(e) = state.store.add_provider_ids(d.channel.id, d.message.id, &ids[1..]).await
            {
                tracing::warn!(message_id = d.message.id, "recording provider ids: {e}");
            }
            DeliveryOutcome::Sent { provider_id: ids.into_iter().next() }
        }
        Err(SendError::Provider(p)) => match p.retry {
            Retry::Never => DeliveryOutcome::Failed { error: p.reason },
            Retry::Backoff => retry_or_fail(state, attempts, p.reason, now),
            Retry::AfterSecs(secs) => match retry_or_fail(state, attempts, p.reason, now) {
                DeliveryOutcome::Retry { at, error } => {
                    DeliveryOutcome::Retry { at: at.max(now.saturating_add(secs.saturating_mul(1000))), error }
                }
                other => other,
            },
        },
        Err(SendError::Transport(reason)) => retry_or_fail(state, attempts, reason, now),
        Err(SendError::Refused(reason)) => DeliveryOutcome::Failed { error: reason },
        Err(SendError::Limited(wait)) => DeliveryOutcome::Defer { at: now.saturating_add(wait.max(1)) },
    }
}

/// A failed attempt: try again later with exponential backoff, or give up after the configured
/// number of attempts.
pub fn retry_or_fail(state: &AppState, attempts: i64, error: String, now: Millis) -> DeliveryOutcome {
    if attempts.saturating_add(1) >= state.config.delivery_max_attempts {
        return DeliveryOutcome::Failed { error };
    }
    DeliveryOutcome::Retry { at: now.saturating_add(backoff_ms(state.config.delivery_backoff, attempts)), error }
}

/// `backoff * 2^attempts`, at most [`MAX_BACKOFF`].
pub fn backoff_ms(backoff: Duration, attempts: i64) -> i64 {
    let cap = MAX_BACKOFF.as_millis() as i64;
    let base = (backoff.as_millis() as i64).clamp(1, cap);
    let shift = attempts.clamp(0, 40) as u32;
    base.checked_mul(1i64 << shift).map_or(cap, |v| v.min(cap))
}

enum AttemptError {
    /// Retrying cannot help (a 4xx other than 408/429).
    Permanent(String),
    /// Timeout, connection error, 5xx, 408, 429.
    Transient(String),
}

pub fn payload(d: &Delivery) -> OutboundPayload {
    let m = &d.message;
    OutboundPayload {
        message_id: m.id,
        conversation_id: d.conversation.id,
        external_id: d.identity.external_id.clone(),
        text: m.text.clone(),
        attachments: m
            .attachments
            .iter()
            .map(|a| OutboundAttachment {
                name: a.name.clone(),
                content_type: a.content_type.clone(),
                size: a.size,
                url: crate::wire::attachment_url(a.id),
            })
            .collect(),
        reply_to: m.reply_to,
        author: OutboundAuthor { name: m.author.name.clone() },
        created_at: crate::wire::time(m.created_at),
    }
}

/// POSTs the message; Ok(provider id from the answer, if any).
async fn post_api(state: &AppState, d: &Delivery, url: &str) -> Result<Option<String>, AttemptError> {
    let body = serde_json::to_vec(&payload(d)).map_err(|e| AttemptError::Permanent(format!("cannot encode: {e}")))?;
    let timeout = state.config.delivery_timeout;
    let response = state
        .http
        .post(url)
        .timeout(timeout)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(signature::HEADER, signature::sign(&d.channel.secret, &body))
        .header("x-charla-delivery", d.message.id.to_string())
        .body(body)
        .send()
        .await
        .map_err(|e| AttemptError::Transient(describe(&e, timeout)))?;
    let status = response.status();
    if !status.is_success() {
        let reason = format!("HTTP {}", status.as_u16());
        let transient = status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429;
        return Err(if transient { AttemptError::Transient(reason) } else { AttemptError::Permanent(reason) });
    }
    Ok(read_provider_id(response).await)
}

/// The `id` (or `message_id`) of a JSON answer, when it is a string or a number.
async fn read_provider_id(mut response: reqwest::Response) -> Option<String> {
    if response.content_length().is_some_and(|n| n > MAX_ANSWER_BYTES as u64) {
        return None;
    }
    let mut buf = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        buf.extend_from_slice(&chunk);
        if buf.len() > MAX_ANSWER_BYTES {
            return None;
        }
    }
    provider_id_from_answer(&buf)
}

pub fn provider_id_from_answer(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    ["id", "message_id"].iter().find_map(|k| match v.get(*k)? {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// A short reason for the operator: "timeout after 10s", "connection refused"...
pub(crate) fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("timeout after {}", human_duration(timeout));
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return "connection refused".into(),
                std::io::ErrorKind::ConnectionReset => return "connection reset".into(),
                std::io::ErrorKind::TimedOut => return format!("timeout after {}", human_duration(timeout)),
                _ => {}
            }
        }
        source = s.source();
    }
    if e.is_connect() {
        return format!("cannot connect: {}", innermost(e));
    }
    format!("request failed: {}", innermost(e))
}

fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last = e;
    while let Some(s) = last.source() {
        last = s;
    }
    last.to_string()
}

fn human_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 { format!("{}s", d.as_secs()) } else { format!("{}ms", d.as_millis()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let b = Duration::from_secs(2);
        assert_eq!(backoff_ms(b, 0), 2_000);
        assert_eq!(backoff_ms(b, 1), 4_000);
        assert_eq!(backoff_ms(b, 3), 16_000);
        assert_eq!(backoff_ms(b, 20), 3_600_000);
        assert_eq!(backoff_ms(b, 1_000), 3_600_000);
        assert_eq!(backoff_ms(Duration::ZERO, 0), 1);
        assert_eq!(backoff_ms(b, -5), 2_000);
    }

    #[test]
    fn provider_id_from_string_or_number() {
        assert_eq!(provider_id_from_answer(br#"{"id":"abc"}"#), Some("abc".into()));
        assert_eq!(provider_id_from_answer(br#"{"message_id":42}"#), Some("42".into()));
        assert_eq!(provider_id_from_answer(br#"{"id":null,"message_id":"m"}"#), Some("m".into()));
        assert_eq!(provider_id_from_answer(br#"{"id":{"x":1}}"#), None);
        assert_eq!(provider_id_from_answer(b"ok"), None);
        assert_eq!(provider_id_from_answer(b""), None);
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(Duration::from_secs(10)), "10s");
        assert_eq!(human_duration(Duration::from_millis(300)), "300ms");
    }
}
