//! Bulk loading of a generated dataset into an empty database (`charla bench` makes millions of
//! conversations and messages this way in minutes).
//!
//! Not for production writes: it bypasses the domain rules and the event log, and writes rows as
//! given (ids included). It speeds the load up the usual way: the secondary indexes and the
//! full-text triggers of the big tables are dropped first (their definitions are read back from
//! the database, so what is recreated is exactly what the migrations made), rows go in as
//! multi-row INSERTs in big transactions (SQLite) or COPY (PostgreSQL), and `finish` recreates
//! the indexes, rebuilds the full-text indexes in one pass, moves the id sequences past the
//! loaded ids, and gathers planner statistics.

use super::{Options, SqlStore, db_err};
use crate::{Store, StoreError, StoreResult};
use charla_core::search::{contact_search_text, digits_of};
use charla_core::*;
use sqlx::{Connection, Executor, PgConnection, Row, SqliteConnection};
use std::collections::HashMap;
use std::str::FromStr;

/// The tables the loader writes ids into (their sequences move past the loaded ids).
const TABLES_WITH_IDS: &[&str] = &[
    "workspaces",
    "users",
    "teams",
    "channels",
    "tags",
    "contacts",
    "contact_identities",
    "conversations",
    "attentions",
    "messages",
];

/// Tables whose secondary indexes and triggers are dropped during the load.
const BIG_TABLES: &[&str] = &[
    "contacts",
    "contact_tags",
    "contact_identities",
    "conversations",
    "conversation_search",
    "attentions",
    "messages",
    "message_words",
];

/// Rows per INSERT statement on SQLite (well under its 32766 bound variables).
const SQLITE_ROWS_PER_INSERT: usize = 500;
/// Rows per transaction on SQLite: bounds the WAL.
const SQLITE_ROWS_PER_TX: usize = 200_000;

/// The rows the loader writes: what a generated dataset needs, every other column takes its
/// default. Ids are the caller's; references must be consistent (they are not checked).
#[derive(Debug, Clone)]
pub struct BulkUser {
    pub id: Id,
    pub workspace_id: Id,
    pub email: String,
    pub name: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: Role,
    pub flags: Flags,
    pub created_at: Millis,
}

#[derive(Debug, Clone)]
pub struct BulkTeam {
    pub id: Id,
    pub workspace_id: Id,
    pub name: String,
    pub member_ids: Vec<Id>,
}

#[derive(Debug, Clone)]
pub struct BulkChannel {
    pub id: Id,
    pub workspace_id: Id,
    pub kind: ChannelKind,
    pub name: String,
    pub secret: String,
    pub response_time_limit_secs: i64,
    pub member_ids: Vec<Id>,
    pub created_at: Millis,
}

#[derive(Debug, Clone)]
pub struct BulkTag {
    pub id: Id,
    pub workspace_id: Id,
    pub name: String,
    pub color: String,
    pub pinned: bool,
}

#[derive(Debug, Clone)]
pub struct BulkContact {
    pub id: Id,
    pub workspace_id: Id,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub telegram_username: Option<String>,
    pub source: Option<String>,
    pub tag_ids: Vec<Id>,
    pub created_at: Millis,
}

#[derive(Debug, Clone)]
pub struct BulkIdentity {
    pub id: Id,
    pub workspace_id: Id,
    pub channel_id: Id,
    pub external_id: String,
    pub contact_id: Option<Id>,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct BulkConversation {
    pub id: Id,
    pub workspace_id: Id,
    pub channel_id: Id,
    pub identity_id: Id,
    pub contact_id: Option<Id>,
    pub status: Status,
    pub attention_id: Option<Id>,
    pub assignee_id: Option<Id>,
    pub team_id: Option<Id>,
    pub snoozed_until: Option<Millis>,
    pub unanswered: bool,
    pub waiting_since: Option<Millis>,
    pub due_at: Option<Millis>,
    pub last_message_id: Option<Id>,
    pub last_message_preview: Option<String>,
    pub last_message_author: Option<AuthorType>,
    pub last_inbound_at: Option<Millis>,
    pub last_activity_at: Millis,
    pub created_at: Millis,
    /// What contact search looks in (`charla_core::search::conversation_search_text` of the
    /// contact's and the identity's) and the contact's phone digits: the triggers that keep
    /// them are off during a load.
    pub search_text: String,
    pub search_phone: String,
}

#[derive(Debug, Clone)]
pub struct BulkAttention {
    pub id: Id,
    pub workspace_id: Id,
    pub conversation_id: Id,
    pub status: Status,
    pub assignee_id: Option<Id>,
    pub opened_at: Millis,
    pub closed_at: Option<Millis>,
    pub close_reason: Option<String>,
    pub first_response_at: Option<Millis>,
    pub rating: Option<Rating>,
    pub rating_comment: Option<String>,
    pub rated_at: Option<Millis>,
}

#[derive(Debug, Clone)]
pub struct BulkMessage {
    pub id: Id,
    pub workspace_id: Id,
    pub conversation_id: Id,
    pub attention_id: Option<Id>,
    pub channel_id: Id,
    pub kind: MessageKind,
    pub author_type: AuthorType,
    pub author_id: Option<Id>,
    pub author_name: String,
    pub text: String,
    pub provider_id: Option<String>,
    pub status: MessageStatus,
    pub created_at: Millis,
}

enum Native {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

/// A value of one column.
#[derive(Debug, Clone)]
enum V {
    I(Option<i64>),
    T(Option<String>),
}

impl From<i64> for V {
    fn from(v: i64) -> V {
        V::I(Some(v))
    }
}
impl From<Option<i64>> for V {
    fn from(v: Option<i64>) -> V {
        V::I(v)
    }
}
impl From<bool> for V {
    fn from(v: bool) -> V {
        V::I(Some(v as i64))
    }
}
impl From<&str> for V {
    fn from(v: &str) -> V {
        V::T(Some(v.to_string()))
    }
}
impl From<String> for V {
    fn from(v: String) -> V {
        V::T(Some(v))
    }
}
impl From<Option<String>> for V {
    fn from(v: Option<String>) -> V {
        V::T(v)
    }
}
impl From<Option<&str>> for V {
    fn from(v: Option<&str>) -> V {
        V::T(v.map(str::to_string))
    }
}

/// Loads rows into an empty Charla database. Call [`BulkLoader::finish`] at the end, else the
/// database is left without its secondary indexes.
pub struct BulkLoader {
    conn: Native,
    /// `CREATE INDEX` / `CREATE TRIGGER` statements to run again in `finish`.
    recreate: Vec<String>,
    /// Rows written in the current SQLite transaction.
    in_tx: usize,
    /// Each tagged contact's copy of its tags for its conversations' `tag_ids` (migrations 0011
    /// on PostgreSQL, 0012 on SQLite: the triggers that fill it are off during the load).
    tag_copies: HashMap<Id, String>,
}

fn err(e: impl std::fmt::Display) -> StoreError {
    db_err(e)
}

impl BulkLoader {
    /// Migrates the database at `url` (as the server would), checks it holds no conversations,
    /// and prepares it for loading.
    pub async fn open(url: &str) -> StoreResult<BulkLoader> {
        let store = SqlStore::open(url, Options::default()).await?;
        store.shutdown().await;
        let mut conn = if url.starts_with("sqlite:") {
            let opts = sqlx::sqlite::SqliteConnectOptions::from_str(url).map_err(err)?;
            let mut c = SqliteConnection::connect_with(&opts).await.map_err(err)?;
            c.execute(
                "PRAGMA foreign_keys=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-524288; \
                 PRAGMA temp_store=MEMORY; PRAGMA busy_timeout=10000;",
            )
            .await
            .map_err(err)?;
            Native::Sqlite(c)
        } else {
            let mut c = PgConnection::connect(url).await.map_err(err)?;
            c.execute("SET synchronous_commit = off; SET maintenance_work_mem = '512MB'").await.map_err(err)?;
            // Foreign keys are checked by triggers row by row; a superuser may skip them for the
            // load (the generator writes consistent rows). Others load with the checks.
            let _ = c.execute("SET session_replication_role = replica").await;
            Native::Postgres(c)
        };
        let existing: i64 = match &mut conn {
            Native::Sqlite(c) => sqlx::query_scalar("SELECT COUNT(*) FROM conversations").fetch_one(c).await,
            Native::Postgres(c) => sqlx::query_scalar("SELECT COUNT(*) FROM conversations").fetch_one(c).await,
        }
        .map_err(err)?;
        if existing > 0 {
            return Err(StoreError::Invalid("not_empty", "bulk loading needs a database without conversations".into()));
        }
        let mut loader = BulkLoader { conn, recreate: Vec::new(), in_tx: 0, tag_copies: HashMap::new() };
        loader.drop_secondary_structures().await?;
        Ok(loader)
    }

    async fn drop_secondary_structures(&mut self) -> StoreResult<()> {
        let list = BIG_TABLES.iter().map(|t| format!("'{t}'")).collect::<Vec<_>>().join(", ");
        match &mut self.conn {
            Native::Sqlite(c) => {
                // Contentless full-text tables cannot be rebuilt from a table: their triggers
                // stay and fill them row by row.
                let contentless: Vec<String> = sqlx::query_scalar(
                    "SELECT name FROM sqlite_master WHERE type = 'table' \
                     AND sql LIKE 'CREATE VIRTUAL TABLE%fts5%content=''''%'",
                )
                .fetch_all(&mut *c)
                .await
                .map_err(err)?;
                let rows = sqlx::query(&format!(
                    "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') \
                     AND tbl_name IN ({list}) AND sql IS NOT NULL ORDER BY type, name"
                ))
                .fetch_all(&mut *c)
                .await
                .map_err(err)?;
                for row in rows {
                    let (kind, name, sql): (String, String, String) =
                        (row.try_get(0).map_err(err)?, row.try_get(1).map_err(err)?, row.try_get(2).map_err(err)?);
                    if kind == "trigger" && contentless.iter().any(|t| sql.contains(t.as_str())) {
                        continue;
                    }
                    c.execute(format!("DROP {} \"{name}\"", kind.to_uppercase()).as_str()).await.map_err(err)?;
                    self.recreate.push(sql);
                }
                c.execute("BEGIN").await.map_err(err)?;
            }
            Native::Postgres(c) => {
                let rows = sqlx::query(&format!(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() \
                     AND tablename IN ({list}) AND indexname NOT IN \
                     (SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u', 'x'))"
                ))
                .fetch_all(&mut *c)
                .await
                .map_err(err)?;
                for row in rows {
                    let (name, def): (String, String) = (row.try_get(0).map_err(err)?, row.try_get(1).map_err(err)?);
                    c.execute(format!("DROP INDEX \"{name}\"").as_str()).await.map_err(err)?;
                    self.recreate.push(def);
                }
            }
        }
        Ok(())
    }

    /// Writes rows of `table`; every row has a value for each of `columns`.
    async fn insert(&mut self, table: &str, columns: &[&str], rows: Vec<Vec<V>>) -> StoreResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        match &mut self.conn {
            Native::Sqlite(c) => {
                let one = format!("({})", vec!["?"; columns.len()].join(", "));
                for chunk in rows.chunks(SQLITE_ROWS_PER_INSERT) {
                    let sql = format!(
                        "INSERT INTO {table} ({}) VALUES {}",
                        columns.join(", "),
                        vec![one.as_str(); chunk.len()].join(", ")
                    );
                    let mut q = sqlx::query(&sql);
                    for row in chunk {
                        for v in row {
                            q = match v {
                                V::I(i) => q.bind(*i),
                                V::T(t) => q.bind(t.as_deref()),
                            };
                        }
                    }
                    q.execute(&mut *c).await.map_err(err)?;
                    self.in_tx += chunk.len();
                    if self.in_tx >= SQLITE_ROWS_PER_TX {
                        c.execute("COMMIT; BEGIN").await.map_err(err)?;
                        self.in_tx = 0;
                    }
                }
            }
            Native::Postgres(c) => {
                let mut copy =
                    c.copy_in_raw(&format!("COPY {table} ({}) FROM STDIN", columns.join(", "))).await.map_err(err)?;
                let mut buf = Vec::with_capacity(1 << 20);
                for row in &rows {
                    for (i, v) in row.iter().enumerate() {
                        if i > 0 {
                            buf.push(b'\t');
                        }
                        copy_value(&mut buf, v);
                    }
                    buf.push(b'\n');
                    if buf.len() >= 1 << 20 {
                        copy.send(std::mem::take(&mut buf)).await.map_err(err)?;
                        buf.reserve(1 << 20);
                    }
                }
                if !buf.is_empty() {
                    copy.send(buf).await.map_err(err)?;
                }
                copy.finish().await.map_err(err)?;
            }
        }
        Ok(())
    }

    pub async fn workspace(&mut self, id: Id, name: &str, created_at: Millis) -> StoreResult<()> {
        let row = vec![id.into(), name.into(), created_at.into()];
        self.insert("workspaces", &["id", "name", "created_at"], vec![row]).await
    }

    pub async fn users(&mut self, users: &[BulkUser]) -> StoreResult<()> {
        let rows = users
            .iter()
            .map(|u| {
                vec![
                    u.id.into(),
                    u.workspace_id.into(),
                    u.email.to_lowercase().into(),
                    u.name.as_str().into(),
                    u.display_name.as_str().into(),
                    u.password_hash.as_str().into(),
                    u.role.as_str().into(),
                    u.flags.0.into(),
                    u.created_at.into(),
                ]
            })
            .collect();
        let cols =
            ["id", "workspace_id", "email", "name", "display_name", "password_hash", "role", "flags", "created_at"];
        self.insert("users", &cols, rows).await
    }

    pub async fn teams(&mut self, teams: &[BulkTeam]) -> StoreResult<()> {
        let rows = teams.iter().map(|t| vec![t.id.into(), t.workspace_id.into(), t.name.as_str().into()]).collect();
        self.insert("teams", &["id", "workspace_id", "name"], rows).await?;
        let members =
            teams.iter().flat_map(|t| t.member_ids.iter().map(move |m| vec![t.id.into(), (*m).into()])).collect();
        self.insert("team_members", &["team_id", "user_id"], members).await
    }

    pub async fn channels(&mut self, channels: &[BulkChannel]) -> StoreResult<()> {
        let rows = channels
            .iter()
            .map(|c| {
                vec![
                    c.id.into(),
                    c.workspace_id.into(),
                    c.kind.as_str().into(),
                    c.name.as_str().into(),
                    c.secret.as_str().into(),
                    c.kind.default_max_message_length().into(),
                    c.response_time_limit_secs.into(),
                    c.created_at.into(),
                ]
            })
            .collect();
        let cols = [
            "id",
            "workspace_id",
            "kind",
            "name",
            "secret",
            "max_message_length",
            "response_time_limit_secs",
            "created_at",
        ];
        self.insert("channels", &cols, rows).await?;
        let members =
            channels.iter().flat_map(|c| c.member_ids.iter().map(move |m| vec![c.id.into(), (*m).into()])).collect();
        self.insert("channel_members", &["channel_id", "user_id"], members).await
    }

    pub async fn tags(&mut self, tags: &[BulkTag]) -> StoreResult<()> {
        let rows = tags
            .iter()
            .map(|t| {
                vec![
                    t.id.into(),
                    t.workspace_id.into(),
                    t.name.as_str().into(),
                    t.color.as_str().into(),
                    t.pinned.into(),
                ]
            })
            .collect();
        self.insert("tags", &["id", "workspace_id", "name", "color", "pinned"], rows).await
    }

    /// Contacts with their tags; the search columns are derived as the store does.
    pub async fn contacts(&mut self, contacts: &[BulkContact]) -> StoreResult<()> {
        let rows = contacts
            .iter()
            .map(|k| {
                let search =
                    contact_search_text(&[Some(k.name.as_str()), k.email.as_deref(), k.telegram_username.as_deref()]);
                vec![
                    k.id.into(),
                    k.workspace_id.into(),
                    k.name.as_str().into(),
                    k.phone.clone().into(),
                    digits_of(k.phone.as_deref().unwrap_or("")).into(),
                    k.email.clone().into(),
                    k.telegram_username.clone().into(),
                    k.source.clone().into(),
                    search.into(),
                    k.created_at.into(),
                ]
            })
            .collect();
        let cols = [
            "id",
            "workspace_id",
            "name",
            "phone",
            "phone_digits",
            "email",
            "telegram_username",
            "source",
            "search_text",
            "created_at",
        ];
        self.insert("contacts", &cols, rows).await?;
        for k in contacts.iter().filter(|k| !k.tag_ids.is_empty()) {
            let mut ids = k.tag_ids.clone();
            ids.sort_unstable();
            ids.dedup();
            self.tag_copies.insert(k.id, ids.iter().fold(",".to_string(), |acc, t| format!("{acc}{t},")));
        }
        let tags =
            contacts.iter().flat_map(|k| k.tag_ids.iter().map(move |t| vec![k.id.into(), (*t).into()])).collect();
        self.insert("contact_tags", &["contact_id", "tag_id"], tags).await
    }

    pub async fn identities(&mut self, identities: &[BulkIdentity]) -> StoreResult<()> {
        let rows = identities
            .iter()
            .map(|i| {
                vec![
                    i.id.into(),
                    i.workspace_id.into(),
                    i.channel_id.into(),
                    i.external_id.as_str().into(),
                    i.contact_id.into(),
                    i.name.as_str().into(),
                    i.name.to_lowercase().into(),
                ]
            })
            .collect();
        self.insert(
            "contact_identities",
            &["id", "workspace_id", "channel_id", "external_id", "contact_id", "name", "search_name"],
            rows,
        )
        .await
    }

    pub async fn conversations(&mut self, conversations: &[BulkConversation]) -> StoreResult<()> {
        let rows = conversations
            .iter()
            .map(|c| {
                let copy = c.contact_id.and_then(|k| self.tag_copies.get(&k));
                vec![
                    c.id.into(),
                    c.workspace_id.into(),
                    c.channel_id.into(),
                    c.identity_id.into(),
                    c.contact_id.into(),
                    c.status.as_str().into(),
                    c.attention_id.into(),
                    c.assignee_id.into(),
                    c.team_id.into(),
                    c.snoozed_until.into(),
                    c.unanswered.into(),
                    c.waiting_since.into(),
                    c.due_at.into(),
                    c.last_message_id.into(),
                    c.last_message_preview.clone().into(),
                    c.last_message_author.map(|a| a.as_str()).into(),
                    c.last_inbound_at.into(),
                    c.last_activity_at.into(),
                    c.created_at.into(),
                    c.search_text.as_str().into(),
                    c.search_phone.as_str().into(),
                    copy.map_or(",", String::as_str).into(),
                ]
            })
            .collect();
        let cols = [
            "id",
            "workspace_id",
            "channel_id",
            "identity_id",
            "contact_id",
            "status",
            "attention_id",
            "assignee_id",
            "team_id",
            "snoozed_until",
            "unanswered",
            "waiting_since",
            "due_at",
            "last_message_id",
            "last_message_preview",
            "last_message_author",
            "last_inbound_at",
            "last_activity_at",
            "created_at",
            "search_text",
            "search_phone",
            "tag_ids",
        ];
        self.insert("conversations", &cols, rows).await
    }

    pub async fn attentions(&mut self, attentions: &[BulkAttention]) -> StoreResult<()> {
        let rows = attentions
            .iter()
            .map(|a| {
                vec![
                    a.id.into(),
                    a.workspace_id.into(),
                    a.conversation_id.into(),
                    a.status.as_str().into(),
                    a.assignee_id.into(),
                    a.opened_at.into(),
                    a.closed_at.into(),
                    a.close_reason.clone().into(),
                    a.first_response_at.into(),
                    a.rating.map(|r| r.as_str()).into(),
                    a.rating_comment.clone().into(),
                    a.rated_at.into(),
                ]
            })
            .collect();
        let cols = [
            "id",
            "workspace_id",
            "conversation_id",
            "status",
            "assignee_id",
            "opened_at",
            "closed_at",
            "close_reason",
            "first_response_at",
            "rating",
            "rating_comment",
            "rated_at",
        ];
        self.insert("attentions", &cols, rows).await
    }

    pub async fn messages(&mut self, messages: &[BulkMessage]) -> StoreResult<()> {
        let rows = messages
            .iter()
            .map(|m| {
                vec![
                    m.id.into(),
                    m.workspace_id.into(),
                    m.conversation_id.into(),
                    m.attention_id.into(),
                    m.channel_id.into(),
                    m.kind.as_str().into(),
                    m.author_type.as_str().into(),
                    m.author_id.into(),
                    m.author_name.as_str().into(),
                    m.text.as_str().into(),
                    m.provider_id.clone().into(),
                    m.status.as_str().into(),
                    m.created_at.into(),
                    m.created_at.into(),
                ]
            })
            .collect();
        let cols = [
            "id",
            "workspace_id",
            "conversation_id",
            "attention_id",
            "channel_id",
            "kind",
            "author_type",
            "author_id",
            "author_name",
            "text",
            "provider_id",
            "status",
            "created_at",
            "updated_at",
        ];
        self.insert("messages", &cols, rows).await
    }

    /// Recreates the indexes and triggers, rebuilds the full-text indexes, advances the id
    /// sequences, gathers statistics. `progress` is told each step.
    pub async fn finish(mut self, progress: impl Fn(&str)) -> StoreResult<()> {
        match &mut self.conn {
            Native::Sqlite(c) => {
                c.execute("COMMIT").await.map_err(err)?;
                for sql in &self.recreate {
                    if sql.trim_start().to_uppercase().starts_with("CREATE TRIGGER") {
                        continue;
                    }
                    progress(first_words(sql));
                    c.execute(sql.as_str()).await.map_err(err)?;
                }
                let fts: Vec<String> = sqlx::query_scalar(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%fts5%content=%' \
                     AND sql NOT LIKE '%content=''''%'",
                )
                .fetch_all(&mut *c)
                .await
                .map_err(err)?;
                for name in fts {
                    progress(&format!("rebuilding full-text index {name}"));
                    c.execute(format!("INSERT INTO \"{name}\"(\"{name}\") VALUES ('rebuild')").as_str())
                        .await
                        .map_err(err)?;
                }
                for sql in self.recreate.iter().filter(|s| s.trim_start().to_uppercase().starts_with("CREATE TRIGGER"))
                {
                    c.execute(sql.as_str()).await.map_err(err)?;
                }
                progress("ANALYZE");
                c.execute("ANALYZE").await.map_err(err)?;
                c.execute("PRAGMA wal_checkpoint(TRUNCATE)").await.map_err(err)?;
            }
            Native::Postgres(c) => {
                // The mirror of contact search's copy (migration 0010) is filled by a trigger,
                // which the load's replica role switches off: in one pass, before its indexes.
                progress("INSERT INTO conversation_search");
                c.execute(
                    "INSERT INTO conversation_search (id, workspace_id, search_text, search_phone) \
                     SELECT id, workspace_id, search_text, search_phone FROM conversations ON CONFLICT (id) DO NOTHING",
                )
                .await
                .map_err(err)?;
                // So are full-text search's words (migration 0015).
                progress("INSERT INTO message_words");
                c.execute(
                    "INSERT INTO message_words (message_id, conversation_id, word) \
                     SELECT m.id, m.conversation_id, w FROM messages m, unnest(message_lexemes(m.text)) w \
                     WHERE m.hidden = 0",
                )
                .await
                .map_err(err)?;
                for sql in &self.recreate {
                    progress(first_words(sql));
                    c.execute(sql.as_str()).await.map_err(err)?;
                }
                for table in TABLES_WITH_IDS {
                    let seq: Option<String> = sqlx::query_scalar("SELECT pg_get_serial_sequence($1, 'id')")
                        .bind(*table)
                        .fetch_one(&mut *c)
                        .await
                        .map_err(err)?;
                    if let Some(seq) = seq {
                        c.execute(
                            format!("SELECT setval('{seq}', (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)")
                                .as_str(),
                        )
                        .await
                        .map_err(err)?;
                    }
                }
                // What autovacuum does after a load: statistics, and the visibility map that
                // lets index-only scans skip the table.
                progress("VACUUM ANALYZE");
                c.execute("VACUUM (ANALYZE)").await.map_err(err)?;
            }
        }
        match self.conn {
            Native::Sqlite(c) => c.close().await.map_err(err)?,
            Native::Postgres(c) => c.close().await.map_err(err)?,
        }
        Ok(())
    }
}

fn first_words(sql: &str) -> &str {
    let end = sql.char_indices().filter(|(_, c)| *c == ' ').nth(3).map_or(sql.len(), |(i, _)| i);
    &sql[..end]
}

/// A value in COPY's text format.
fn copy_value(buf: &mut Vec<u8>, v: &V) {
    match v {
        V::I(None) | V::T(None) => buf.extend_from_slice(b"\\N"),
        V::I(Some(i)) => buf.extend_from_slice(i.to_string().as_bytes()),
        V::T(Some(s)) => {
            for b in s.bytes() {
                match b {
                    b'\\' => buf.extend_from_slice(b"\\\\"),
                    b'\t' => buf.extend_from_slice(b"\\t"),
                    b'\n' => buf.extend_from_slice(b"\\n"),
                    b'\r' => buf.extend_from_slice(b"\\r"),
                    _ => buf.push(b),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes() {
        let mut buf = Vec::new();
        copy_value(&mut buf, &V::T(Some("a\tb\\c\nd".into())));
        buf.push(b'|');
        copy_value(&mut buf, &V::I(None));
        buf.push(b'|');
        copy_value(&mut buf, &V::I(Some(-5)));
        assert_eq!(String::from_utf8_lossy(&buf), "a\\tb\\\\c\\nd|\\N|-5");
    }

    #[test]
    fn first_words_of_statements() {
        assert_eq!(first_words("CREATE INDEX foo ON bar(x)"), "CREATE INDEX foo ON");
        assert_eq!(first_words("ANALYZE"), "ANALYZE");
    }
}
