//! The store conformance suite: every test runs against SQLite and PostgreSQL.
//!
//! PostgreSQL comes from `CHARLA_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/test`);
//! each test makes its own database and drops it. An unreachable PostgreSQL fails the tests:
//! they are never skipped.

#[macro_use]
mod harness;
mod conversations;
mod directory;
mod fresh_postgres;
mod fresh_sqlite;
mod inbox;
mod inbox_scale;
mod jobs;
mod messengers;
mod reports;
mod retention;
mod smoke;
mod website;
