-- Each release under each of its main artists and each of its labels, by year, as `release_tags`
-- has it under its genres and styles: an artist's or a label's releases (newest first, undated
-- last, then by id) and its releases per year are read from one index range, where the graph
-- would sort every release of the artist or label. `year` is 0 for an undated release. Written
-- with `release_facts`, in the same transactions, and taken out through the facts they were
-- written from. Facts backfilled from JSON may repeat an artist or a label within a release;
-- the release is listed once under it.
CREATE TABLE release_artists (
    artist_id  BIGINT  NOT NULL,
    year       INTEGER NOT NULL,
    release_id BIGINT  NOT NULL
);

CREATE TABLE release_labels (
    label_id   BIGINT  NOT NULL,
    year       INTEGER NOT NULL,
    release_id BIGINT  NOT NULL
);

INSERT INTO release_artists (artist_id, year, release_id)
    SELECT DISTINCT artist, coalesce(year, 0)::integer, id FROM release_facts, unnest(artists) artist;
INSERT INTO release_labels (label_id, year, release_id)
    SELECT DISTINCT label, coalesce(year, 0)::integer, id FROM release_facts, unnest(labels) label;

CREATE INDEX release_artists_page ON release_artists (artist_id, year DESC, release_id);
CREATE INDEX release_labels_page ON release_labels (label_id, year DESC, release_id);
