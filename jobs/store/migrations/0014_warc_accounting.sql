-- 0014: real web archives (issue 27): records read but not articles (a WARC revisit record) are counted as
-- skipped, so records_read = loaded + updated + duplicates + skipped + rejected.
ALTER TABLE ingest_files ADD COLUMN skipped BIGINT DEFAULT 0;
COMMENT ON COLUMN ingest_files.skipped IS 'Records read but not articles and not rejects, e.g. WARC revisit records (the runs counts give them by reason: skipped:revisit).';
COMMENT ON COLUMN ingest_files.records_read IS 'Records read from the file (0 when failed); equals loaded + updated + duplicates + skipped + rejected.';
