-- Search facets and filters read `year` and `genres` of releases and masters; as stored generated
-- columns they are read without detoasting each matching record's JSON.
CREATE FUNCTION discogs_text_array(jsonb) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT coalesce(array_agg(value), '{}') FROM jsonb_array_elements_text($1) $$;

ALTER TABLE releases
    ADD COLUMN year   integer GENERATED ALWAYS AS ((data->>'year')::integer) STORED,
    ADD COLUMN genres text[]  GENERATED ALWAYS AS (discogs_text_array(data->'genres')) STORED;
ALTER TABLE masters
    ADD COLUMN year   integer GENERATED ALWAYS AS ((data->>'year')::integer) STORED,
    ADD COLUMN genres text[]  GENERATED ALWAYS AS (discogs_text_array(data->'genres')) STORED;
