"""``python -m sightsound`` (also what ``torchrun -m sightsound`` runs)."""

from sightsound.cli import main

raise SystemExit(main())
