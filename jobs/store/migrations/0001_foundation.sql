-- 0001: the foundation: runs, ingested files, articles and rejected records.
CREATE SEQUENCE run_id_seq START 1;

CREATE TABLE runs (
    run_id BIGINT PRIMARY KEY DEFAULT nextval('run_id_seq'),
    job VARCHAR NOT NULL,
    parameters JSON,
    code_version VARCHAR NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    status VARCHAR NOT NULL,
    counts JSON,
    error VARCHAR
);
COMMENT ON TABLE runs IS 'One row per job run (ingest, featurize, ...): what ran, with which parameters and code, when, how it ended and what it counted.';
COMMENT ON COLUMN runs.run_id IS 'Run id, increasing; every row a job writes carries it (as load_id or run_id).';
COMMENT ON COLUMN runs.job IS 'Job name, e.g. ingest.';
COMMENT ON COLUMN runs.parameters IS 'The job''s parameters as JSON (paths, options).';
COMMENT ON COLUMN runs.code_version IS 'presstrust version plus git commit (and +dirty) of the code that ran.';
COMMENT ON COLUMN runs.started_at IS 'UTC time the run started.';
COMMENT ON COLUMN runs.finished_at IS 'UTC time the run ended; null while running or if the process was killed.';
COMMENT ON COLUMN runs.status IS 'running, ok, partial (some inputs failed, the rest committed) or failed.';
COMMENT ON COLUMN runs.counts IS 'Row counts as JSON; for ingest read = loaded + updated + duplicates + rejected.';
COMMENT ON COLUMN runs.error IS 'Error messages when status is partial or failed.';

CREATE SEQUENCE file_id_seq START 1;

CREATE TABLE ingest_files (
    file_id BIGINT PRIMARY KEY DEFAULT nextval('file_id_seq'),
    load_id BIGINT NOT NULL,
    path VARCHAR NOT NULL,
    fingerprint VARCHAR NOT NULL,
    size_bytes BIGINT NOT NULL,
    format VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    records_read BIGINT NOT NULL,
    loaded BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    duplicates BIGINT NOT NULL,
    rejected BIGINT NOT NULL,
    error VARCHAR,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL
);
COMMENT ON TABLE ingest_files IS 'One row per input file per ingest run: loaded (committed whole) or failed (nothing of it committed). A file whose fingerprint was loaded before is skipped.';
COMMENT ON COLUMN ingest_files.file_id IS 'Row id.';
COMMENT ON COLUMN ingest_files.load_id IS 'run_id of the ingest run that read the file.';
COMMENT ON COLUMN ingest_files.path IS 'Absolute path of the file when it was read.';
COMMENT ON COLUMN ingest_files.fingerprint IS 'sha256 of the file''s bytes: the same content under another name is the same file.';
COMMENT ON COLUMN ingest_files.size_bytes IS 'File size in bytes.';
COMMENT ON COLUMN ingest_files.format IS 'jsonl, json, csv, tsv or parquet (gzip is detected separately).';
COMMENT ON COLUMN ingest_files.status IS 'loaded or failed.';
COMMENT ON COLUMN ingest_files.records_read IS 'Records read from the file (0 when failed); equals loaded + updated + duplicates + rejected.';
COMMENT ON COLUMN ingest_files.loaded IS 'New articles inserted.';
COMMENT ON COLUMN ingest_files.updated IS 'Existing articles whose title or text changed and were updated.';
COMMENT ON COLUMN ingest_files.duplicates IS 'Records that matched an existing article (same canonical URL, same outlet and id, or same content) with unchanged content, or repeated earlier in the same load.';
COMMENT ON COLUMN ingest_files.rejected IS 'Records written to ingest_rejects.';
COMMENT ON COLUMN ingest_files.error IS 'Why the file failed (unreadable, corrupt, ...).';
COMMENT ON COLUMN ingest_files.started_at IS 'UTC time reading began.';
COMMENT ON COLUMN ingest_files.finished_at IS 'UTC time the file was committed or rolled back.';

CREATE TABLE articles (
    article_id VARCHAR PRIMARY KEY,
    source_id VARCHAR,
    outlet VARCHAR NOT NULL,
    outlet_name VARCHAR,
    url VARCHAR,
    url_canonical VARCHAR,
    title VARCHAR,
    text VARCHAR NOT NULL,
    authors VARCHAR[],
    published_at TIMESTAMP,
    language VARCHAR,
    content_hash VARCHAR NOT NULL,
    content_version INTEGER NOT NULL,
    ingest_issues VARCHAR[],
    source_file VARCHAR NOT NULL,
    record_number BIGINT NOT NULL,
    load_id BIGINT NOT NULL,
    ingested_at TIMESTAMP NOT NULL,
    updated_load_id BIGINT,
    updated_at TIMESTAMP
);
COMMENT ON TABLE articles IS 'One row per distinct article. Identity: canonical URL, else (outlet, source_id), else (outlet, content hash).';
COMMENT ON COLUMN articles.article_id IS 'Stable id: first 16 hex digits of md5 of the identity key, so the same article gets the same id in any database.';
COMMENT ON COLUMN articles.source_id IS 'The corpus''s own id for the record, when it has one.';
COMMENT ON COLUMN articles.outlet IS 'Canonical outlet domain (e.g. nytimes.com, abcnews.go.com): alias file, else the longest host known to the alias or label files, else the registered domain from the offline public-suffix list.';
COMMENT ON COLUMN articles.outlet_name IS 'Human-readable outlet name as given by the corpus, when present.';
COMMENT ON COLUMN articles.url IS 'URL as given by the corpus.';
COMMENT ON COLUMN articles.url_canonical IS 'https, lower-case host without www./m./amp., no fragment, no tracking parameters (utm_*, fbclid, ...), no trailing slash.';
COMMENT ON COLUMN articles.title IS 'Headline.';
COMMENT ON COLUMN articles.text IS 'Article body as scraped (whitespace-trimmed, NUL characters removed, capped at --max-text-chars with an ingest issue).';
COMMENT ON COLUMN articles.authors IS 'Byline names; empty list when the corpus gives none.';
COMMENT ON COLUMN articles.published_at IS 'Publication time in UTC; null when absent, unparseable or implausible (see ingest_issues).';
COMMENT ON COLUMN articles.language IS 'Language code as given by the corpus; null when unknown.';
COMMENT ON COLUMN articles.content_hash IS 'md5 of title and text; a change marks the article for re-featurizing and re-scoring.';
COMMENT ON COLUMN articles.content_version IS '1 when first loaded, +1 each time a later load changed its title or text.';
COMMENT ON COLUMN articles.ingest_issues IS 'Fixes applied while loading, e.g. date_out_of_range:1850-01-01, text_truncated:2500000, outlet_from_url.';
COMMENT ON COLUMN articles.source_file IS 'Path of the file the current version came from.';
COMMENT ON COLUMN articles.record_number IS 'Record number in that file (1-based line, row or record).';
COMMENT ON COLUMN articles.load_id IS 'run_id of the ingest run that first inserted the article.';
COMMENT ON COLUMN articles.ingested_at IS 'UTC time the article was first inserted.';
COMMENT ON COLUMN articles.updated_load_id IS 'run_id of the ingest run that last changed the article; null if never changed.';
COMMENT ON COLUMN articles.updated_at IS 'UTC time of the last change; null if never changed.';

CREATE TABLE ingest_rejects (
    load_id BIGINT NOT NULL,
    source_file VARCHAR NOT NULL,
    record_number BIGINT NOT NULL,
    reason VARCHAR NOT NULL,
    raw_record VARCHAR,
    rejected_at TIMESTAMP NOT NULL
);
COMMENT ON TABLE ingest_rejects IS 'Input records that could not be loaded, kept with the reason; fix the input or the alias file and re-run ingest with --force.';
COMMENT ON COLUMN ingest_rejects.load_id IS 'run_id of the ingest run that rejected the record.';
COMMENT ON COLUMN ingest_rejects.source_file IS 'Path of the input file.';
COMMENT ON COLUMN ingest_rejects.record_number IS 'Record number in the file (1-based line for JSONL, record for CSV, row for Parquet).';
COMMENT ON COLUMN ingest_rejects.reason IS 'Why, e.g. malformed_json, invalid_utf8, missing_text, empty_text, missing_outlet, unknown_outlet; several joined by "; ".';
COMMENT ON COLUMN ingest_rejects.raw_record IS 'The record as read (JSON for tabular rows; invalid bytes shown as \xNN escapes; capped at 1,000,000 characters).';
COMMENT ON COLUMN ingest_rejects.rejected_at IS 'UTC time of rejection.';
