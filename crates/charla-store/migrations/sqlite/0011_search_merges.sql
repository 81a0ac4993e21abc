-- The full-text indexes no longer merge their segments on their own. FTS5's automerge does it in
-- bursts: after every 64 leaf pages written it merges up to 64 pages per level of the index in
-- the transaction that happens to write them (8-18 ms at once, held by one group commit, and
-- every message delivered after it waits: events reach sockets in seq order). The SQLite writer
-- now merges a few pages in every group that adds to an index, in proportion to what it added
-- (sql/mod.rs, `SearchQueue`), so the same work is spread evenly. crisismerge still bounds the
-- segments of a level should the writer fall behind.
INSERT INTO message_search(message_search, rank) VALUES ('automerge', 0);
INSERT INTO conversations_fts(conversations_fts, rank) VALUES ('automerge', 0);
