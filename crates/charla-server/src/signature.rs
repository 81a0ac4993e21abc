//! Webhook signatures: `X-Charla-Signature: sha256=<hex HMAC-SHA256(channel secret, raw body)>`,
//! on what Charla sends to an integrator and on what it accepts from one.

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const HEADER: &str = "x-charla-signature";
const PREFIX: &str = "sha256=";

fn mac(secret: &str) -> Hmac<Sha256> {
    // HMAC takes keys of any length; this cannot fail.
    match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

/// The header value for `body`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut m = mac(secret);
    m.update(body);
    format!("{PREFIX}{}", hex::encode(m.finalize().into_bytes()))
}

/// Whether `header` is a valid signature of `body`; compares in constant time.
pub fn verify(secret: &str, body: &[u8], header: &str) -> bool {
    let Some(hex_sig) = header.trim().strip_prefix(PREFIX) else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_sig) else {
        return false;
    };
    let mut m = mac(secret);
    m.update(body);
    m.verify_slice(&sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let s = sign("k", b"{}");
        assert!(s.starts_with("sha256="));
        assert!(verify("k", b"{}", &s));
        assert!(!verify("other", b"{}", &s));
        assert!(!verify("k", b"{ }", &s));
        assert!(!verify("k", b"{}", "sha256=zz"));
        assert!(!verify("k", b"{}", &s[7..]));
        assert!(!verify("k", b"{}", "sha256="));
    }

    #[test]
    fn known_vector() {
        // RFC 4231 test case 2.
        let s = sign("Jefe", b"what do ya want for nothing?");
        assert_eq!(s, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }
}
