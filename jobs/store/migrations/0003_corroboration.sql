-- 0003: stories across outlets, and each article's place in its story.
CREATE TABLE stories (
    story_id VARCHAR PRIMARY KEY,
    undated BOOLEAN NOT NULL,
    first_published_at TIMESTAMP,
    last_published_at TIMESTAMP,
    n_articles BIGINT NOT NULL,
    n_outlets BIGINT NOT NULL,
    n_independent_outlets BIGINT NOT NULL,
    run_id BIGINT NOT NULL
);
COMMENT ON TABLE stories IS 'Stories: articles on the same event across outlets, clustered within a sliding time window (docs/corroboration.md). story_id is stable while the story''s earliest article stays the same.';
COMMENT ON COLUMN stories.story_id IS 's_ followed by the article_id of the story''s earliest article.';
COMMENT ON COLUMN stories.undated IS 'A story of undated articles, matched on text alone within their corpus (source file).';
COMMENT ON COLUMN stories.first_published_at IS 'Publication time of its earliest article (UTC); null for undated stories.';
COMMENT ON COLUMN stories.last_published_at IS 'Publication time of its latest article (UTC).';
COMMENT ON COLUMN stories.n_articles IS 'Articles in the story.';
COMMENT ON COLUMN stories.n_outlets IS 'Distinct outlets with an article in the story.';
COMMENT ON COLUMN stories.n_independent_outlets IS 'Distinct outlets with an article that is not a near-copy of another article: independent reports.';
COMMENT ON COLUMN stories.run_id IS 'run_id of the corroborate run that last wrote the story.';

CREATE TABLE story_articles (
    article_id VARCHAR PRIMARY KEY,
    story_id VARCHAR NOT NULL,
    outlet VARCHAR NOT NULL,
    published_at TIMESTAMP,
    undated BOOLEAN NOT NULL,
    n_corroborating_outlets BIGINT NOT NULL,
    is_first_report BOOLEAN,
    copy_of VARCHAR,
    content_hash VARCHAR NOT NULL,
    run_id BIGINT NOT NULL
);
COMMENT ON TABLE story_articles IS 'Each clustered article''s story and corroboration: how many independent outlets confirm it, whether it came first, whether it is a near-copy.';
COMMENT ON COLUMN story_articles.article_id IS 'The article (articles.article_id).';
COMMENT ON COLUMN story_articles.story_id IS 'Its story (stories.story_id).';
COMMENT ON COLUMN story_articles.outlet IS 'The article''s outlet.';
COMMENT ON COLUMN story_articles.published_at IS 'The article''s publication time (UTC); null when undated.';
COMMENT ON COLUMN story_articles.undated IS 'The article has no date and was matched on text alone within its corpus.';
COMMENT ON COLUMN story_articles.n_corroborating_outlets IS 'Independent outlets other than its own in the same story (near-copies do not count; several outlets copying one origin count once).';
COMMENT ON COLUMN story_articles.is_first_report IS 'The article is the story''s earliest (ties included); null when undated.';
COMMENT ON COLUMN story_articles.copy_of IS 'article_id of the earliest version this article nearly copies (shares most word 5-gram shingles with), else null.';
COMMENT ON COLUMN story_articles.content_hash IS 'articles.content_hash when clustered; a changed article is re-clustered.';
COMMENT ON COLUMN story_articles.run_id IS 'run_id of the corroborate run that last wrote the row.';
