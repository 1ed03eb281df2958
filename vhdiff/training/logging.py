"""Metrics output: a JSONL log (one JSON object per line) and optional TensorBoard."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

from vhdiff.atomic_io import write_text_atomic


class MetricsLogger:
    """Appends `{"step": s, **metrics}` lines to `path` and mirrors scalars to TensorBoard.

    The JSONL file is opened in append mode so a resumed run continues the same log;
    on resume the trainer calls `truncate_after(step)` first, so lines written after the
    checkpoint by the killed run are dropped and the log has no duplicate steps.
    TensorBoard is imported lazily; when it is asked for but not installed, a warning
    says so and logging continues without it.
    """

    def __init__(self, path: Path | str, *, tensorboard_dir: Path | str | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = None
        self._tb = None
        if tensorboard_dir is not None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                warnings.warn(
                    "trainer.tensorboard is on but the tensorboard package is not installed "
                    "(pip install tensorboard); metrics go to the JSONL log only",
                    stacklevel=2,
                )
            else:
                self._tb = SummaryWriter(log_dir=str(tensorboard_dir))

    def truncate_after(self, step: int) -> None:
        """Drop log lines with step > `step` (left behind by a run that died after a save).

        The log is rewritten atomically: a run killed here keeps the old log whole.
        """
        if not self.path.is_file():
            return
        kept = []
        for line in self.path.read_text().splitlines():
            try:
                if int(json.loads(line).get("step", -1)) > step:
                    continue
            except (ValueError, AttributeError):
                continue  # a half-written last line of a killed run
            kept.append(line)
        write_text_atomic(self.path, "".join(k + "\n" for k in kept), fsync=True)

    def log(self, step: int, metrics: dict[str, Any]) -> None:
        if self._file is None:
            self._file = open(self.path, "a", buffering=1)  # noqa: SIM115 - kept open, closed in close()
        record = {"step": int(step)}
        for k, v in metrics.items():
            record[k] = _plain(v)
        self._file.write(json.dumps(record) + "\n")
        if self._tb is not None:
            for k, v in record.items():
                if k != "step" and isinstance(v, (int, float)) and math.isfinite(v):
                    self._tb.add_scalar(k, v, global_step=step)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._tb is not None:
            self._tb.close()
            self._tb = None


def _plain(v: Any) -> Any:
    if hasattr(v, "item") and getattr(v, "ndim", 1) == 0:
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return v
