"""The scorer's honest evaluation: research code, not part of the installed package.

This folder holds the code that measures how well the two-layer scorer (`scorer`) agrees with expert ratings
on outlets it was not trained on, and the script that drew the embedded sample (`build_sample.py`). It is not
shipped: pyproject's `packages.find` includes only `jobs*`, `features*` and `scorer*`, and nothing there may
import `evaluation`. It needs the full corpora of ../shared and is run by `make evaluate`, which regenerates the
measured part of docs/evaluation.md:

    python -m evaluation --shared ../shared [--quick] [--doc docs/evaluation.md] ...

Modules, by role:

- `data`: the shared corpora and label files, and the evaluation set (the labelled outlets);
- `inputs`: what the cross-validation reads: per-article features, cues and the hashed text representations;
- `crossval`: out-of-fold predictions and their metrics, for the two-layer scorer's variants and the baselines;
- `label_maps`: MBFC / Baly levels mapped onto the target scale by monotone maps fitted inside the folds;
- `training_sets`: what the folds train on: extra outlets with mapped labels, subsamples of the training outlets;
- `experiments`: the run, step by step: layers and representations, baselines, confounds (language,
  boilerplate), the learning curve, representation cost, the final model;
- `report`: the Markdown tables and `replace_generated` of docs/evaluation.md;
- `__main__`: the Click command.
"""
