// Uniqueness constraints on every node key (SPEC §7); each also gives the key a range index,
// which every MERGE and every id lookup uses.
CREATE CONSTRAINT artist_id IF NOT EXISTS FOR (n:Artist) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT label_id IF NOT EXISTS FOR (n:Label) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT master_id IF NOT EXISTS FOR (n:Master) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT release_id IF NOT EXISTS FOR (n:Release) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT genre_name IF NOT EXISTS FOR (n:Genre) REQUIRE n.name IS UNIQUE;
CREATE CONSTRAINT style_name IF NOT EXISTS FOR (n:Style) REQUIRE n.name IS UNIQUE;
CREATE CONSTRAINT schema_migration_version IF NOT EXISTS FOR (n:SchemaMigration) REQUIRE n.version IS UNIQUE;
// Name lookups (explore, path, autocomplete by exact name) and year filters.
CREATE INDEX artist_name IF NOT EXISTS FOR (n:Artist) ON (n.name);
CREATE INDEX label_name IF NOT EXISTS FOR (n:Label) ON (n.name);
CREATE INDEX release_year IF NOT EXISTS FOR (n:Release) ON (n.year);
CREATE INDEX master_year IF NOT EXISTS FOR (n:Master) ON (n.year);
