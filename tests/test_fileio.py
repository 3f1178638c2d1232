"""Atomic writes: the user's file mode (not mkstemp's 0600), and no silent replacement of a file that appeared."""

from __future__ import annotations

import os
import stat

import pytest
import torch

from sightsound.audio import io as audio_io
from sightsound.errors import UserInputError
from sightsound.fileio import atomic_path


def test_written_files_get_the_users_umask(tmp_path):
    old = os.umask(0o022)
    try:
        audio_io.save(tmp_path / "a.wav", torch.zeros(160), 16000)
        with atomic_path(tmp_path / "b.txt") as tmp:
            tmp.write_text("x")
    finally:
        os.umask(old)
    for name in ("a.wav", "b.txt"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644, name


def test_a_file_that_appears_while_writing_is_not_replaced(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(UserInputError, match="appeared while this command ran"):
        with atomic_path(target, overwrite=False) as tmp:
            tmp.write_text("ours")
            target.write_text("the user's")  # created by someone else meanwhile
    assert target.read_text() == "the user's"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]  # no temporary left behind
