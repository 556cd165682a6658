-- 0013: claims traced to their origin and checked for independent confirmation (issue 25; docs/claims.md).
CREATE TABLE claim_articles (
    article_id VARCHAR PRIMARY KEY,
    content_hash VARCHAR NOT NULL,
    claims_n BIGINT NOT NULL,
    run_id BIGINT NOT NULL
);
COMMENT ON TABLE claim_articles IS 'Articles whose claims were extracted, with the content they were extracted from (so an article without claims is not extracted again, and a changed one is).';
COMMENT ON COLUMN claim_articles.article_id IS 'The article.';
COMMENT ON COLUMN claim_articles.content_hash IS 'article_meta.content_hash of the version the claims were extracted from.';
COMMENT ON COLUMN claim_articles.claims_n IS 'Claim sentences found (0: none).';
COMMENT ON COLUMN claim_articles.run_id IS 'run_id of the claims run that extracted them.';

CREATE TABLE claims (
    article_id VARCHAR NOT NULL,
    sentence_no BIGINT NOT NULL,
    "start" BIGINT NOT NULL,
    "end" BIGINT NOT NULL,
    sentence VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    "source" VARCHAR,
    source_phrase VARCHAR,
    unnamed BOOLEAN NOT NULL,
    speculative BOOLEAN NOT NULL,
    cited_outlet VARCHAR,
    origin_outlet VARCHAR NOT NULL,
    origin VARCHAR NOT NULL,
    confirming_outlets_n BIGINT NOT NULL,
    best_cosine FLOAT,
    confirmed_by VARCHAR,
    run_id BIGINT NOT NULL,
    PRIMARY KEY (article_id, sentence_no)
);
COMMENT ON TABLE claims IS 'Sentences that carry a claim worth checking (the lead, attributed and speculative statements), once per article, with the outlet the claim is traced to and whether an independent outlet states it within the matching window (features.claims; docs/claims.md).';
COMMENT ON COLUMN claims.article_id IS 'The article the claim is in.';
COMMENT ON COLUMN claims.sentence_no IS 'Sentence index in the article (0-based, boilerplate lines excluded, as in article_evidence).';
COMMENT ON COLUMN claims."start" IS 'Character offset of the sentence in the article text.';
COMMENT ON COLUMN claims."end" IS 'Character offset just past the sentence.';
COMMENT ON COLUMN claims.sentence IS 'The sentence as it appears in the text.';
COMMENT ON COLUMN claims.kind IS 'lead (the first sentence), attributed (a named or unnamed attribution) or speculative (a speculation cue): the first of these that holds.';
COMMENT ON COLUMN claims."source" IS 'named, unnamed or mixed (both) attribution of the sentence; null when it attributes nothing (../shared/specs/attribution-and-speculation.md).';
COMMENT ON COLUMN claims.source_phrase IS 'Who the sentence says it comes from: its first unnamed source phrase, else its first named one; null when it attributes nothing.';
COMMENT ON COLUMN claims.unnamed IS 'The sentence has an unnamed source (source unnamed or mixed).';
COMMENT ON COLUMN claims.speculative IS 'The sentence has a speculation cue (features.speculation).';
COMMENT ON COLUMN claims.cited_outlet IS 'Canonical domain of the outlet the sentence names as its source ("first reported by", "according to", "citing", "X reported", "told X"), from the outlet names of jobs/data/outlet_aliases.csv; null if none.';
COMMENT ON COLUMN claims.origin_outlet IS 'The outlet the claim is traced to: the outlet the sentence cites, else the first outlet the article cites, else the outlet of its story''s first report when that is another outlet, else the article''s own outlet.';
COMMENT ON COLUMN claims.origin IS 'Which rule gave origin_outlet: sentence, article, story or own.';
COMMENT ON COLUMN claims.confirming_outlets_n IS 'Independent outlets (another outlet, another owner in jobs/data/outlet_owners.csv, not a near-copy) with a claim sentence whose vector is within the matching threshold (cosine >= 0.66) within +-3 days; 0 = unconfirmed in the corpus.';
COMMENT ON COLUMN claims.best_cosine IS 'Highest cosine of the claim with a claim of an independent candidate article (story-mates and the nearest articles of the window); null when there was no candidate.';
COMMENT ON COLUMN claims.confirmed_by IS 'article_id of the best-matching independent claim when it is a match, else null.';
COMMENT ON COLUMN claims.run_id IS 'run_id of the claims run that last wrote the row.';
