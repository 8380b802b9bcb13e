-- What the label DNA, similarity and network routes read (API-ANALYTICS.md §1–§3), counted with
-- the graph aggregates from the same facts (`store::profiles`): written whole after a first load,
-- and for the artists and labels an update touched after that. Lists are parallel arrays, names
-- (or ids) beside their counts, ordered as the routes list them: count descending, then name.

-- The formats a release names, for the labels' format shares.
ALTER TABLE release_facts ADD COLUMN formats TEXT[] NOT NULL DEFAULT '{}';
UPDATE release_facts f
    SET formats = (SELECT coalesce(array_agg(DISTINCT e->>'name' ORDER BY e->>'name'), '{}')
                   FROM jsonb_array_elements(r.data->'formats') e WHERE e->>'name' IS NOT NULL)
    FROM releases r
    WHERE r.id = f.id AND jsonb_typeof(r.data->'formats') = 'array';

-- One row per label with releases; `years` ascending.
CREATE TABLE label_profiles (
    label_id      BIGINT PRIMARY KEY,
    release_count BIGINT   NOT NULL,
    artist_count  BIGINT   NOT NULL,
    genres        TEXT[]   NOT NULL,
    genre_counts  BIGINT[] NOT NULL,
    styles        TEXT[]   NOT NULL,
    style_counts  BIGINT[] NOT NULL,
    formats       TEXT[]   NOT NULL,
    format_counts BIGINT[] NOT NULL,
    years         BIGINT[] NOT NULL,
    year_counts   BIGINT[] NOT NULL
);

-- Each label's releases per style, ranked within the style: the similar-labels candidates.
CREATE TABLE label_styles (
    style    TEXT COLLATE "C" NOT NULL,
    label_id BIGINT NOT NULL,
    releases BIGINT NOT NULL,
    PRIMARY KEY (label_id, style)
);
CREATE INDEX label_styles_top ON label_styles (style, releases DESC, label_id);

-- One row per artist with releases. The genre, style and label lists, which only artist
-- similarity reads, are kept for the artists it answers for (3 releases or more), NULL below;
-- the labels are the artist's 100 commonest.
CREATE TABLE artist_profiles (
    artist_id              BIGINT PRIMARY KEY,
    release_count          BIGINT NOT NULL,
    collaborator_count     BIGINT NOT NULL,
    collaboration_releases BIGINT NOT NULL,
    primary_genre          TEXT,
    genres                 TEXT[],
    genre_counts           BIGINT[],
    styles                 TEXT[],
    style_counts           BIGINT[],
    labels                 BIGINT[],
    label_counts           BIGINT[]
);

-- Distinct releases two artists are both main artists of, once from each side.
CREATE TABLE artist_collaborations (
    artist_id BIGINT NOT NULL,
    other_id  BIGINT NOT NULL,
    releases  BIGINT NOT NULL
);
CREATE INDEX artist_collaborations_top ON artist_collaborations (artist_id, releases DESC, other_id);
