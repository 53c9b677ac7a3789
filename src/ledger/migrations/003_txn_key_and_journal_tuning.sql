-- Each claimed key is updated once with its answer. With free room on the page PostgreSQL can make that a
-- HOT update (no new index entries: the answer columns are not indexed); at the default fillfactor of 100
-- only about one update in ten found room, so most wrote to both indexes too.
ALTER TABLE txn_key SET (fillfactor = 70);

-- These tables grow by thousands of rows a second from empty. The switch's hot statements are prepared
-- once per connection and keep their plan until the table's statistics change, so analyse them early
-- (after 1,000 rows, then every 5%) rather than at the default 10%, which on a new table is hours away
-- from reflecting its real size.
ALTER TABLE txn_key SET (autovacuum_analyze_threshold = 1000, autovacuum_analyze_scale_factor = 0.05);
ALTER TABLE journal SET (autovacuum_analyze_threshold = 1000, autovacuum_analyze_scale_factor = 0.05);
