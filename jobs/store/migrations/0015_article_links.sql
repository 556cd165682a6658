-- 0015: the outbound links of web pages (issue 25): a claim sentence holding the anchor text of a link to a known
-- outlet cites that outlet (docs/claims.md).
CREATE TABLE article_links (
    article_id VARCHAR NOT NULL,
    run_id BIGINT NOT NULL,
    link_n BIGINT NOT NULL,
    url VARCHAR NOT NULL,
    host VARCHAR NOT NULL,
    anchor_text VARCHAR NOT NULL,
    PRIMARY KEY (article_id, link_n)
);
COMMENT ON TABLE article_links IS 'Links of an article''s main text to another site (registered domain) than its own, kept at WARC/ARC ingest (jobs/readers/warc.py); tabular input has none. A new version of the article replaces its rows.';
COMMENT ON COLUMN article_links.article_id IS 'The article the link is in.';
COMMENT ON COLUMN article_links.run_id IS 'run_id of the ingest run that loaded this version of the article.';
COMMENT ON COLUMN article_links.link_n IS 'The link''s number in the page, in document order (1-based; each target URL and anchor text once).';
COMMENT ON COLUMN article_links.url IS 'The link''s target: scheme, host, port and path; never its userinfo (user:password@), query string or fragment.';
COMMENT ON COLUMN article_links.host IS 'The target''s host as an outlet key (lower case, Unicode, without www./m. prefixes).';
COMMENT ON COLUMN article_links.anchor_text IS 'The link''s text, whitespace collapsed, as it appears in the main text (the claims stage finds the link''s sentence by it).';
