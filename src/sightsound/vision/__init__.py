"""Images: loading and conversion (``io``), feature-map encoders (``encoders``), cached features (``features``)."""
