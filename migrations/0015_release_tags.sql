-- Each release under each of its genres and styles, by year: the pages of a genre's or style's
-- releases (newest first, undated last, then by id) are read from one index range, whatever the
-- size of the tag, where the graph would sort every release `IS` it. `year` is 0 for an undated
-- release. Written with `release_facts`, in the same transactions; rows are found for deletion
-- through the facts they were written from, so the table needs no index by release.
CREATE TABLE release_tags (
    style      BOOLEAN NOT NULL,
    tag        TEXT COLLATE "C" NOT NULL,
    year       INTEGER NOT NULL,
    release_id BIGINT  NOT NULL
);

INSERT INTO release_tags (style, tag, year, release_id)
    SELECT DISTINCT false, genre, coalesce(year, 0)::integer, id
    FROM release_facts, unnest(genres) genre
    UNION
    SELECT DISTINCT true, style, coalesce(year, 0)::integer, id
    FROM release_facts, unnest(styles) style;

CREATE INDEX release_tags_page ON release_tags (style, tag, year DESC, release_id);
