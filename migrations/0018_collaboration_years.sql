-- The releases (with a known year) each artist shares as a main artist with each other one, in
-- all and per year: an artist's collaborators, most shared releases first, each with its shared
-- releases per year, are read from one index range, where the graph would go through every
-- release of every release of the artist. Rebuilt from `release_artists` and `release_facts`
-- with the label and artist profiles (`store::profiles`): whole after a first load, and after an
-- update the rows of the artists it touched (a pair's shared releases change only with a release
-- of both, whose artists are touched). Facts backfilled from JSON may repeat an artist within a
-- release; the release counts once.
CREATE TABLE collaboration_years (
    artist_id  BIGINT    NOT NULL,
    other_id   BIGINT    NOT NULL,
    releases   BIGINT    NOT NULL,
    first_year INTEGER   NOT NULL,
    last_year  INTEGER   NOT NULL,
    years      INTEGER[] NOT NULL,
    counts     BIGINT[]  NOT NULL
);

INSERT INTO collaboration_years (artist_id, other_id, releases, first_year, last_year, years, counts)
    SELECT artist_id, other_id, sum(releases)::bigint, min(year), max(year),
           array_agg(year ORDER BY year), array_agg(releases ORDER BY year)
    FROM (SELECT a.artist_id, other AS other_id, a.year, count(DISTINCT a.release_id) AS releases
          FROM release_artists a JOIN release_facts f ON f.id = a.release_id, unnest(f.artists) other
          WHERE a.year > 0 AND other <> a.artist_id
          GROUP BY 1, 2, 3) shared
    GROUP BY 1, 2;

CREATE INDEX collaboration_years_top ON collaboration_years (artist_id, releases DESC, other_id);
