-- 0009: article texts move out of DuckDB into immutable, compressed Parquet files beside the database
-- (jobs/textstore.py). articles becomes a view over article_meta (every other column) and those files.
-- The data steps run in Python (jobs/db.py, jobs/textstore.py), because only the running code knows the
-- folder: before this migration's transaction, the old table's texts are written to one Parquet file (a
-- kill leaves it unregistered: removed by the next run); inside it, after this SQL, that file is registered
-- and the old rows' metadata moved to article_meta, and the old table is dropped.
CREATE SEQUENCE text_file_id_seq START 1;

CREATE TABLE text_files (
    text_file_id BIGINT PRIMARY KEY,
    load_id BIGINT NOT NULL,
    path VARCHAR NOT NULL,
    n_rows BIGINT NOT NULL,
    size_bytes BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
COMMENT ON TABLE text_files IS 'Immutable Parquet files (zstd) holding article texts (columns article_id, content_version, text), one or more per ingested file, in <database name>.texts/ beside the database. Written before the load that registers them commits; never changed or deleted while registered.';
COMMENT ON COLUMN text_files.text_file_id IS 'File id (the t<id> of the file name).';
COMMENT ON COLUMN text_files.load_id IS 'run_id of the ingest run (or migration) that wrote the file.';
COMMENT ON COLUMN text_files.path IS 'Absolute path of the file; re-pointed by the next writing run when the database folder was moved with its .texts folder.';
COMMENT ON COLUMN text_files.n_rows IS 'Article texts in the file.';
COMMENT ON COLUMN text_files.size_bytes IS 'File size in bytes.';
COMMENT ON COLUMN text_files.created_at IS 'UTC time the file was written.';

CREATE TABLE article_meta (
    article_id VARCHAR PRIMARY KEY,
    source_id VARCHAR,
    outlet VARCHAR NOT NULL,
    outlet_name VARCHAR,
    url VARCHAR,
    url_canonical VARCHAR,
    title VARCHAR,
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
    updated_at TIMESTAMP,
    text_file_id BIGINT
);
COMMENT ON TABLE article_meta IS 'Every column of articles except text, one row per distinct article; query the articles view instead, which adds the text from the text file of the current version.';
COMMENT ON COLUMN article_meta.article_id IS 'As articles.article_id.';
COMMENT ON COLUMN article_meta.source_id IS 'As articles.source_id.';
COMMENT ON COLUMN article_meta.outlet IS 'As articles.outlet.';
COMMENT ON COLUMN article_meta.outlet_name IS 'As articles.outlet_name.';
COMMENT ON COLUMN article_meta.url IS 'As articles.url.';
COMMENT ON COLUMN article_meta.url_canonical IS 'As articles.url_canonical.';
COMMENT ON COLUMN article_meta.title IS 'As articles.title.';
COMMENT ON COLUMN article_meta.authors IS 'As articles.authors.';
COMMENT ON COLUMN article_meta.published_at IS 'As articles.published_at.';
COMMENT ON COLUMN article_meta.language IS 'As articles.language.';
COMMENT ON COLUMN article_meta.content_hash IS 'As articles.content_hash.';
COMMENT ON COLUMN article_meta.content_version IS 'As articles.content_version; with article_id, the key of the text in its text file.';
COMMENT ON COLUMN article_meta.ingest_issues IS 'As articles.ingest_issues.';
COMMENT ON COLUMN article_meta.source_file IS 'As articles.source_file.';
COMMENT ON COLUMN article_meta.record_number IS 'As articles.record_number.';
COMMENT ON COLUMN article_meta.load_id IS 'As articles.load_id.';
COMMENT ON COLUMN article_meta.ingested_at IS 'As articles.ingested_at.';
COMMENT ON COLUMN article_meta.updated_load_id IS 'As articles.updated_load_id.';
COMMENT ON COLUMN article_meta.updated_at IS 'As articles.updated_at.';
COMMENT ON COLUMN article_meta.text_file_id IS 'The text file (text_files.text_file_id) holding the current version''s text.';

ALTER TABLE articles RENAME TO articles_0008;

-- Rewritten with the list of registered files whenever it changes (jobs/textstore.py, refresh_view).
CREATE MACRO article_texts() AS TABLE
SELECT NULL::VARCHAR AS article_id, NULL::INTEGER AS content_version, NULL::VARCHAR AS text WHERE false;

CREATE VIEW articles AS
SELECT m.article_id, m.source_id, m.outlet, m.outlet_name, m.url, m.url_canonical, m.title, t.text, m.authors,
       m.published_at, m.language, m.content_hash, m.content_version, m.ingest_issues, m.source_file,
       m.record_number, m.load_id, m.ingested_at, m.updated_load_id, m.updated_at
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
COMMENT ON COLUMN articles.record_number IS 'Record number in that file (1-based line, row or record).';
COMMENT ON COLUMN articles.load_id IS 'run_id of the ingest run that first inserted the article.';
COMMENT ON COLUMN articles.ingested_at IS 'UTC time the article was first inserted.';
COMMENT ON COLUMN articles.updated_load_id IS 'run_id of the ingest run that last changed the article; null if never changed.';
COMMENT ON COLUMN articles.updated_at IS 'UTC time of the last change; null if never changed.';
