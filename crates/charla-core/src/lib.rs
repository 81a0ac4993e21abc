//! Charla's domain: types, rules and permission checks on plain data.
//!
//! Nothing here knows SQL, HTTP or an async runtime; the store applies these rules inside its
//! transactions and the server asks them before acting, so every rule has one home and is
//! tested with plain values.

pub mod access;
pub mod lifecycle;
pub mod limits;
pub mod model;
pub mod phone;
pub mod presence;
pub mod provider_errors;
pub mod ratelimit;
pub mod routing;
pub mod search;
pub mod templates;
pub mod window;

pub use model::*;

/// Milliseconds since the Unix epoch, UTC. Every stored time is one of these.
pub type Millis = i64;
/// Every id is a 64-bit integer (JSON integer on the wire).
pub type Id = i64;
