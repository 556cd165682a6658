-- 0002: per-article features with their evidence, removed boilerplate, and per-outlet aggregates.
CREATE TABLE article_features (
    article_id VARCHAR PRIMARY KEY,
    content_hash VARCHAR NOT NULL,
    feature_version VARCHAR NOT NULL,
    run_id BIGINT NOT NULL,
    computed_at TIMESTAMP NOT NULL,
    words_n BIGINT,
    sentences_n BIGINT,
    attributions_n BIGINT,
    named_attributions_n BIGINT,
    unnamed_attributions_n BIGINT,
    unnamed_source_share DOUBLE,
    unnamed_sources_per_1k_words DOUBLE,
    speculative_sentences_n BIGINT,
    speculative_sentence_share DOUBLE,
    hedges_per_1k_words DOUBLE,
    speculation_weighted_per_1k_words DOUBLE,
    direct_quotes_per_1k_words DOUBLE,
    numbers_per_1k_words DOUBLE,
    bias_lexicon_per_1k_words DOUBLE,
    first_second_person_per_1k_words DOUBLE,
    title_question BOOLEAN,
    title_exclamation BOOLEAN,
    title_all_caps_words_n BIGINT,
    title_superlatives_n BIGINT,
    byline_present BOOLEAN
);
COMMENT ON TABLE article_features IS 'One row per featurized article: journalistic signals computed from its text after boilerplate removal (definitions in docs/features.md). Recomputed when the article''s content_hash or the feature_version changes.';
COMMENT ON COLUMN article_features.article_id IS 'The article (articles.article_id).';
COMMENT ON COLUMN article_features.content_hash IS 'articles.content_hash the features were computed from; differs from the article''s current hash when it changed since.';
COMMENT ON COLUMN article_features.feature_version IS 'Fingerprint of the feature functions'' versions, schemas and lexicon files that produced the row.';
COMMENT ON COLUMN article_features.run_id IS 'run_id of the featurize run that wrote the row.';
COMMENT ON COLUMN article_features.computed_at IS 'UTC time the row was written.';
COMMENT ON COLUMN article_features.words_n IS 'Words in the article body after boilerplate removal.';
COMMENT ON COLUMN article_features.sentences_n IS 'Sentences in the body after boilerplate removal (abbreviation-aware splitter).';
COMMENT ON COLUMN article_features.attributions_n IS 'Attributions of claims to sources (named + unnamed).';
COMMENT ON COLUMN article_features.named_attributions_n IS 'Attributions to identifiable sources (a named person, or an organisation speaking officially).';
COMMENT ON COLUMN article_features.unnamed_attributions_n IS 'Attributions to unnamed or unidentifiable sources ("sources said", "a senior official", "critics say", "reportedly").';
COMMENT ON COLUMN article_features.unnamed_source_share IS 'unnamed_attributions_n / attributions_n, in [0, 1]; null when the article has no attribution.';
COMMENT ON COLUMN article_features.unnamed_sources_per_1k_words IS 'Unnamed-source attributions per 1,000 words; null when no words.';
COMMENT ON COLUMN article_features.speculative_sentences_n IS 'Sentences with a speculation or hedging cue (modal speculation, hedges, allegedly, reportedly, ...).';
COMMENT ON COLUMN article_features.speculative_sentence_share IS 'speculative_sentences_n / sentences_n, in [0, 1]; null when no sentences.';
COMMENT ON COLUMN article_features.hedges_per_1k_words IS 'Hedge cues per 1,000 words.';
COMMENT ON COLUMN article_features.speculation_weighted_per_1k_words IS 'Speculation cues weighted by uncertainty (pattern epistemic-modality weights) per 1,000 words.';
COMMENT ON COLUMN article_features.direct_quotes_per_1k_words IS 'Direct quotations per 1,000 words (depends on how the text was scraped: see docs/features.md).';
COMMENT ON COLUMN article_features.numbers_per_1k_words IS 'Numbers and statistics per 1,000 words.';
COMMENT ON COLUMN article_features.bias_lexicon_per_1k_words IS 'Words of the Recasens et al. (2013) bias lexicon per 1,000 words.';
COMMENT ON COLUMN article_features.first_second_person_per_1k_words IS 'First- and second-person pronouns per 1,000 words (outside quotes where detectable).';
COMMENT ON COLUMN article_features.title_question IS 'The headline contains a question mark.';
COMMENT ON COLUMN article_features.title_exclamation IS 'The headline contains an exclamation mark.';
COMMENT ON COLUMN article_features.title_all_caps_words_n IS 'All-capitals words in the headline (acronyms excluded where known).';
COMMENT ON COLUMN article_features.title_superlatives_n IS 'Superlatives in the headline.';
COMMENT ON COLUMN article_features.byline_present IS 'The article names at least one author.';

CREATE TABLE article_evidence (
    article_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    cue VARCHAR NOT NULL,
    cue_start BIGINT NOT NULL,
    cue_end BIGINT NOT NULL,
    sentence_start BIGINT NOT NULL,
    sentence_end BIGINT NOT NULL,
    sentence VARCHAR NOT NULL,
    run_id BIGINT NOT NULL
);
COMMENT ON TABLE article_evidence IS 'The sentences behind the features: one row per unnamed-source attribution and per speculative sentence. Offsets are character positions in articles.text (0-based, end exclusive).';
COMMENT ON COLUMN article_evidence.article_id IS 'The article (articles.article_id).';
COMMENT ON COLUMN article_evidence.kind IS 'unnamed_source or speculation.';
COMMENT ON COLUMN article_evidence.cue IS 'The cue that fired, as it appears in the text.';
COMMENT ON COLUMN article_evidence.cue_start IS 'Start of the cue in articles.text (characters, 0-based).';
COMMENT ON COLUMN article_evidence.cue_end IS 'End of the cue in articles.text (exclusive).';
COMMENT ON COLUMN article_evidence.sentence_start IS 'Start of the sentence in articles.text.';
COMMENT ON COLUMN article_evidence.sentence_end IS 'End of the sentence in articles.text (exclusive).';
COMMENT ON COLUMN article_evidence.sentence IS 'The sentence text.';
COMMENT ON COLUMN article_evidence.run_id IS 'run_id of the featurize run that wrote the row.';

CREATE TABLE boilerplate_removed (
    article_id VARCHAR NOT NULL,
    line_start BIGINT NOT NULL,
    line_end BIGINT NOT NULL,
    line VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    run_id BIGINT NOT NULL
);
COMMENT ON TABLE boilerplate_removed IS 'Lines removed from articles before any feature was computed (page furniture: footers, photo credits, share prompts, lines an outlet repeats across its articles), kept for inspection.';
COMMENT ON COLUMN boilerplate_removed.article_id IS 'The article (articles.article_id).';
COMMENT ON COLUMN boilerplate_removed.line_start IS 'Start of the line in articles.text (characters, 0-based).';
COMMENT ON COLUMN boilerplate_removed.line_end IS 'End of the line in articles.text (exclusive).';
COMMENT ON COLUMN boilerplate_removed.line IS 'The removed line.';
COMMENT ON COLUMN boilerplate_removed.reason IS 'Why: outlet_repeated (the outlet repeats it across its articles), title, or the name of the generic pattern that matched.';
COMMENT ON COLUMN boilerplate_removed.run_id IS 'run_id of the featurize run that wrote the row.';

CREATE TABLE outlet_boilerplate (
    outlet VARCHAR NOT NULL,
    line_norm VARCHAR NOT NULL,
    n_articles BIGINT NOT NULL,
    share DOUBLE NOT NULL,
    run_id BIGINT NOT NULL
);
COMMENT ON TABLE outlet_boilerplate IS 'Lines each outlet repeats across its recent articles (its page template), as last computed by featurize; such lines are removed before features are computed.';
COMMENT ON COLUMN outlet_boilerplate.outlet IS 'Canonical outlet domain.';
COMMENT ON COLUMN outlet_boilerplate.line_norm IS 'The normalised line (lower case, digits and whitespace folded).';
COMMENT ON COLUMN outlet_boilerplate.n_articles IS 'Articles of the outlet that contain the line (among those examined).';
COMMENT ON COLUMN outlet_boilerplate.share IS 'n_articles / articles of the outlet examined, in [0, 1].';
COMMENT ON COLUMN outlet_boilerplate.run_id IS 'run_id of the featurize run that computed it.';

CREATE TABLE outlet_windows (
    as_of DATE NOT NULL,
    window_days INTEGER NOT NULL,
    undated VARCHAR NOT NULL,
    outlet VARCHAR NOT NULL,
    n_articles BIGINT NOT NULL,
    n_undated BIGINT NOT NULL,
    first_published_at TIMESTAMP,
    last_published_at TIMESTAMP,
    run_id BIGINT NOT NULL
);
COMMENT ON TABLE outlet_windows IS 'Per outlet, the featurized articles in an aggregation window: the window_days days up to and including as_of, plus undated articles when undated = include.';
COMMENT ON COLUMN outlet_windows.as_of IS 'Last day of the window.';
COMMENT ON COLUMN outlet_windows.window_days IS 'Window length in days.';
COMMENT ON COLUMN outlet_windows.undated IS 'include (undated articles count in every window) or exclude.';
COMMENT ON COLUMN outlet_windows.outlet IS 'Canonical outlet domain.';
COMMENT ON COLUMN outlet_windows.n_articles IS 'Articles in the window (dated and, if included, undated).';
COMMENT ON COLUMN outlet_windows.n_undated IS 'Of which undated.';
COMMENT ON COLUMN outlet_windows.first_published_at IS 'Earliest publication time among the dated articles.';
COMMENT ON COLUMN outlet_windows.last_published_at IS 'Latest publication time among the dated articles.';
COMMENT ON COLUMN outlet_windows.run_id IS 'run_id of the aggregate run that wrote the row.';

CREATE TABLE outlet_features (
    as_of DATE NOT NULL,
    window_days INTEGER NOT NULL,
    undated VARCHAR NOT NULL,
    outlet VARCHAR NOT NULL,
    feature VARCHAR NOT NULL,
    n BIGINT NOT NULL,
    mean DOUBLE,
    median DOUBLE,
    sd DOUBLE,
    ci_low DOUBLE,
    ci_high DOUBLE,
    shrunk_mean DOUBLE,
    shrinkage DOUBLE,
    run_id BIGINT NOT NULL
);
COMMENT ON TABLE outlet_features IS 'Per outlet and feature, over the articles of a window (see outlet_windows): mean, median and a confidence interval over articles, and an empirical-Bayes estimate shrunk toward the mean of all outlets. Long format: one row per outlet and feature. A rerun for the same (as_of, window_days, undated) replaces its rows.';
COMMENT ON COLUMN outlet_features.as_of IS 'Last day of the window.';
COMMENT ON COLUMN outlet_features.window_days IS 'Window length in days.';
COMMENT ON COLUMN outlet_features.undated IS 'include or exclude undated articles.';
COMMENT ON COLUMN outlet_features.outlet IS 'Canonical outlet domain.';
COMMENT ON COLUMN outlet_features.feature IS 'Feature name: an article_features column (booleans as shares of articles), any_unnamed_source_share (share of articles with at least one unnamed-source attribution), or a corroboration share.';
COMMENT ON COLUMN outlet_features.n IS 'Articles (or stories, for corroboration) with a non-null value.';
COMMENT ON COLUMN outlet_features.mean IS 'Mean over those articles.';
COMMENT ON COLUMN outlet_features.median IS 'Median over those articles.';
COMMENT ON COLUMN outlet_features.sd IS 'Standard deviation over those articles (n - 1 denominator); null when n < 2.';
COMMENT ON COLUMN outlet_features.ci_low IS 'Lower end of a normal ~90% confidence interval of the mean (clipped to [0, 1] for shares); null when n < 2.';
COMMENT ON COLUMN outlet_features.ci_high IS 'Upper end of that interval.';
COMMENT ON COLUMN outlet_features.shrunk_mean IS 'Empirical-Bayes estimate: the mean shrunk toward the mean of all outlets by the share of its variance that is sampling noise.';
COMMENT ON COLUMN outlet_features.shrinkage IS 'How far it was shrunk, in [0, 1]: 0 = the outlet''s own mean, 1 = the population mean.';
COMMENT ON COLUMN outlet_features.run_id IS 'run_id of the run that wrote the row.';
