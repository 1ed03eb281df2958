"""Convert official SMPL / SMPL-H pickles to plain-numpy `.npz`, without chumpy.

The official model files are Python-2 pickles whose arrays are ``chumpy.ch.Ch`` objects
and whose ``J_regressor`` is a ``scipy.sparse.csc_matrix``. chumpy does not install on
Python 3.11, and unpickling runs arbitrary code, so this module reads them with a
restricted unpickler:

- numpy's own reconstruction functions (arrays, dtypes, scalars) are allowed;
- every ``chumpy.*`` class is replaced by a stand-in that keeps its state and yields
  the array stored in it (``x``, or a cached ``r``);
- ``scipy.sparse`` csc/csr/coo matrices are replaced by a stand-in that rebuilds the
  dense array from ``data`` / ``indices`` / ``indptr`` (scipy is not needed);
- Python's ``set`` / ``frozenset`` / ``object`` (in chumpy's state and in protocol-0/1
  reconstruction) and ``_codecs.encode`` (bytes in protocol-2 pickles written by
  Python 3) are allowed;
- anything else (``os.system``, ``builtins.eval``, ...) is refused with an error.

The `.npz` keeps every numeric or text array (v_template, shapedirs, posedirs,
J_regressor (dense), weights, kintree_table, f, J, ...); other entries (dicts of training
information) are left out and listed. ``vhdiff.body.load_body_model`` reads the result.
An `.npz` input (SMPL-H from AMASS, SMPL-X) is rewritten without its pickled entries.

Command: ``vhdiff prep smpl-model IN.pkl OUT.npz [--force]``.
"""

from __future__ import annotations

import functools
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vhdiff.atomic_io import write_npz_atomic
from vhdiff.body.model_files import REQUIRED_KEYS

__all__ = ["ConversionReport", "RefusedPickleError", "convert_smpl_model", "load_smpl_pickle"]


class RefusedPickleError(pickle.UnpicklingError):
    """The pickle asked for a global that is not on the allow-list."""


class _StandIn:
    """Takes the place of an allowed foreign class: ignores its constructor arguments, keeps
    the pickled state as a dict in `state`, and yields a numpy array from it (`value`)."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:  # pickle's NEWOBJ passes args
        return object.__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        self.state = state if isinstance(state, dict) else {"state": state}

    def value(self, key: str) -> np.ndarray:
        raise NotImplementedError


class _ChumpyStandIn(_StandIn):
    """Takes the place of any chumpy class: the array stored in its state."""

    chumpy_class = "chumpy.ch.Ch"

    def value(self, key: str) -> np.ndarray:
        state = getattr(self, "state", {})
        for name in ("x", "r"):
            if name in state and not isinstance(state[name], _ChumpyStandIn):
                return np.asarray(_to_plain(state[name], key))
        raise ValueError(
            f"key {key!r} is a derived chumpy expression ({self.chumpy_class}) with no stored "
            "value; it cannot be evaluated without chumpy"
        )


class _SparseStandIn(_StandIn):
    """Takes the place of scipy.sparse csc/csr/coo matrices; rebuilds the dense array."""

    sparse_format = "csc"

    def value(self, key: str) -> np.ndarray:
        state = getattr(self, "state", {})
        shape = state.get("_shape", state.get("shape"))
        if shape is None or "data" not in state:
            raise ValueError(f"key {key!r}: the sparse matrix has no shape or data in its state")
        rows, cols = (int(n) for n in shape)
        data = np.asarray(state["data"])
        dense = np.zeros((rows, cols), dtype=data.dtype)
        if self.sparse_format == "coo":
            coords = state.get("coords") or (state["row"], state["col"])  # scipy >= 1.13: coords
            np.add.at(dense, tuple(np.asarray(c) for c in coords), data)
            return dense
        indices, indptr = np.asarray(state["indices"]), np.asarray(state["indptr"])
        outer = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
        if self.sparse_format == "csc":  # indptr runs over columns, indices are rows
            np.add.at(dense, (indices, outer), data)
        else:  # csr
            np.add.at(dense, (outer, indices), data)
        return dense


@functools.cache
def _sparse_class(fmt: str) -> type[_SparseStandIn]:
    return type(f"_Sparse_{fmt}", (_SparseStandIn,), {"sparse_format": fmt})


@functools.cache
def _chumpy_class(module: str, name: str) -> type[_ChumpyStandIn]:
    return type(f"_Chumpy_{name}", (_ChumpyStandIn,), {"chumpy_class": f"{module}.{name}"})


def _numpy_global(name: str) -> Any:
    try:
        from numpy._core import multiarray, numeric
    except ImportError:  # numpy < 2
        from numpy.core import multiarray, numeric  # type: ignore[no-redef]
    table = {
        "_reconstruct": multiarray._reconstruct,
        "scalar": multiarray.scalar,
        "_frombuffer": getattr(numeric, "_frombuffer", None),
    }
    return table.get(name)


def _reconstructor(cls: type, base: type, state: Any) -> Any:
    """copyreg._reconstructor restricted to our allowed classes (protocol 0/1 objects)."""
    if base is object:
        return object.__new__(cls)
    return base.__new__(cls, state)


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module.split(".")[0] == "chumpy":
            return _chumpy_class(module, name)
        if module.startswith("scipy.sparse") and name in ("csc_matrix", "csr_matrix", "coo_matrix"):
            return _sparse_class(name[:3])
        if module in ("numpy.core.multiarray", "numpy._core.multiarray", "numpy.core.numeric",
                      "numpy._core.numeric"):  # fmt: skip
            found = _numpy_global(name)
            if found is not None:
                return found
        if module == "numpy" and name in ("ndarray", "dtype"):
            return getattr(np, name)
        if module in ("__builtin__", "builtins") and name in ("set", "frozenset", "object"):
            return {"set": set, "frozenset": frozenset, "object": object}[name]
        if module in ("copy_reg", "copyreg") and name == "_reconstructor":
            return _reconstructor
        if module == "_codecs" and name == "encode":
            import codecs

            return codecs.encode
        raise RefusedPickleError(
            f"refused to load global '{module}.{name}': only numpy arrays, chumpy arrays and "
            "scipy sparse matrices are allowed in an SMPL model file"
        )


def _to_plain(value: Any, key: str) -> Any:
    if isinstance(value, _StandIn):
        return value.value(key)
    return value


def load_smpl_pickle(path: str | os.PathLike) -> dict[str, Any]:
    """Unpickle an SMPL-family model file with the restricted unpickler.

    Returns the top-level dict with chumpy arrays and sparse matrices turned into numpy
    arrays. Raises ValueError (naming the file) for a refused global or a non-dict file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {str(path)!r}")
    try:
        with path.open("rb") as stream:
            content = _RestrictedUnpickler(stream, encoding="latin1").load()
    except RefusedPickleError as exc:
        raise ValueError(f"{str(path)!r}: {exc}") from exc
    except (pickle.UnpicklingError, EOFError, AttributeError, TypeError, IndexError) as exc:
        raise ValueError(f"{str(path)!r} is not a readable SMPL model pickle ({exc})") from exc
    if not isinstance(content, dict):  # bad file content: a user error, reported as such
        raise ValueError(  # noqa: TRY004
            f"{str(path)!r} holds a {type(content).__name__}, not an SMPL model dict"
        )
    plain: dict[str, Any] = {}
    for key, value in content.items():
        try:
            plain[str(key)] = _to_plain(value, str(key))
        except ValueError as exc:
            if str(key) in REQUIRED_KEYS:
                raise ValueError(f"{str(path)!r}: {exc}") from exc
            plain[str(key)] = None  # an optional derived value: left out, reported
    return plain


@dataclass
class ConversionReport:
    """What :func:`convert_smpl_model` wrote: key -> shape, and the keys left out."""

    output: Path
    shapes: dict[str, tuple[int, ...]]
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> str:
        joints, vertices = self.shapes["J_regressor"]
        lines = [f"wrote {self.output}: {joints} joints, {vertices} vertices"]
        lines += [f"  {key}: {list(shape)}" for key, shape in sorted(self.shapes.items())]
        if self.skipped:
            lines.append(f"  left out (not plain arrays): {', '.join(sorted(self.skipped))}")
        return "\n".join(lines)


def _plain_arrays(content: dict[str, Any]) -> tuple[dict[str, np.ndarray], list[str]]:
    arrays, skipped = {}, []
    for key, value in content.items():
        if isinstance(value, (bytes, str)):
            value = value.decode("latin1") if isinstance(value, bytes) else value
            arrays[key] = np.asarray(value)
            continue
        array = (
            np.asarray(value) if isinstance(value, np.ndarray | np.generic | int | float) else None
        )
        if array is None or array.dtype.kind not in "biufU":
            skipped.append(key)
            continue
        arrays[key] = array
    return arrays, skipped


def convert_smpl_model(
    source: str | os.PathLike, output: str | os.PathLike, *, overwrite: bool = False
) -> ConversionReport:
    """Convert an SMPL / SMPL-H `.pkl` (or an `.npz` with pickled entries) to a plain `.npz`.

    The output is written atomically (temporary file in the same folder, then renamed).
    Raises FileNotFoundError, FileExistsError (output exists, overwrite=False) or
    ValueError (refused or unreadable pickle, missing model arrays, bad shapes).
    """
    source, output = Path(source), Path(output)
    if output.suffix != ".npz":
        raise ValueError(f"the output must end in .npz, got {str(output)!r}")
    if output.exists() and not overwrite:
        raise FileExistsError(f"{str(output)!r} exists; pass --force to replace it")
    if not source.is_file():
        raise FileNotFoundError(f"model file not found: {str(source)!r}")
    if source.suffix == ".npz":
        from vhdiff.body.model_files import read_model_arrays

        arrays, skipped = read_model_arrays(source)
    else:
        arrays, skipped = _plain_arrays(load_smpl_pickle(source))
    _check_model(arrays, source)
    output.parent.mkdir(parents=True, exist_ok=True)
    write_npz_atomic(output, arrays)
    return ConversionReport(output, {k: tuple(v.shape) for k, v in arrays.items()}, skipped)


def _check_model(arrays: dict[str, np.ndarray], source: Path) -> None:
    missing = [key for key in REQUIRED_KEYS if key not in arrays]
    if missing:
        raise ValueError(
            f"{str(source)!r} is not an SMPL-family model: missing {missing}; has {sorted(arrays)}"
        )
    vertices = arrays["v_template"].shape[0]
    joints = arrays["kintree_table"].shape[-1]
    expected = {
        "v_template": (vertices, 3),
        "J_regressor": (joints, vertices),
        "weights": (vertices, joints),
    }
    for key, shape in expected.items():
        if arrays[key].shape != shape:
            raise ValueError(
                f"{str(source)!r}: {key} has shape {list(arrays[key].shape)}, expected {list(shape)}"
            )
    for key in ("shapedirs", "posedirs"):
        if arrays[key].shape[:2] != (vertices, 3):
            raise ValueError(
                f"{str(source)!r}: {key} has shape {list(arrays[key].shape)}, expected [{vertices}, 3, N]"
            )
