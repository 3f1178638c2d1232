"""Evaluation functions: speech (WER with pocketsphinx, mel-cepstral distortion, log-spectral distance)."""
