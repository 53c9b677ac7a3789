-- Each claimed key is updated once with its answer. With free room on the page PostgreSQL can make that a
-- HOT update (no new index entries: the answer columns are not indexed); at the default fillfactor of 100
-- only about one update in ten found room, so most wrote to both indexes too.
ALTER TABLE txn_key SET (fillfactor = 70);
