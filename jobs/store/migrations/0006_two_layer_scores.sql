-- 0006: the two-layer scorer (issue 9): per-article cues and text contributions stored once, scores that may
-- be withheld (unsupported language), grades that may be withheld (insufficient data) or uncertain.
CREATE TABLE article_cues (
    article_id VARCHAR PRIMARY KEY,
    content_version INTEGER NOT NULL,
    cue_version VARCHAR NOT NULL,
    exclamations_per_1k_chars DOUBLE,
    ellipses_per_1k_chars DOUBLE,
    questions_per_1k_chars DOUBLE,
    cited_outlets VARCHAR[] NOT NULL
);
COMMENT ON TABLE article_cues IS 'Per-article cues of the cue model that the feature pipeline does not compute (scorer.cues), computed once per article version by the score job.';
COMMENT ON COLUMN article_cues.article_id IS 'The article (articles.article_id).';
COMMENT ON COLUMN article_cues.content_version IS 'articles.content_version the cues were computed from (recomputed when the article changes).';
COMMENT ON COLUMN article_cues.cue_version IS 'Version of the cue code and of the outlet-name list it matched (recomputed when it changes).';
COMMENT ON COLUMN article_cues.exclamations_per_1k_chars IS 'Exclamation marks in the body per 1,000 characters (null for an empty body).';
COMMENT ON COLUMN article_cues.ellipses_per_1k_chars IS 'Ellipses (... or …) in the body per 1,000 characters (null for an empty body).';
COMMENT ON COLUMN article_cues.questions_per_1k_chars IS 'Question marks in the body per 1,000 characters (null for an empty body).';
COMMENT ON COLUMN article_cues.cited_outlets IS 'Outlets the article names as a source (according to Reuters, first reported by RIA Novosti, ... told CNN), as canonical domains, in order of first mention; names from data/outlet_aliases.csv.';

CREATE TABLE article_text_scores (
    model_id VARCHAR NOT NULL,
    article_id VARCHAR NOT NULL,
    content_version INTEGER NOT NULL,
    contribution DOUBLE NOT NULL,
    PRIMARY KEY (model_id, article_id)
);
COMMENT ON TABLE article_text_scores IS 'Each article''s linear contribution to its outlet''s text score under one model: the text score of an outlet is the model''s intercept + the mean contribution of its English articles in the window. Computed once per article and model.';
COMMENT ON COLUMN article_text_scores.model_id IS 'The model (models.model_id).';
COMMENT ON COLUMN article_text_scores.article_id IS 'The article (articles.article_id).';
COMMENT ON COLUMN article_text_scores.content_version IS 'articles.content_version it was computed from (recomputed when the article changes).';
COMMENT ON COLUMN article_text_scores.contribution IS 's_i = w . x_i, the text layer''s coefficients times the article''s title TF-IDF vector, on the 0-1 label scale.';

ALTER TABLE outlet_scores ALTER COLUMN score DROP NOT NULL;
ALTER TABLE outlet_scores ALTER COLUMN score_low DROP NOT NULL;
ALTER TABLE outlet_scores ALTER COLUMN score_high DROP NOT NULL;
ALTER TABLE outlet_scores ALTER COLUMN grade DROP NOT NULL;
ALTER TABLE outlet_scores ADD COLUMN grade_confidence VARCHAR;
ALTER TABLE outlet_scores ADD COLUMN text_score DOUBLE;
ALTER TABLE outlet_scores ADD COLUMN cue_score DOUBLE;
ALTER TABLE outlet_scores ADD COLUMN text_weight DOUBLE;
ALTER TABLE outlet_scores ADD COLUMN baseline_score DOUBLE;
ALTER TABLE outlet_scores ADD COLUMN n_english BIGINT;
COMMENT ON COLUMN outlet_scores.score IS 'Reliability score 0-100, higher = more reliable: text_weight x text_score + (1 - text_weight) x cue_score, clipped to 0-100. Null when status is unsupported_language.';
COMMENT ON COLUMN outlet_scores.score_low IS 'Lower end of a ~90% interval: the split-conformal quantile of the model''s cross-validated residuals combined with the score''s sampling standard error (from the per-article text contributions and the cue features'' spread); null without a score.';
COMMENT ON COLUMN outlet_scores.score_high IS 'Upper end of that interval; null without a score.';
COMMENT ON COLUMN outlet_scores.grade IS 'high, mixed or low from the score (thresholds scorer.grades.SCORE_THRESHOLDS, chosen to agree with expert grades; see docs/evaluation.md); null when status is not ok.';
COMMENT ON COLUMN outlet_scores.status IS 'ok; insufficient_data when the outlet has fewer English articles than the model''s min_articles (score shown, no grade); unsupported_language when most of its articles are not in English (no score, no grade).';
COMMENT ON COLUMN outlet_scores.grade_confidence IS 'firm when the whole ~90% interval lies in the grade, uncertain when it spans two or three grades; null without a grade.';
COMMENT ON COLUMN outlet_scores.text_score IS 'The text layer''s score 0-100 (unclipped): its intercept + the mean of the outlet''s stored article contributions (article_text_scores), x 100.';
COMMENT ON COLUMN outlet_scores.cue_score IS 'The cue model''s score 0-100 (unclipped): signed ridge over the outlet''s cue features (unnamed sources, speculation, quotes, punctuation, cited outlets, ...).';
COMMENT ON COLUMN outlet_scores.text_weight IS 'Weight of the text layer in the score (chosen in cross-validation when the model was fitted); the cue model has 1 - text_weight.';
COMMENT ON COLUMN outlet_scores.baseline_score IS 'Score of an outlet at the training means of both layers: baseline_score + the sum of all factors = the unclipped score.';
COMMENT ON COLUMN outlet_scores.n_english IS 'English articles of the outlet in the window (the articles the score is computed from).';
COMMENT ON COLUMN outlet_scores.factors IS 'Every factor of the score, largest first: the text layer (weighted) and each cue feature (weighted by 1 - text_weight), with the outlet''s value and the signed contribution in score points; they sum with baseline_score to the unclipped score.';

CREATE OR REPLACE VIEW score_history AS
SELECT p.published_at, s.*
FROM outlet_scores s JOIN publications p ON p.run_id = s.run_id;
COMMENT ON VIEW score_history IS 'Every published score with its publication time: the history of each outlet.';
COMMENT ON COLUMN score_history.published_at IS 'UTC time the score was published.';
COMMENT ON COLUMN score_history.run_id IS 'run_id of the publishing score run.';
COMMENT ON COLUMN score_history.model_id IS 'The model that scored it.';
COMMENT ON COLUMN score_history.as_of IS 'Last day of the article window.';
COMMENT ON COLUMN score_history.window_days IS 'Length of that window in days.';
COMMENT ON COLUMN score_history.outlet IS 'Canonical outlet domain.';
COMMENT ON COLUMN score_history.n_articles IS 'Articles of the outlet in the window.';
COMMENT ON COLUMN score_history.score IS 'Reliability score 0-100 (null: unsupported_language).';
COMMENT ON COLUMN score_history.score_low IS 'Lower end of the ~90% interval.';
COMMENT ON COLUMN score_history.score_high IS 'Upper end of the ~90% interval.';
COMMENT ON COLUMN score_history.grade IS 'high, mixed or low; null when status is not ok.';
COMMENT ON COLUMN score_history.status IS 'ok, insufficient_data or unsupported_language.';
COMMENT ON COLUMN score_history.factors IS 'Factors of the score with signed contributions in score points.';
COMMENT ON COLUMN score_history.label_score IS 'The outlet''s label (0-1), when it has one.';
COMMENT ON COLUMN score_history.grade_confidence IS 'firm or uncertain (the interval spans two grades).';
COMMENT ON COLUMN score_history.text_score IS 'The text layer''s score 0-100.';
COMMENT ON COLUMN score_history.cue_score IS 'The cue model''s score 0-100.';
COMMENT ON COLUMN score_history.text_weight IS 'Weight of the text layer in the score.';
COMMENT ON COLUMN score_history.baseline_score IS 'Score of an outlet at the training means.';
COMMENT ON COLUMN score_history.n_english IS 'English articles of the outlet in the window.';

CREATE OR REPLACE VIEW latest_scores AS
SELECT s.outlet, s.score, s.score_low, s.score_high, s.grade, s.grade_confidence, s.status, s.n_articles,
       s.n_english, s.text_score, s.cue_score, s.text_weight, s.baseline_score, s.factors, s.label_score,
       s.as_of, s.window_days, s.model_id, s.run_id, p.published_at
FROM outlet_scores s JOIN publications p ON p.run_id = s.run_id
WHERE s.run_id = (SELECT max(run_id) FROM publications);
COMMENT ON VIEW latest_scores IS 'The scores of the latest publication: one row per outlet.';
COMMENT ON COLUMN latest_scores.outlet IS 'Canonical outlet domain.';
COMMENT ON COLUMN latest_scores.score IS 'Reliability score 0-100, higher = more reliable (null: unsupported_language).';
COMMENT ON COLUMN latest_scores.score_low IS 'Lower end of the ~90% interval.';
COMMENT ON COLUMN latest_scores.score_high IS 'Upper end of the ~90% interval.';
COMMENT ON COLUMN latest_scores.grade IS 'high, mixed or low; null when status is not ok.';
COMMENT ON COLUMN latest_scores.grade_confidence IS 'firm, or uncertain when the ~90% interval spans two grades.';
COMMENT ON COLUMN latest_scores.status IS 'ok, insufficient_data (too few English articles: no grade) or unsupported_language (no score).';
COMMENT ON COLUMN latest_scores.n_articles IS 'Articles of the outlet in the window.';
COMMENT ON COLUMN latest_scores.n_english IS 'English articles of the outlet in the window (what the score is computed from).';
COMMENT ON COLUMN latest_scores.text_score IS 'The text layer''s score 0-100.';
COMMENT ON COLUMN latest_scores.cue_score IS 'The cue model''s score 0-100.';
COMMENT ON COLUMN latest_scores.text_weight IS 'Weight of the text layer in the score (the cue model has 1 - text_weight).';
COMMENT ON COLUMN latest_scores.baseline_score IS 'Score of an outlet at the training means: baseline + factors = the unclipped score.';
COMMENT ON COLUMN latest_scores.factors IS 'Every factor with its signed contribution in score points, largest first.';
COMMENT ON COLUMN latest_scores.label_score IS 'The outlet''s label (0-1), when it has one.';
COMMENT ON COLUMN latest_scores.as_of IS 'Last day of the article window.';
COMMENT ON COLUMN latest_scores.window_days IS 'Length of that window in days.';
COMMENT ON COLUMN latest_scores.model_id IS 'The model that scored it.';
COMMENT ON COLUMN latest_scores.run_id IS 'run_id of the publishing run.';
COMMENT ON COLUMN latest_scores.published_at IS 'UTC time of publication.';
