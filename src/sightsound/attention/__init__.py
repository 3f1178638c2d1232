"""Attention: the lecture's core idea. ``functional`` holds the maths, ``layers`` the modules."""

from sightsound.attention import functional, layers

__all__ = ["functional", "layers"]
