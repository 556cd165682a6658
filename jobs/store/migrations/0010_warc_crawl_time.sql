-- 0010: WARC input (issue 14): the crawl time of every article, kept apart from its publication time; WARC
-- records are numbered by their byte offset; a file that breaks off mid-way loads up to the break (partial).
ALTER TABLE article_meta ADD COLUMN crawled_at TIMESTAMP;
COMMENT ON COLUMN article_meta.crawled_at IS 'As articles.crawled_at.';
COMMENT ON COLUMN article_meta.record_number IS 'As articles.record_number.';
CREATE OR REPLACE VIEW articles AS
SELECT m.article_id, m.source_id, m.outlet, m.outlet_name, m.url, m.url_canonical, m.title, t.text, m.authors,
       m.published_at, m.language, m.content_hash, m.content_version, m.ingest_issues, m.source_file,
       m.record_number, m.load_id, m.ingested_at, m.updated_load_id, m.updated_at, m.crawled_at
FROM article_meta m
JOIN article_texts() t ON t.article_id = m.article_id AND t.content_version = m.content_version;
COMMENT ON VIEW articles IS 'One row per distinct article. Identity: canonical URL, else (outlet, source_id), else (outlet, content hash). A view (since migration 0009): article_meta joined with the article''s text from its text file (text_files).';
COMMENT ON COLUMN articles.article_id IS 'Stable id: first 16 hex digits of md5 of the identity key, so the same article gets the same id in any database.';
COMMENT ON COLUMN articles.source_id IS 'The corpus''s own id for the record, when it has one.';
COMMENT ON COLUMN articles.outlet IS 'Canonical outlet domain (e.g. nytimes.com, abcnews.go.com): alias file, else the longest host known to the alias or label files, else the registered domain from the offline public-suffix list.';
COMMENT ON COLUMN articles.outlet_name IS 'Human-readable outlet name as given by the corpus, when present.';
COMMENT ON COLUMN articles.url IS 'URL as given by the corpus.';
COMMENT ON COLUMN articles.url_canonical IS 'https, lower-case host without www./m./amp., no fragment, no tracking parameters (utm_*, fbclid, ...), no trailing slash.';
COMMENT ON COLUMN articles.title IS 'Headline.';
COMMENT ON COLUMN articles.text IS 'Article body as scraped (whitespace-trimmed, NUL characters removed, capped at --max-text-chars with an ingest issue); stored in the text file of the current version.';
COMMENT ON COLUMN articles.authors IS 'Byline names; empty list when the corpus gives none.';
COMMENT ON COLUMN articles.published_at IS 'Publication time in UTC; null when absent, unparseable or implausible (see ingest_issues).';
COMMENT ON COLUMN articles.language IS 'Language code as given by the corpus; null when unknown.';
COMMENT ON COLUMN articles.content_hash IS 'md5 of title and text; a change marks the article for re-featurizing and re-scoring.';
COMMENT ON COLUMN articles.content_version IS '1 when first loaded, +1 each time a later load changed its title or text.';
COMMENT ON COLUMN articles.ingest_issues IS 'Fixes applied while loading, e.g. date_out_of_range:1850-01-01, text_truncated:2500000, outlet_from_url.';
COMMENT ON COLUMN articles.source_file IS 'Path of the file the current version came from.';
COMMENT ON COLUMN articles.record_number IS 'Record number in that file (1-based line, row or record); for WARC files the byte offset of the record (of its gzip member in a .warc.gz), as in a CDX index.';
COMMENT ON COLUMN articles.load_id IS 'run_id of the ingest run that first inserted the article.';
COMMENT ON COLUMN articles.ingested_at IS 'UTC time the article was first inserted.';
COMMENT ON COLUMN articles.updated_load_id IS 'run_id of the ingest run that last changed the article; null if never changed.';
COMMENT ON COLUMN articles.updated_at IS 'UTC time of the last change; null if never changed.';
COMMENT ON COLUMN articles.crawled_at IS 'When the page was fetched, in UTC (WARC-Date of a WARC record, or a crawled_at / date_download column); null when the input does not say. Not the publication time (published_at).';
COMMENT ON COLUMN ingest_rejects.record_number IS 'Record number in the file (1-based line for JSONL, record for CSV, row for Parquet); for WARC files the byte offset of the record (of its gzip member in a .warc.gz).';
COMMENT ON COLUMN ingest_rejects.reason IS 'Why, e.g. malformed_json, invalid_utf8, missing_text, empty_text, missing_outlet, unknown_outlet; for WARC records http_status:404, non_html:application/pdf, not_an_article:too_little_text:12_words, not_an_article:index_page:link_share_0.41, undecodable_body, truncated_record, not_an_http_response, body_too_large; several joined by "; ".';
COMMENT ON COLUMN ingest_rejects.raw_record IS 'The record as read (JSON for tabular rows; invalid bytes shown as \xNN escapes; capped at 1,000,000 characters). For WARC records not the body but JSON of where and what it was: warc_offset, warc_record_id, target_uri, warc_date, http_status, content_type, content_length (and location, bytes_read).';
COMMENT ON COLUMN ingest_files.format IS 'jsonl, json, csv, tsv, parquet or warc (gzip is detected separately).';
COMMENT ON COLUMN ingest_files.status IS 'loaded, partial (the file broke off, e.g. a truncated .warc.gz: the records before the break are committed, error says where; the run exits 1) or failed (nothing of it committed).';
