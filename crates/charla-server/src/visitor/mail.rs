//! Transcripts by e-mail, through the SMTP server of the configuration (lettre).
//!
//! `smtp_url` is lettre's URL form: `smtp://user:pass@host:587?tls=required` (STARTTLS),
//! `smtps://user:pass@host:465` (TLS), `smtp://host:25` (plain, for a local relay).

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    pub fn new(url: &str, from: &str) -> anyhow::Result<Mailer> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("invalid SMTP URL: {e}"))?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        let from: Mailbox = from.parse().map_err(|e| anyhow::anyhow!("invalid SMTP sender {from:?}: {e}"))?;
        Ok(Mailer { transport, from })
    }

    /// Sends `lines` (time, who, text) as a plain-text e-mail.
    pub async fn send_transcript(
        &self,
        to: Mailbox,
        channel_name: &str,
        lines: &[(String, String, String)],
    ) -> anyhow::Result<()> {
        let mut body = format!("Your conversation with {channel_name}\n\n");
        for (at, who, text) in lines {
            body.push_str(&format!("[{at}] {who}:\n"));
            for l in text.lines() {
                body.push_str("  ");
                body.push_str(l);
                body.push('\n');
            }
            body.push('\n');
        }
        let subject: String =
            format!("Your conversation with {channel_name}").chars().filter(|c| !c.is_control()).take(200).collect();
        let msg = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)?;
        self.transport.send(msg).await?;
        Ok(())
    }
}
