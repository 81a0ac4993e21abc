-- Steady write latency under a stream of inbound messages.
--
-- 1. No foreign keys from the rows every message (or every new sender) inserts to the one
--    workspace row and the channel row they all share. A foreign key check share-locks the
--    parent row: with transactions side by side, each lock became a new MultiXact holding all
--    of them, a WAL record and an exclusive lock on that one heap page (pg_waldump: about one
--    MultiXact and three row-lock records a message). Workspaces and channels are never
--    deleted (a channel is deactivated), and these rows take their workspace and channel from
--    the channel row read in the same transaction, so the checks could never fail.
ALTER TABLE messages DROP CONSTRAINT messages_workspace_id_fkey;
ALTER TABLE conversations DROP CONSTRAINT conversations_workspace_id_fkey;
ALTER TABLE conversations DROP CONSTRAINT conversations_channel_id_fkey;
ALTER TABLE attentions DROP CONSTRAINT attentions_workspace_id_fkey;
ALTER TABLE contacts DROP CONSTRAINT contacts_workspace_id_fkey;
ALTER TABLE contact_identities DROP CONSTRAINT contact_identities_workspace_id_fkey;
ALTER TABLE contact_identities DROP CONSTRAINT contact_identities_channel_id_fkey;

-- 2. The GIN indexes that messages and new senders write take each row directly, not through a
--    pending list. With the list, whichever insert found it past gin_pending_list_limit (4 MB)
--    moved all of it into the index inside its own transaction: 40-230 ms for one message, and
--    since events reach sockets in seq order, every message committed meanwhile waited for it
--    (at 1,000 messages/s, 30-60 messages over 10 ms at once). PostgreSQL's advice where steady
--    response time matters more than insert speed; bulk loads drop and rebuild these indexes.
--    Every GIN index of the schema: the messages' full text, the contacts' and the conversations'
--    search copies (trigrams); a later GIN index must say `WITH (fastupdate = off)` too.
DO $$
DECLARE
    gin regclass;
BEGIN
    FOR gin IN SELECT i.oid::regclass FROM pg_class i JOIN pg_am a ON a.oid = i.relam
               WHERE i.relnamespace = current_schema()::regnamespace AND a.amname = 'gin' LOOP
        EXECUTE format('ALTER INDEX %s SET (fastupdate = off)', gin);
        PERFORM gin_clean_pending_list(gin);
    END LOOP;
END
$$;
