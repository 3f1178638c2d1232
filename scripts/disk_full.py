"""Commands that write onto a full or read-only disk: each must end with exit code 2 and one error line on stderr (a
progress bar may precede it; never a traceback), leave no half-written or temporary file, and keep every file that
was there (checked by sha256). A run or tour folder the command made itself may keep what it completed (config.json,
the log: a run killed by the full disk can be resumed once there is room).

    sudo .venv/bin/python scripts/disk_full.py          # needs root: it mounts small tmpfs file systems

Slow cases for before a release (`make test` covers the same families with injected errors, tests/test_hardening.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEECH = ROOT / "src" / "sightsound" / "pretrained" / "samples" / "speech_flite_16k.flac"


def hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.rglob("*") if p.is_file()}


def mount(point: Path, size: str, readonly: bool = False) -> None:
    point.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}" + (",ro" if readonly else ""), "tmpfs", str(point)],
                   check=True)


def case(name: str, argv: list[str], disk: Path, data: Path) -> dict:
    (disk / "precious.txt").exists() or (disk / "precious.txt").write_text("a user's file")  # noqa: B018
    before = hashes(disk)
    done = subprocess.run([sys.executable, "-m", "sightsound", *argv], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "SIGHTSOUND_DATA": str(data)})
    after = hashes(disk)
    err = [line for line in done.stderr.strip().splitlines() if line.startswith("sightsound: error")]
    problems = []
    if done.returncode != 2:
        problems.append(f"exit code {done.returncode}")
    if len(err) != 1 or "Traceback" in done.stderr:
        problems.append(f"{len(err)} error lines" + (" and a traceback" if "Traceback" in done.stderr else ""))
    if any(after.get(k) != v for k, v in before.items()):
        problems.append("a pre-existing file changed")
    own = argv[argv.index("--out") + 1] if "--out" in argv else None
    extra = sorted(name for name in set(after) - set(before)
                   if not (own and (disk / name).is_relative_to(Path(own)))  # the command's own run/tour folder
                   or any(part.startswith(".") and part not in (".lock", ".sightsound-tour") for part in Path(name).parts))
    if extra:
        problems.append(f"left behind: {', '.join(extra[:3])}")
    return {"case": name, "ok": not problems, "problems": problems,
            "stderr": err[-1] if err else done.stderr.strip().splitlines()[-1:]}


def main() -> int:
    if os.geteuid() != 0:
        print("disk_full.py: error: needs root (it mounts small tmpfs file systems)", file=sys.stderr)
        return 2
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = tmp / "data"
        subprocess.run([sys.executable, "-c", f"from sightsound.data import charlm; charlm.write_synthetic({str(data)!r})"],
                       check=True, cwd=ROOT)
        full, readonly = tmp / "full", tmp / "readonly"
        mount(full, "96k")
        try:
            (full / "filler").write_bytes(b"\0" * 60_000)  # leave about 36 kB
            results += [
                case("griffinlim to a full disk", ["griffinlim", str(SPEECH), "-o", str(full / "out.wav"),
                                                   "--n-iter", "1"], full, data),
                case("spectrogram figure and arrays to a full disk",
                     ["spectrogram", str(SPEECH), "-o", str(full / "x.png"), "--npz", str(full / "a.npz")], full, data),
                case("tts to a full disk", ["tts", "bin blue at f two now", "-o", str(full / "s.wav")], full, data),
                case("training into a full disk", ["train", "recipes/char_lm.py", "--preset", "tiny", "--out",
                                                   str(full / "run"), "--no-progress"], full, data),
                case("tour into a full disk", ["tour", "--out", str(full / "tour"), "--audio", str(SPEECH)], full, data),
            ]
        finally:
            subprocess.run(["umount", str(full)], check=False)
        mount(readonly, "1m")
        subprocess.run(["mount", "-o", "remount,rw", str(readonly)], check=True)
        (readonly / "precious.txt").write_text("a user's file")
        subprocess.run(["mount", "-o", "remount,ro", str(readonly)], check=True)
        try:
            results += [
                case("griffinlim to a read-only disk", ["griffinlim", str(SPEECH), "-o", str(readonly / "out.wav"),
                                                        "--n-iter", "1"], readonly, data),
                case("training into a read-only disk", ["train", "recipes/char_lm.py", "--preset", "tiny", "--out",
                                                        str(readonly / "run"), "--no-progress"], readonly, data),
            ]
        finally:
            subprocess.run(["umount", str(readonly)], check=False)
    report = {"command": " ".join(["python", *sys.argv]), "cases": results,
              "passed": sum(r["ok"] for r in results), "total": len(results)}
    print(json.dumps(report, indent=2))
    return 0 if report["passed"] == report["total"] else 1


if __name__ == "__main__":
    sys.exit(main())
