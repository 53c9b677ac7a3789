-- 014_balance_fillfactor: room on every jht_balance page for a HOT update of each of its rows.
--
-- Why:
-- * A postings file updates the balance of each participant it names once, in one statement (migration
--   011's jht_postings_apply). With full pages (the default fillfactor 100) each new row version goes to
--   another page and adds an entry to the primary key index; with half of each page free, the new version
--   stays on its page and no index changes (a heap-only tuple): a daily file of a million postings rewrites a
--   million balances without a million index insertions. The row is small (~60 bytes): doubling the table
--   costs ~60 bytes per participant.
-- * Only pages written from now on are affected. A ledger loaded before this migration gets the room when
--   the table is rewritten (`VACUUM FULL jht_balance`, as the owner, in a quiet hour: it locks the table).
-- * 50, not 70 to 90: the old versions of one file's updates are not dead before it commits, so a page must
--   hold a second version of each of its rows.

ALTER TABLE jht_balance SET (fillfactor = 50);
