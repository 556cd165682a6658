-- 0004: fitted models, published outlet scores, and the views researchers read.
CREATE TABLE models (
    model_id VARCHAR PRIMARY KEY,
    run_id BIGINT NOT NULL,
    trained_at TIMESTAMP NOT NULL,
    label_file VARCHAR NOT NULL,
    label_sha256 VARCHAR NOT NULL,
    as_of DATE NOT NULL,
    window_days INTEGER NOT NULL,
    undated VARCHAR NOT NULL,
    min_articles INTEGER NOT NULL,
    training_outlets VARCHAR[] NOT NULL,
    features VARCHAR[] NOT NULL,
    feature_version VARCHAR NOT NULL,
    estimator VARCHAR NOT NULL,
    hyperparameters JSON NOT NULL,
    cv_metrics JSON NOT NULL,
    code_version VARCHAR NOT NULL,
    parameters JSON NOT NULL
);
COMMENT ON TABLE models IS 'Fitted scorers, persisted as data (never a pickle): what they were trained on and how well they did in outlet-grouped cross-validation.';
COMMENT ON COLUMN models.model_id IS 'm_ + the first 16 hex digits of sha256 of the parameters: the same fit gives the same id.';
COMMENT ON COLUMN models.run_id IS 'run_id of the fit run.';
COMMENT ON COLUMN models.trained_at IS 'UTC time of the fit.';
COMMENT ON COLUMN models.label_file IS 'Path of the label file the model was fitted on.';
COMMENT ON COLUMN models.label_sha256 IS 'sha256 of that file''s bytes.';
COMMENT ON COLUMN models.as_of IS 'Last day of the feature window used for training.';
COMMENT ON COLUMN models.window_days IS 'Length of that window in days.';
COMMENT ON COLUMN models.undated IS 'Whether undated articles were in the window (include or exclude).';
COMMENT ON COLUMN models.min_articles IS 'Labelled outlets needed at least this many articles in the window to be trained on.';
COMMENT ON COLUMN models.training_outlets IS 'The labelled outlets it was trained on.';
COMMENT ON COLUMN models.features IS 'The per-outlet features it reads, in order.';
COMMENT ON COLUMN models.feature_version IS 'article_features.feature_version of the features it was trained on.';
COMMENT ON COLUMN models.estimator IS 'The regressor (e.g. signed_ridge: ridge whose coefficients keep each cue''s documented direction).';
COMMENT ON COLUMN models.hyperparameters IS 'Its parameters as JSON.';
COMMENT ON COLUMN models.cv_metrics IS 'Outlet-grouped cross-validation metrics on the training outlets (Spearman, MAE, interval coverage, ...).';
COMMENT ON COLUMN models.code_version IS 'presstrust version and git commit that fitted it.';
COMMENT ON COLUMN models.parameters IS 'The fitted model as data: imputer values, transform quantiles, scaler, coefficients, conformal quantile.';

CREATE TABLE outlet_scores (
    run_id BIGINT NOT NULL,
    model_id VARCHAR NOT NULL,
    as_of DATE NOT NULL,
    window_days INTEGER NOT NULL,
    outlet VARCHAR NOT NULL,
    n_articles BIGINT NOT NULL,
    score DOUBLE NOT NULL,
    score_low DOUBLE NOT NULL,
    score_high DOUBLE NOT NULL,
    grade VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    factors STRUCT(feature VARCHAR, value DOUBLE, contribution DOUBLE)[],
    label_score DOUBLE
);
COMMENT ON TABLE outlet_scores IS 'Every published score, kept for history: one row per outlet per publishing run. Read latest_scores for the current ones.';
COMMENT ON COLUMN outlet_scores.run_id IS 'run_id of the score run that published the row (see publications).';
COMMENT ON COLUMN outlet_scores.model_id IS 'The model that scored it (models.model_id).';
COMMENT ON COLUMN outlet_scores.as_of IS 'Last day of the article window scored.';
COMMENT ON COLUMN outlet_scores.window_days IS 'Length of that window in days.';
COMMENT ON COLUMN outlet_scores.outlet IS 'Canonical outlet domain.';
COMMENT ON COLUMN outlet_scores.n_articles IS 'Articles of the outlet in the window.';
COMMENT ON COLUMN outlet_scores.score IS 'Reliability score 0-100, higher = more reliable (100 x the predicted label score, clipped).';
COMMENT ON COLUMN outlet_scores.score_low IS 'Lower end of a ~90% interval: model error (split-conformal over cross-validation residuals) combined with sampling error (bootstrap over the outlet''s articles).';
COMMENT ON COLUMN outlet_scores.score_high IS 'Upper end of that interval.';
COMMENT ON COLUMN outlet_scores.grade IS 'high (score >= 60), mixed (>= 30) or low.';
COMMENT ON COLUMN outlet_scores.status IS 'ok, or insufficient_data when the outlet has fewer articles than the model''s min_articles (scored, but do not trust it).';
COMMENT ON COLUMN outlet_scores.factors IS 'The features that moved this score most: feature, the outlet''s value, and the signed contribution in score points relative to an outlet at the training means.';
COMMENT ON COLUMN outlet_scores.label_score IS 'The outlet''s label from the model''s label file (0-1), when it has one: for comparison only.';

CREATE TABLE publications (
    run_id BIGINT PRIMARY KEY,
    published_at TIMESTAMP NOT NULL,
    model_id VARCHAR NOT NULL,
    as_of DATE NOT NULL,
    window_days INTEGER NOT NULL,
    n_outlets BIGINT NOT NULL
);
COMMENT ON TABLE publications IS 'One row per publishing run. A run''s scores become visible in latest_scores in the same transaction that writes its row here, so a killed run never shows half its scores.';
COMMENT ON COLUMN publications.run_id IS 'run_id of the score run.';
COMMENT ON COLUMN publications.published_at IS 'UTC time of publication.';
COMMENT ON COLUMN publications.model_id IS 'The model used.';
COMMENT ON COLUMN publications.as_of IS 'Last day of the article window.';
COMMENT ON COLUMN publications.window_days IS 'Length of that window in days.';
COMMENT ON COLUMN publications.n_outlets IS 'Outlets scored.';

CREATE VIEW score_history AS
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
COMMENT ON COLUMN score_history.score IS 'Reliability score 0-100.';
COMMENT ON COLUMN score_history.score_low IS 'Lower end of the ~90% interval.';
COMMENT ON COLUMN score_history.score_high IS 'Upper end of the ~90% interval.';
COMMENT ON COLUMN score_history.grade IS 'high, mixed or low.';
COMMENT ON COLUMN score_history.status IS 'ok or insufficient_data.';
COMMENT ON COLUMN score_history.factors IS 'Features that moved the score most, with signed contributions.';
COMMENT ON COLUMN score_history.label_score IS 'The outlet''s label (0-1), when it has one.';

CREATE VIEW latest_scores AS
SELECT s.outlet, s.score, s.score_low, s.score_high, s.grade, s.status, s.n_articles, s.factors, s.label_score,
       s.as_of, s.window_days, s.model_id, s.run_id, p.published_at
FROM outlet_scores s JOIN publications p ON p.run_id = s.run_id
WHERE s.run_id = (SELECT max(run_id) FROM publications);
COMMENT ON VIEW latest_scores IS 'The scores of the latest publication: one row per outlet.';
COMMENT ON COLUMN latest_scores.outlet IS 'Canonical outlet domain.';
COMMENT ON COLUMN latest_scores.score IS 'Reliability score 0-100, higher = more reliable.';
COMMENT ON COLUMN latest_scores.score_low IS 'Lower end of the ~90% interval.';
COMMENT ON COLUMN latest_scores.score_high IS 'Upper end of the ~90% interval.';
COMMENT ON COLUMN latest_scores.grade IS 'high, mixed or low.';
COMMENT ON COLUMN latest_scores.status IS 'ok or insufficient_data.';
COMMENT ON COLUMN latest_scores.n_articles IS 'Articles of the outlet in the window.';
COMMENT ON COLUMN latest_scores.factors IS 'Features that moved the score most, with signed contributions in score points.';
COMMENT ON COLUMN latest_scores.label_score IS 'The outlet''s label (0-1), when it has one.';
COMMENT ON COLUMN latest_scores.as_of IS 'Last day of the article window.';
COMMENT ON COLUMN latest_scores.window_days IS 'Length of that window in days.';
COMMENT ON COLUMN latest_scores.model_id IS 'The model that scored it.';
COMMENT ON COLUMN latest_scores.run_id IS 'run_id of the publishing run.';
COMMENT ON COLUMN latest_scores.published_at IS 'UTC time of publication.';

CREATE VIEW score_changes AS
WITH ranked AS (
    SELECT run_id, dense_rank() OVER (ORDER BY run_id DESC) AS recency FROM publications
), latest AS (
    SELECT s.* FROM outlet_scores s JOIN ranked r ON r.run_id = s.run_id WHERE r.recency = 1
), previous AS (
    SELECT s.* FROM outlet_scores s JOIN ranked r ON r.run_id = s.run_id WHERE r.recency = 2
)
SELECT l.outlet, p.score AS previous_score, l.score, l.score - p.score AS change,
       p.score_low AS previous_low, p.score_high AS previous_high,
       (l.score < p.score_low OR l.score > p.score_high) AS outside_previous_interval,
       p.run_id AS previous_run_id, l.run_id
FROM latest l JOIN previous p ON p.outlet = l.outlet;
COMMENT ON VIEW score_changes IS 'Each outlet''s score in the latest publication against the one before; outside_previous_interval flags moves larger than the earlier interval (drift worth a look).';
COMMENT ON COLUMN score_changes.outlet IS 'Canonical outlet domain.';
COMMENT ON COLUMN score_changes.previous_score IS 'Score in the previous publication.';
COMMENT ON COLUMN score_changes.score IS 'Score in the latest publication.';
COMMENT ON COLUMN score_changes.change IS 'score - previous_score, in points.';
COMMENT ON COLUMN score_changes.previous_low IS 'Lower end of the previous interval.';
COMMENT ON COLUMN score_changes.previous_high IS 'Upper end of the previous interval.';
COMMENT ON COLUMN score_changes.outside_previous_interval IS 'The new score lies outside the previous ~90% interval.';
COMMENT ON COLUMN score_changes.previous_run_id IS 'run_id of the previous publication.';
COMMENT ON COLUMN score_changes.run_id IS 'run_id of the latest publication.';
