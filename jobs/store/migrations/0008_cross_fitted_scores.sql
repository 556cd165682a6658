-- 0008: training outlets are scored out of fold (issue 9). A model now carries five cross-fitted fold
-- models; each training outlet's published score comes from the fold model fitted without its label, so
-- score and label can be compared honestly. Rows published before this migration have cross_fitted null.
ALTER TABLE outlet_scores ADD COLUMN cross_fitted BOOLEAN;
COMMENT ON COLUMN outlet_scores.cross_fitted IS 'true when the outlet is one of the model''s training outlets and its score comes from the cross-fitted fold model that was fitted without its label (out of fold); false when the published model scored it (the outlet has no label or too few articles to train on); null for rows published before migration 0008.';
COMMENT ON COLUMN outlet_scores.text_weight IS 'Weight of the text layer in the score (0.5 since migration 0008: scorer.two_layer.PUBLISHED_WEIGHT; before, chosen in cross-validation); the cue model has 1 - text_weight.';
COMMENT ON COLUMN outlet_scores.baseline_score IS 'Score of an outlet at the training means of both layers of the model that scored it (the published model, or the cross-fitted fold model for a training outlet): baseline_score + the sum of all factors = the unclipped score.';
COMMENT ON COLUMN article_text_scores.model_id IS 'The model (models.model_id), or one of its cross-fitted fold models (models.model_id || ''/fold'' || k), which scores the training outlets of fold k.';
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
COMMENT ON COLUMN score_history.text_weight IS 'Weight of the text layer in the score (0.5 since migration 0008).';
COMMENT ON COLUMN score_history.baseline_score IS 'Score of an outlet at the training means.';
COMMENT ON COLUMN score_history.n_english IS 'English articles of the outlet in the window.';

CREATE OR REPLACE VIEW latest_scores AS
SELECT s.outlet, s.score, s.score_low, s.score_high, s.grade, s.grade_confidence, s.status, s.n_articles,
       s.n_english, s.text_score, s.cue_score, s.text_weight, s.baseline_score, s.cross_fitted, s.factors, s.label_score,
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
COMMENT ON COLUMN latest_scores.text_weight IS 'Weight of the text layer in the score (0.5; the cue model has 1 - text_weight).';
COMMENT ON COLUMN latest_scores.baseline_score IS 'Score of an outlet at the training means of the model that scored it: baseline + factors = the unclipped score.';
COMMENT ON COLUMN latest_scores.factors IS 'Every factor with its signed contribution in score points, largest first.';
COMMENT ON COLUMN latest_scores.label_score IS 'The outlet''s label (0-1), when it has one.';
COMMENT ON COLUMN latest_scores.as_of IS 'Last day of the article window.';
COMMENT ON COLUMN latest_scores.window_days IS 'Length of that window in days.';
COMMENT ON COLUMN latest_scores.model_id IS 'The model that scored it.';
COMMENT ON COLUMN latest_scores.run_id IS 'run_id of the publishing run.';
COMMENT ON COLUMN latest_scores.published_at IS 'UTC time of publication.';
COMMENT ON COLUMN latest_scores.cross_fitted IS 'true when the score of this training outlet comes from a fold model fitted without its label (out of fold).';
COMMENT ON COLUMN score_history.cross_fitted IS 'true when the score of this training outlet comes from a fold model fitted without its label (out of fold).';
