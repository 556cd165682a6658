-- 0014: real web archives (issue 27): records read but not articles (a WARC revisit record) are counted as
-- skipped, so records_read = loaded + updated + duplicates + skipped + rejected.
ALTER TABLE ingest_files ADD COLUMN skipped BIGINT DEFAULT 0;
COMMENT ON COLUMN ingest_files.skipped IS 'Records read but not articles and not rejects, e.g. WARC revisit records (the runs counts give them by reason: skipped:revisit).';
COMMENT ON COLUMN ingest_files.records_read IS 'Records read from the file (0 when failed); equals loaded + updated + duplicates + skipped + rejected.';
-- The page type of every article loaded from a web page (WARC/ARC input), with the structural fact that decided it.
ALTER TABLE article_meta ADD COLUMN page_type VARCHAR;
ALTER TABLE article_meta ADD COLUMN page_type_reason VARCHAR;
COMMENT ON COLUMN article_meta.page_type IS 'What the page is, judged by its structure (jobs/readers/pages.py): article or live_blog (a live blog is loaded as one article of its posts in time order); listings and other pages are not loaded (ingest_rejects: not_an_article:listing:<reason>). Null for input that is not a web page (JSONL, CSV, Parquet).';
COMMENT ON COLUMN article_meta.page_type_reason IS 'The structural fact that decided page_type, e.g. declared (JSON-LD or og:type article, prose text), prose, live_posts_12, body_run_254_over_teaser_headlines_14 (a body of paragraphs outweighed the teasers around it).';
COMMENT ON COLUMN ingest_rejects.reason IS 'Why, e.g. malformed_json, invalid_utf8, missing_text, empty_text, missing_outlet_and_url, unknown_outlet:<value>, no_outlet_from_url, invalid_outlet:<value>, ip_address_host (the outlet would be an IP address); for WARC records http_status:404, non_html:application/pdf, not_an_article:too_little_text:12_words, not_an_article:listing:teaser_headlines_14 (listing reasons: teaser_headlines_N, paging_and_headlines_N, dated_headlines_N, declared_listing, list_text_prose_share_X, link_share_X), undecodable_body, truncated_record (also a record cut inside its headers), not_an_http_response, body_too_large; several joined by "; ".';
