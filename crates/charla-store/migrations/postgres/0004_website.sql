-- Website live chat: the visitors the widget knows and the pages they viewed. PostgreSQL dialect.
-- Keep in step with ../sqlite/0004_website.sql.

-- A visitor of a website channel, from their first page view on (before they ever write).
-- `external_id` is the identity's external id once they write (the conversation is found
-- through contact_identities(channel_id, external_id)); it is what the visitor's signed token
-- names.
CREATE TABLE website_visitors (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    channel_id BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    external_id TEXT NOT NULL,
    country TEXT,                       -- ISO 3166-1 alpha-2 from GeoIP, when known
    email TEXT,                         -- left by the visitor
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX website_visitors_external ON website_visitors(channel_id, external_id);
CREATE INDEX website_visitors_seen ON website_visitors(last_seen_at);

-- The last pages a visitor viewed (the store keeps 15 per visitor).
CREATE TABLE website_page_views (
    id BIGSERIAL PRIMARY KEY,
    visitor_id BIGINT NOT NULL REFERENCES website_visitors(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    viewed_at BIGINT NOT NULL
);
CREATE INDEX website_page_views_visitor ON website_page_views(visitor_id, id DESC);
