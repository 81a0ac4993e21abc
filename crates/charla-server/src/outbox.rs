//! Outbound delivery to channel providers.
