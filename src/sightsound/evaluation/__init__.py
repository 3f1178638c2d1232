"""Evaluation harnesses, one per task (``sightsound eval ...``): each loads a shipped pipeline or a run, runs it on
a data folder, scores it with ``metrics`` and returns a JSON-able report. Above ``pretrained`` (it runs the
shipped pipelines) and below ``cli``.
"""
