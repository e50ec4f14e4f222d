"""Learned spam and abuse classifiers: features, fast inference, training and moderator labels.

``features`` turns a normalised comment into tokens; ``model`` scores them with a linear model
whose weights ship as a small ``.npz`` artifact under ``moderation/models``; ``train`` rebuilds
both models from ``../shared/data`` plus moderator labels; ``store`` records those labels.
Nothing here is imported by ``moderation.filters``: the loader hands a model to the checks.
"""
