-- Search facets and filters read `year` and `genres` of releases and masters; as stored generated
-- columns they are read without detoasting each matching record's JSON. A master's year is taken
-- as written in the dump, so only years of four digits or fewer become a `year` (a larger one
-- would otherwise fail the row's insert).
CREATE FUNCTION discogs_text_array(jsonb) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT coalesce(array_agg(value), '{}') FROM jsonb_array_elements_text($1) $$;

CREATE FUNCTION discogs_year(jsonb) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT CASE WHEN jsonb_typeof($1) = 'number' AND $1::numeric BETWEEN 1 AND 9999
                      THEN $1::numeric::integer END $$;

ALTER TABLE releases
    ADD COLUMN year   integer GENERATED ALWAYS AS (discogs_year(data->'year')) STORED,
    ADD COLUMN genres text[]  GENERATED ALWAYS AS (discogs_text_array(data->'genres')) STORED;
ALTER TABLE masters
    ADD COLUMN year   integer GENERATED ALWAYS AS (discogs_year(data->'year')) STORED,
    ADD COLUMN genres text[]  GENERATED ALWAYS AS (discogs_text_array(data->'genres')) STORED;
