-- A release's title beside its other facts: a person's credits are paged newest year first, then
-- by title, and ordering the thousands of credits of a prolific person's year by title costs a
-- narrow row each here, where it cost a whole record read and decompressed. The fill below
-- reads every record once (69 s at a quarter of the catalogue).
ALTER TABLE release_facts ADD COLUMN title TEXT;
UPDATE release_facts f SET title = r.data->>'title'
    FROM releases r WHERE r.id = f.id AND r.data ? 'title';
