"""The pos_landing_sensor's cursor: per partition, what its files looked like and held when last seen.

Two digests a partition: of the files' names, sizes and mtimes (``stat``: unchanged, nothing is
read) and of their content (``content``: a re-dropped identical file starts nothing). Version 1
cursors (one entry per file) are read once to migrate and never written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sales360_assets.sensors.run_requests import short_digest

CURSOR_VERSION = 2
# 48 bits per digest: a digest is only ever compared with the previous one of the same
# partition, so a false "unchanged" needs a 1-in-2^48 collision.
DIGEST_CHARS = 12


@dataclass(frozen=True)
class SeenFile:
    """One file of the version-1 cursor (per-file JSON); read once to migrate, never written."""

    size: int
    mtime_ns: int
    sha256: str


@dataclass(frozen=True)
class PartitionState:
    stat: str  # digest of (file, size, mtime_ns) of every file: equal → nothing changed, nothing hashed
    content: str  # digest of (file, SHA-256) of every file: what the last run (or the lake) holds


@dataclass
class LandingCursor:
    partitions: dict[str, PartitionState] = field(default_factory=dict)
    # A version-1 cursor's files: consulted for partitions not yet in ``partitions``, then dropped.
    legacy: dict[str, SeenFile] = field(default_factory=dict)


def load_landing_cursor(cursor: str | None) -> LandingCursor:
    if not cursor:
        return LandingCursor()
    data = json.loads(cursor)
    if data.get("v") == 1:
        return LandingCursor(legacy={path: SeenFile(*values) for path, values in data.get("files", {}).items()})
    return LandingCursor(
        partitions={key: PartitionState(value[:DIGEST_CHARS], value[DIGEST_CHARS:]) for key, value in data["p"].items()}
    )


def dump_landing_cursor(seen: LandingCursor) -> str:
    return json.dumps(
        {"v": CURSOR_VERSION, "p": {key: s.stat + s.content for key, s in sorted(seen.partitions.items())}},
        separators=(",", ":"),
    )


def digest(parts: Iterable[object]) -> str:
    """A cursor digest: short, because the cursor holds two a partition for every look-back day."""
    return short_digest(parts, DIGEST_CHARS)


def file_sha256(path: Path) -> str:
    """The file's content hash, read in 1 MiB blocks so a large drop never sits in memory whole."""
    hasher = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest()
