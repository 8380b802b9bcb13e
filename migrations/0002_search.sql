-- Full-text search over names and titles. The 'simple' configuration keeps names as written
-- (no English stemming of artist names); generated columns keep the vectors in step with `data`.
ALTER TABLE artists  ADD COLUMN search tsvector GENERATED ALWAYS AS
    (to_tsvector('simple', coalesce(data->>'name', '') || ' ' || coalesce(data->>'realname', ''))) STORED;
ALTER TABLE labels   ADD COLUMN search tsvector GENERATED ALWAYS AS
    (to_tsvector('simple', coalesce(data->>'name', ''))) STORED;
ALTER TABLE masters  ADD COLUMN search tsvector GENERATED ALWAYS AS
    (to_tsvector('simple', coalesce(data->>'title', ''))) STORED;
ALTER TABLE releases ADD COLUMN search tsvector GENERATED ALWAYS AS
    (to_tsvector('simple', coalesce(data->>'title', ''))) STORED;

CREATE INDEX artists_search_idx  ON artists  USING gin (search);
CREATE INDEX labels_search_idx   ON labels   USING gin (search);
CREATE INDEX masters_search_idx  ON masters  USING gin (search);
CREATE INDEX releases_search_idx ON releases USING gin (search);
