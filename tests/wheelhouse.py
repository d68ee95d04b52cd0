"""A local wheelhouse made from the distributions installed in this virtualenv.

The wheel test installs the package into a brand-new virtualenv, as a stranger would, but a
test must not reach the internet. pip cannot turn an installed distribution back into a
wheel, so this does it from the distribution's own ``RECORD``: every file it installed
inside site-packages, plus its ``.dist-info`` (minus what the installer added), zipped under
the tags its ``WHEEL`` file names. pip regenerates console scripts from
``entry_points.txt``, so the files installed outside site-packages (``bin/``) are left out.
Only the distributions named in the pinned requirements are packed, at the pinned versions,
so the new virtualenv gets exactly what ``requirements.txt`` promises.
"""

from __future__ import annotations

import base64
import hashlib
import re
import zipfile
from importlib import metadata
from pathlib import Path

#: Files the installer writes into ``.dist-info``; a wheel does not carry them.
INSTALLER_FILES = {"INSTALLER", "REQUESTED", "direct_url.json", "RECORD"}
PIN_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")


def pins(requirements: Path) -> dict[str, str]:
    """``name==version`` lines of a requirements file (``-r``/``-e`` lines are skipped)."""
    found: dict[str, str] = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        m = PIN_RE.match(line.strip())
        if m:
            found[m.group(1)] = m.group(2)
    return found


def _tags(wheel_file: str) -> str:
    """The compressed tag set (``py3-none-any``) of a ``.dist-info/WHEEL`` file."""
    tags = [line.split(":", 1)[1].strip() for line in wheel_file.splitlines() if line.startswith("Tag:")]
    parts = [sorted({t.split("-")[i] for t in tags}) for i in range(3)]
    return "-".join(".".join(p) for p in parts)


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def repack(dist: metadata.Distribution, out_dir: Path) -> Path:
    """Write ``dist`` (an installed distribution) as a wheel into ``out_dir``."""
    files = [f for f in dist.files or [] if not f.parts[0] == ".." and "__pycache__" not in f.parts]
    info_dir = next(f.parts[0] for f in files if f.parts[0].endswith(".dist-info"))
    wheel_meta = dist.read_text("WHEEL") or ""
    name = re.sub(r"[-_.]+", "_", dist.metadata["Name"])
    target = out_dir / f"{name}-{dist.version}-{_tags(wheel_meta)}.whl"
    record: list[str] = []
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as zf:
        for f in files:
            arcname = f.as_posix()
            if f.parts[0] == info_dir and f.name in INSTALLER_FILES:
                continue
            data = Path(str(dist.locate_file(f))).read_bytes()
            zf.writestr(arcname, data)
            record.append(_record_line(arcname, data))
        record.append(f"{info_dir}/RECORD,,")
        zf.writestr(f"{info_dir}/RECORD", "\n".join(record) + "\n")
    return target


def build(requirements: Path, out_dir: Path, extra: tuple[str, ...] = ()) -> list[Path]:
    """A wheel for every pin of ``requirements`` (and the installed ``extra`` names).

    Raises ``LookupError`` when a pinned distribution is missing or at another version here:
    the wheelhouse would not be what the requirements promise.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    wanted = {**pins(requirements), **{n: metadata.version(n) for n in extra}}
    wheels = []
    for name, version in sorted(wanted.items()):
        dist = metadata.distribution(name)
        if dist.version != version:
            raise LookupError(f"{name} {dist.version} is installed, requirements pin {version}")
        wheels.append(repack(dist, out_dir))
    return wheels
