"""The pipeline's stages: ingest, featurize, corroborate, aggregate, fit, score and publish, each one job with its
own `runs` row, and the nightly that runs them in order under a lock. A stage reads and writes the database
(jobs.store), reads inputs (jobs.readers), computes with the pure packages (features, scorer) and runs its
per-article work on the engine it is given (jobs.engines.base.Engine). Stages do not import each other (only
the nightly imports them); what two stages share lives beside them (window.py, model_inputs.py)."""
