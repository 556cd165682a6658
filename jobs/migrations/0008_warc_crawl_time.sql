-- 0008: WARC input (issue 14): the crawl time of every article, kept apart from its publication time; WARC
-- records are numbered by their byte offset; a file that breaks off mid-way loads up to the break (partial).
ALTER TABLE articles ADD COLUMN crawled_at TIMESTAMP;
COMMENT ON COLUMN articles.crawled_at IS 'When the page was fetched, in UTC (WARC-Date of a WARC record, or a crawled_at / date_download column); null when the input does not say. Not the publication time (published_at).';
COMMENT ON COLUMN articles.record_number IS 'Record number in that file (1-based line, row or record); for WARC files the byte offset of the record (of its gzip member in a .warc.gz), as in a CDX index.';
COMMENT ON COLUMN ingest_rejects.record_number IS 'Record number in the file (1-based line for JSONL, record for CSV, row for Parquet); for WARC files the byte offset of the record (of its gzip member in a .warc.gz).';
COMMENT ON COLUMN ingest_rejects.reason IS 'Why, e.g. malformed_json, invalid_utf8, missing_text, empty_text, missing_outlet, unknown_outlet; for WARC records http_status:404, non_html:application/pdf, not_an_article:too_little_text:12_words, not_an_article:index_page:link_share_0.41, undecodable_body, truncated_record, not_an_http_response, body_too_large; several joined by "; ".';
COMMENT ON COLUMN ingest_rejects.raw_record IS 'The record as read (JSON for tabular rows; invalid bytes shown as \xNN escapes; capped at 1,000,000 characters). For WARC records not the body but JSON of where and what it was: warc_offset, warc_record_id, target_uri, warc_date, http_status, content_type, content_length (and location, bytes_read).';
COMMENT ON COLUMN ingest_files.format IS 'jsonl, json, csv, tsv, parquet or warc (gzip is detected separately).';
COMMENT ON COLUMN ingest_files.status IS 'loaded, partial (the file broke off, e.g. a truncated .warc.gz: the records before the break are committed, error says where; the run exits 1) or failed (nothing of it committed).';
