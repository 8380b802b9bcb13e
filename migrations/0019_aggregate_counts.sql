-- The counts an update moves the aggregates and profiles by, instead of recounting every release
-- (`store::deltas`):
--
-- - `facts_journal`: the facts each update took away (sign -1: the stored version of a changed
--   or deleted record) and put in (sign 1), written in the records' own transactions and
--   consumed, in one transaction, by the next aggregate step;
-- - releases per (artist, genre), (artist, style) and (label, genre): with `label_styles` and
--   `artist_labels`, every pair count a genre's or style's artists and labels, and an artist's or
--   label's profile, are ranked from;
-- - per genre and style: releases per year (0: none), the records naming it and its distinct
--   artists and labels; per (genre, style): the releases naming both and the records (releases
--   or masters) whose only genre is that genre and that name the style (`PART_OF` exists while
--   there are some).
--
-- Facts backfilled from JSON may repeat a value within a record; it counts once.
CREATE TABLE facts_journal (
    sign    SMALLINT NOT NULL CHECK (sign IN (-1, 1)),
    master  BOOLEAN  NOT NULL,
    year    BIGINT,
    artists BIGINT[] NOT NULL,
    labels  BIGINT[] NOT NULL,
    genres  TEXT[]   NOT NULL,
    styles  TEXT[]   NOT NULL,
    formats TEXT[]   NOT NULL
);

CREATE TABLE artist_genres (
    genre     TEXT COLLATE "C" NOT NULL,
    artist_id BIGINT NOT NULL,
    releases  BIGINT NOT NULL,
    PRIMARY KEY (artist_id, genre)
);

CREATE TABLE artist_styles (
    style     TEXT COLLATE "C" NOT NULL,
    artist_id BIGINT NOT NULL,
    releases  BIGINT NOT NULL,
    PRIMARY KEY (artist_id, style)
);

CREATE TABLE label_genres (
    genre    TEXT COLLATE "C" NOT NULL,
    label_id BIGINT NOT NULL,
    releases BIGINT NOT NULL,
    PRIMARY KEY (label_id, genre)
);

CREATE TABLE tag_years (
    style    BOOLEAN NOT NULL,
    tag      TEXT COLLATE "C" NOT NULL,
    year     BIGINT  NOT NULL,
    releases BIGINT  NOT NULL,
    PRIMARY KEY (style, tag, year)
);

CREATE TABLE tag_records (
    style   BOOLEAN NOT NULL,
    tag     TEXT COLLATE "C" NOT NULL,
    records BIGINT  NOT NULL,
    artists BIGINT  NOT NULL,
    labels  BIGINT  NOT NULL,
    PRIMARY KEY (style, tag)
);

CREATE TABLE genre_styles (
    genre        TEXT COLLATE "C" NOT NULL,
    style        TEXT COLLATE "C" NOT NULL,
    releases     BIGINT NOT NULL,
    sole_records BIGINT NOT NULL,
    PRIMARY KEY (genre, style)
);

INSERT INTO artist_genres (genre, artist_id, releases)
    SELECT genre, artist, count(DISTINCT id)
    FROM release_facts, unnest(artists) artist, unnest(genres) genre
    GROUP BY artist, genre;

INSERT INTO artist_styles (style, artist_id, releases)
    SELECT style, artist, count(DISTINCT id)
    FROM release_facts, unnest(artists) artist, unnest(styles) style
    GROUP BY artist, style;

INSERT INTO label_genres (genre, label_id, releases)
    SELECT genre, label, count(DISTINCT id)
    FROM release_facts, unnest(labels) label, unnest(genres) genre
    GROUP BY label, genre;

INSERT INTO tag_years (style, tag, year, releases)
    SELECT style, tag, year, count(DISTINCT id)
    FROM (SELECT false AS style, genre AS tag, greatest(coalesce(year, 0), 0) AS year, id
          FROM release_facts, unnest(genres) genre
          UNION ALL
          SELECT true, style, greatest(coalesce(year, 0), 0), id
          FROM release_facts, unnest(styles) style) named
    GROUP BY 1, 2, 3;

INSERT INTO tag_records (style, tag, records, artists, labels)
    SELECT named.style, named.tag, named.records, coalesce(artists.n, 0), coalesce(labels.n, 0)
    FROM (SELECT style, tag, count(DISTINCT (master, id)) AS records
          FROM (SELECT false AS style, genre AS tag, false AS master, id
                FROM release_facts, unnest(genres) genre
                UNION ALL SELECT true, style, false, id FROM release_facts, unnest(styles) style
                UNION ALL SELECT false, genre, true, id FROM master_facts, unnest(genres) genre
                UNION ALL SELECT true, style, true, id FROM master_facts, unnest(styles) style) r
          GROUP BY 1, 2) named
    LEFT JOIN (SELECT false AS style, genre AS tag, count(*) AS n FROM artist_genres GROUP BY 2
               UNION ALL SELECT true, style, count(*) FROM artist_styles GROUP BY 2) artists
        ON artists.style = named.style AND artists.tag = named.tag
    LEFT JOIN (SELECT false AS style, genre AS tag, count(*) AS n FROM label_genres GROUP BY 2
               UNION ALL SELECT true, style, count(*) FROM label_styles GROUP BY 2) labels
        ON labels.style = named.style AND labels.tag = named.tag;

INSERT INTO genre_styles (genre, style, releases, sole_records)
    SELECT genre, style, count(DISTINCT id) FILTER (WHERE NOT master),
           count(DISTINCT (master, id)) FILTER (WHERE sole)
    FROM (SELECT false AS master, id, genres, styles FROM release_facts
          UNION ALL SELECT true, id, genres, styles FROM master_facts) record,
         unnest(genres) genre, unnest(styles) style,
         LATERAL (SELECT count(DISTINCT g) = 1 AS sole FROM unnest(genres) g) genre_count
    GROUP BY genre, style
    HAVING bool_or(NOT master OR sole);

CREATE INDEX artist_genres_top ON artist_genres (genre, releases DESC, artist_id);
CREATE INDEX artist_styles_top ON artist_styles (style, releases DESC, artist_id);
CREATE INDEX label_genres_top ON label_genres (genre, releases DESC, label_id);

-- An update the release before this one left unfinished has facts its profiles do not count
-- yet, and no journal to move them by: the next ingest recounts everything instead.
UPDATE ingest_generation SET aggregates_version = 0
    WHERE EXISTS (SELECT 1 FROM aggregate_touched);
