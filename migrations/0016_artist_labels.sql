-- The distinct releases each artist is a main artist of on each label: an artist's labels and a
-- label's artists, most shared releases first, are read from one index range each, whatever the
-- size of the hub, where the graph would count through every release of it. Counted with the
-- label and artist profiles (`store::profiles`): whole after a first load, and after an update
-- only the rows of the artists it touched that differ (a pair's count changes only with a
-- release of both, whose artists are touched). Facts backfilled from JSON may repeat an artist or
-- a label within a release; it counts once, as the profiles count it.
CREATE TABLE artist_labels (
    artist_id BIGINT NOT NULL,
    label_id  BIGINT NOT NULL,
    releases  BIGINT NOT NULL
);

INSERT INTO artist_labels (artist_id, label_id, releases)
    SELECT artist, label, count(DISTINCT id)
    FROM release_facts, unnest(artists) artist, unnest(labels) label
    GROUP BY artist, label;

CREATE INDEX artist_labels_by_artist ON artist_labels (artist_id, releases DESC, label_id);
CREATE INDEX artist_labels_by_label ON artist_labels (label_id, releases DESC, artist_id);
