-- The credits an update writes (new releases', and changed releases' whose credits changed) wait
-- here, without indexes, in the transactions that write their releases; the end of the ingest
-- puts them into `credits` in the order of `credits_by_name` (`store::credits`). A month's new
-- releases come at the end of its file, and their rows COPYed straight into `credits` each read
-- a random page of that index (3 GB at a quarter of the catalogue): in index order the pages are
-- read nearly in sequence. An ingest that stops before its end leaves them here for the next,
-- which moves them first.
CREATE TABLE credits_pending (LIKE credits);
