use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    /// The object does not exist (or belongs to another workspace).
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken (e-mail taken, shortcut taken...). The string names it.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The request breaks a domain rule: (stable code, human message).
    #[error("{1}")]
    Invalid(&'static str, String),
    #[error("database error: {0}")]
    Database(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(db.message().to_string()),
            other => StoreError::Database(other.to_string()),
        }
    }
}

/// Errors of the SQLite writer's own connection (see `SqlStore::write_fast`), mapped as above.
impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e {
            rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound,
            rusqlite::Error::SqliteFailure(f, msg) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE => {
                StoreError::Conflict(msg.unwrap_or_else(|| f.to_string()))
            }
            other => StoreError::Database(other.to_string()),
        }
    }
}
