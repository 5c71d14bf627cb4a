"""Progress reporting: a tqdm bar on a terminal, plain log lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import IO, Any


def _tqdm_or_none():
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm


class Progress:
    """One epoch's progress: live loss, accuracy and images per second.

    Uses tqdm when it is installed and ``stream`` is a TTY; otherwise prints a plain line
    every ``log_every`` batches (0: about five lines per epoch). ``enabled=False`` prints
    nothing at all.
    """

    def __init__(self, total: int | None, desc: str, enabled: bool = True,
                 stream: IO[str] | None = None, log_every: int = 0,
                 use_tqdm: bool | None = None) -> None:
        self.total, self.desc, self.enabled = total, desc, enabled
        self.stream = stream if stream is not None else sys.stderr
        self.log_every = log_every
        self.t0 = time.perf_counter()
        self.images = 0
        self.batches = 0
        self._bar = None
        if enabled:
            tqdm = _tqdm_or_none()
            tty = bool(getattr(self.stream, "isatty", lambda: False)())
            if use_tqdm is None:
                use_tqdm = tty
            if tqdm is not None and use_tqdm:
                self._bar = tqdm(total=total, desc=desc, file=self.stream, leave=False,
                                 dynamic_ncols=True, unit="batch")
            elif not self.log_every:   # plain lines: about five per epoch
                self.log_every = max(1, (total or 250) // 5)

    @property
    def images_per_second(self) -> float:
        dt = time.perf_counter() - self.t0
        return self.images / dt if dt > 0 else 0.0

    def update(self, n_images: int, loss: float, accuracy: float | None) -> None:
        self.images += n_images
        self.batches += 1
        if not self.enabled:
            return
        ips = self.images_per_second
        if self._bar is not None:
            post: dict[str, Any] = {"loss": f"{loss:.4f}"}
            if accuracy is not None:
                post["acc"] = f"{accuracy:.4f}"
            post["img/s"] = f"{ips:.0f}"
            self._bar.set_postfix(post, refresh=False)
            self._bar.update(1)
        elif self.log_every and self.batches % self.log_every == 0:
            tot = f"/{self.total}" if self.total else ""
            acc = f" acc {accuracy:.4f}" if accuracy is not None else ""
            print(f"{self.desc} batch {self.batches}{tot} loss {loss:.4f}{acc} "
                  f"{ips:.0f} img/s", file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
