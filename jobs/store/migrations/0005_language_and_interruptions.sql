-- 0005: the language of every article and of every outlet's window (English lexicons score English only);
-- runs record interruptions by a signal.
ALTER TABLE article_features ADD COLUMN language VARCHAR;
COMMENT ON COLUMN article_features.language IS 'Language of the article (ISO 639-1): articles.language when the corpus gave one, else detected from function words (features.language); und = undetermined. Features counted with English lexicons are null when it is not en.';
ALTER TABLE outlet_windows ADD COLUMN n_english BIGINT;
COMMENT ON COLUMN outlet_windows.n_english IS 'Of the window''s articles, those whose language is en (null for windows aggregated before migration 0005).';
ALTER TABLE outlet_windows ADD COLUMN main_language VARCHAR;
COMMENT ON COLUMN outlet_windows.main_language IS 'The most frequent article language in the window (ties: alphabetical first); null for windows aggregated before migration 0005.';
COMMENT ON COLUMN runs.status IS 'running, ok, partial (some inputs failed, the rest committed), failed, or interrupted (SIGINT, SIGTERM or SIGHUP; nothing of the interrupted stage was committed).';
COMMENT ON COLUMN runs.error IS 'Error messages when status is partial, failed or interrupted: the root cause first (a failing rollback or bookkeeping after it is added as a note).';
