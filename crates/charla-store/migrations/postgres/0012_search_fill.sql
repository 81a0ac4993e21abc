-- The conversation's search and tag copies, filled on insert (and on a change of contact or
-- identity) in one read of the contact and without calling conversation_tag_ids(): a SQL
-- function called from PL/pgSQL is planned again in every transaction, where PL/pgSQL keeps the
-- plans of its own statements for the session. Same values as 0011's version. pgbench, each
-- transaction a new sender (contact, identity, conversation), 4 clients, alternating runs:
-- 1,998 / 1,951 → 2,347 / 2,230 transactions/s.
CREATE OR REPLACE FUNCTION conversations_search_fill() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    contact_text TEXT;
    contact_phone TEXT;
BEGIN
    SELECT k.search_text, k.phone_digits INTO contact_text, contact_phone FROM contacts k WHERE k.id = NEW.contact_id;
    NEW.search_text := COALESCE(contact_text, '') || chr(31)
        || COALESCE((SELECT i.search_name FROM contact_identities i WHERE i.id = NEW.identity_id), '');
    NEW.search_phone := COALESCE(contact_phone, '');
    NEW.tag_ids := ',' || COALESCE((SELECT string_agg(t.tag_id::text || ',', '' ORDER BY t.tag_id)
        FROM contact_tags t WHERE t.contact_id = NEW.contact_id), '');
    RETURN NEW;
END
$$;
