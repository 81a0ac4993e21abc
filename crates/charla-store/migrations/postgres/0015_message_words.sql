-- Full-text search's words, each with its message and that message's conversation.
--
-- A search asks which conversations have a message with the term's words. The GIN index of
-- messages (0001, `messages_fts`) answers with message rows, and each row had to be read from
-- the table to learn its conversation: one random page per match. A product name said in 4,513
-- of the bench's 10,000,000 messages sat on 4,473 pages, 6-10 ms even from shared buffers (the
-- bench's search terms do not fit in them, so 20-25 ms a search); a first name greeted in
-- 40,000 messages took 60-90 ms. Here a term's matches are one range of this index, read
-- without the table (index-only: `word, message_id` sorted, the conversation carried along);
-- several words join on the message, which keeps "all the words in one message", what
-- `plainto_tsquery` asked of the GIN index.
--
-- Only visible messages have words here (hidden ones were filtered out of every search). The
-- triggers keep it in step with `messages`; the words are PostgreSQL's `simple` configuration's
-- lexemes of the text, as before. The words of a message's text are appended at the end of each
-- word's range (message ids grow), so a new message touches the last leaf page of each of its
-- words. Keep in step with ../../src/sql/inbox.rs (`push_message_matches`) and bulk.rs (which
-- fills the table in one pass after a load).
CREATE TABLE message_words (
    message_id BIGINT NOT NULL,
    conversation_id BIGINT NOT NULL,
    word TEXT NOT NULL
);

CREATE FUNCTION message_lexemes(body TEXT) RETURNS TEXT[] LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT tsvector_to_array(to_tsvector('simple'::regconfig, body)) $$;

INSERT INTO message_words (message_id, conversation_id, word)
SELECT m.id, m.conversation_id, w FROM messages m, unnest(message_lexemes(m.text)) w WHERE m.hidden = 0;

CREATE UNIQUE INDEX message_words_key ON message_words (word, message_id) INCLUDE (conversation_id);

-- A new message's words: the ingest path's trigger, alone in its function.
CREATE FUNCTION message_words_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO message_words (message_id, conversation_id, word)
    SELECT NEW.id, NEW.conversation_id, w FROM unnest(message_lexemes(NEW.text)) w;
    RETURN NULL;
END
$$;
CREATE FUNCTION message_words_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.hidden = 0 THEN
        DELETE FROM message_words WHERE word = ANY(message_lexemes(OLD.text)) AND message_id = OLD.id;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.hidden = 0 THEN
        INSERT INTO message_words (message_id, conversation_id, word)
        SELECT NEW.id, NEW.conversation_id, w FROM unnest(message_lexemes(NEW.text)) w;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER message_words_insert AFTER INSERT ON messages
    FOR EACH ROW WHEN (NEW.hidden = 0) EXECUTE FUNCTION message_words_insert();
CREATE TRIGGER message_words_update AFTER UPDATE OF text, hidden, conversation_id ON messages
    FOR EACH ROW WHEN (OLD.text IS DISTINCT FROM NEW.text OR OLD.hidden IS DISTINCT FROM NEW.hidden
        OR OLD.conversation_id IS DISTINCT FROM NEW.conversation_id)
    EXECUTE FUNCTION message_words_rewrite();
CREATE TRIGGER message_words_delete AFTER DELETE ON messages
    FOR EACH ROW WHEN (OLD.hidden = 0) EXECUTE FUNCTION message_words_rewrite();

-- No search reads the GIN index any more; every message's write kept it.
DROP INDEX messages_fts;

DO $$ BEGIN IF EXISTS (SELECT 1 FROM message_words) THEN ANALYZE message_words; END IF; END $$;
