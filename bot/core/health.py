"""What the worker last knew of its hold on a platform during an occurrence: the hosts'
console shows it (issue 14: "stream or polling, rate-limit waits, platform errors")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

CaptureMode = Literal["stream", "polling"]


@dataclass(frozen=True)
class PlatformHealth:
    occurrence: str
    platform: str
    updated_at: datetime
    mode: CaptureMode | None = None  # None: capture has not started
    mode_reason: str | None = None  # why polling (streaming refused, the stream lost)
    mode_since: datetime | None = None
    rate_limited_until: datetime | None = None  # the latest rate-limit wait's end
    rate_limit_reason: str | None = None
    rate_limit_waits: int = 0
    errors: int = 0  # failed reads of the platform, since the capture started
    last_error: str | None = None
    last_error_at: datetime | None = None
