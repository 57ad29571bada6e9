"""Byte-stable, safely loadable model files in the skops format.

gitml registers a model version by the md5 of its file (the hash DVC records in
``dvc.lock``), so the same fitted model must always produce the same bytes. A raw
``skops.io.dump`` does not: its zip entries carry the current time, and its
``schema.json`` and array entries are named after ``id()`` of Python objects (and
``uuid4()`` for ``bytes``), which change from one process to the next.
:func:`canonicalize_skops` re-packs a skops archive into one canonical form, and
:func:`save_model` writes that form atomically.

Loading is the other half: a model file is only loaded after its md5 matched the
registered one (when the caller knows it) and after every type it contains is on an
explicit allowlist, :data:`DEFAULT_TRUSTED_TYPES` unless the caller passes its own.
``trusted=True`` (trust everything) is never used.

Canonical form (what :func:`canonicalize_skops` produces):

* Every node's ``__id__`` (skops' memo key, ``id()`` of the saved object) is
  replaced by 1, 2, 3, ... in order of first appearance in a depth-first walk of
  ``schema.json`` in document order. Nodes that shared an id still share one, so
  object identity inside the model survives. Numbering starts at 1 because skops
  does not memoize a node whose ``__id__`` is falsy.
* Every data entry referenced by a node's ``file`` field (``<id()>.npy``,
  ``<id()>.npz``, ``<uuid4>.bin``) is renamed ``0.npy``, ``1.npz``, ... in order of
  first appearance, keeping its extension.
* The elements of a ``SetNode`` are sorted by an id-free key, because set
  iteration order of strings depends on ``PYTHONHASHSEED``.
* ``schema.json`` is written compactly (``separators=(",", ":")``, ASCII only)
  *without* sorting keys: skops' ``DictNode`` pairs its ``content`` mapping with a
  parallel ``key_types`` list by position, so reordering keys would corrupt dicts
  with non-string keys and change the insertion order of restored dicts.
  skops writes keys in a fixed order, so keeping that order is already stable.
* The zip holds the entries sorted by name, stored uncompressed, with a fixed
  timestamp, permissions and creator system, and no extra fields or comments.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

from gitml.errors import StorageError
from gitml.fsutil import atomic_write_bytes

if TYPE_CHECKING:
    import os

__all__ = [
    "DEFAULT_TRUSTED_TYPES",
    "canonicalize_skops",
    "file_md5",
    "load_model",
    "save_model",
    "trusted_types",
]

# Every non-builtin type that appears in the skops dump of a scikit-learn 1.9
# Pipeline built from ColumnTransformer, SimpleImputer, StandardScaler,
# OneHotEncoder, OrdinalEncoder, LogisticRegression and
# HistGradientBoostingClassifier (binary and multiclass, with and without early
# stopping and categorical features), found by walking the dumps' schema.json and
# with skops.io.get_untrusted_types. Many of these are trusted by skops 0.16 by
# default anyway; they are listed so the allowlist says in one place what our models
# contain, and keeps working with older skops versions that trust less.
DEFAULT_TRUSTED_TYPES: tuple[str, ...] = (
    # The wrapped function is audited on its own (check_array below), so a partial
    # is only as powerful as the functions it is allowed to wrap. It appears as the
    # remainder of HistGradientBoosting's internal `_preprocessor` once
    # categorical_features is used.
    "functools.partial",
    "sklearn.utils.validation.check_array",
    # numpy containers, scalar and dtype objects: pure data.
    "numpy.dtype",
    "numpy.float64",
    "numpy.ndarray",
    "numpy.uint64",
    # HistGradientBoosting's `_feature_subsample_rng` (default_rng -> PCG64).
    "numpy.random.PCG64",
    "numpy.random._generator.Generator",
    # The estimators themselves.
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.impute._base.SimpleImputer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.preprocessing._encoders.OneHotEncoder",
    "sklearn.preprocessing._encoders.OrdinalEncoder",
    "sklearn.preprocessing._function_transformer.FunctionTransformer",
    "sklearn.preprocessing._label.LabelEncoder",
    # HistGradientBoosting internals: binning, losses and link functions.
    "sklearn._loss._loss.CyHalfBinomialLoss",
    "sklearn._loss._loss.CyHalfMultinomialLoss",
    "sklearn._loss.link.Interval",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.link.MultinomialLogit",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn._loss.loss.HalfMultinomialLoss",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    # skops distrusts TreePredictor on purpose: its `nodes` array holds indices
    # that scikit-learn follows without bounds checks, so a crafted file can crash
    # the process at predict time. We trust it because gitml loads registered
    # files only after their md5 matched the registry (pass expected_md5).
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
)

_SCHEMA_NAME = "schema.json"
# Zip timestamps cannot go below 1980; any fixed value would do.
_ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
# A regular file, rw-r--r--, in the Unix half of external_attr.
_ZIP_EXTERNAL_ATTR = (0o100644 & 0xFFFF) << 16
# zipfile records the creating OS (0 on Windows, 3 elsewhere); pin it to Unix so
# Windows and Linux produce the same bytes.
_ZIP_CREATE_SYSTEM = 3
# Data entries keep their extension (numpy reads by content, but .npy/.npz/.bin
# helps a human who unzips the file); anything unusual is dropped.
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,8}\Z")
_CHUNK_SIZE = 1 << 20


def file_md5(path: str | os.PathLike[str]) -> str:
    """Return the md5 hex digest of the file at ``path``, read in 1 MiB chunks.

    This is the hash DVC stores for a file output in ``dvc.lock``.
    """
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def save_model(model: object, path: str | os.PathLike[str]) -> str:
    """Save ``model`` to ``path`` as a canonical skops file; return its md5 hex digest.

    Identical fitted models give identical bytes, hence the same md5, in any process.
    The file is written to a temporary file in the same directory, fsynced and then
    moved over ``path`` with :func:`os.replace`, so readers see either the old or
    the new file, never a partial one.

    Raises:
        StorageError: skops cannot serialise the model, or the file cannot be
            written.
    """
    from skops.io import dumps
    from skops.io.exceptions import UnsupportedTypeException

    target = Path(path)
    try:
        raw = dumps(model)
    except (UnsupportedTypeException, TypeError) as exc:
        # skops signals unsupported objects with one of these two.
        raise StorageError(
            f"{target}: cannot serialise {type(model).__name__} with skops: {exc}"
        ) from exc
    data = canonicalize_skops(raw)
    _atomic_write(target, data)
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def canonicalize_skops(data: bytes) -> bytes:
    """Re-pack a skops archive into its canonical, byte-stable form.

    The result loads to the same object as ``data`` but no longer depends on
    ``id()`` values, random file names, set iteration order or the time of the
    dump. The function is idempotent: ``canonicalize_skops(canonicalize_skops(x))
    == canonicalize_skops(x)``. See the module docstring for the exact form.

    Raises:
        StorageError: ``data`` is not a skops archive (not a zip, no or invalid
            ``schema.json``, missing or unreferenced data entries).
    """
    entries = _read_archive(data)
    schema = _parse_schema(entries.pop(_SCHEMA_NAME))

    # Sets first: their order decides which occurrence of a shared id comes first
    # in the renumbering walk below.
    _sort_sets(schema, entries)
    files: dict[str, str] = {}
    _renumber(schema, ids={}, files=files, entries=entries)

    unreferenced = sorted(set(entries) - set(files))
    if unreferenced:
        # Dropping them would silently change the content, keeping them would keep
        # id-derived names in the file; neither is acceptable for a hashed artefact.
        raise StorageError(
            "skops archive has entries schema.json does not reference: " + ", ".join(unreferenced)
        )

    out_entries = {new: entries[old] for old, new in files.items()}
    out_entries[_SCHEMA_NAME] = _dump_schema(schema)
    return _write_archive(out_entries)


def trusted_types(path: str | os.PathLike[str]) -> list[str]:
    """List the types in the skops file at ``path`` that skops does not trust by default.

    This is what ``skops.io.get_untrusted_types`` reports, sorted, for a human to
    review; :func:`load_model` refuses a file containing any of them that is not on
    its trusted list.

    Raises:
        StorageError: the file cannot be read or is not a skops archive.
    """
    return _untrusted_types(_read_file(Path(path)), Path(path))


def load_model(
    path: str | os.PathLike[str],
    *,
    trusted: Sequence[str] | None = None,
    expected_md5: str | None = None,
) -> Any:
    """Load a model saved with :func:`save_model` (or any skops file), safely.

    Args:
        path: The skops file.
        trusted: Fully qualified type names allowed in the file, on top of what
            skops trusts by default; :data:`DEFAULT_TRUSTED_TYPES` when ``None``.
            A list given here replaces that default, so extend it explicitly:
            ``[*DEFAULT_TRUSTED_TYPES, "my.module.MyTransformer"]``.
        expected_md5: The registered md5 of the file. When given, a file with a
            different md5 is refused before anything in it is parsed.

    Returns:
        The loaded object.

    Raises:
        StorageError: the file cannot be read, its md5 differs from
            ``expected_md5``, it is not a skops archive, or it contains types that
            are not trusted (all of them are listed).
        TypeError: ``trusted`` is not a sequence of type names.
    """
    from skops.io import loads
    from skops.io.exceptions import UntrustedTypesFoundException

    allowed = _trusted_list(trusted)
    target = Path(path)
    # Read once and work on these bytes only: hashing the file and then letting
    # skops reopen it would leave a window in which the file could be swapped.
    data = _read_file(target)
    if expected_md5 is not None:
        actual = hashlib.md5(data, usedforsecurity=False).hexdigest()
        expected = expected_md5.strip().lower()
        if actual != expected:
            raise StorageError(
                f"{target}: md5 mismatch, expected {expected}, actual {actual}; "
                "refusing to load a model file that differs from the registered one"
            )

    untrusted = [name for name in _untrusted_types(data, target) if name not in allowed]
    if untrusted:
        raise StorageError(
            f"{target}: refusing to load, the file contains untrusted types: "
            + ", ".join(untrusted)
        )
    try:
        return loads(data, trusted=sorted(allowed))
    except UntrustedTypesFoundException as exc:
        # Only reachable if skops' load-time audit is stricter than
        # get_untrusted_types; still a refusal, not a bug of ours.
        raise StorageError(f"{target}: refusing to load: {exc}") from exc
    except (AttributeError, ImportError, KeyError, TypeError, ValueError) as exc:
        # Typically a file written with another scikit-learn version whose
        # classes or attributes no longer match: a problem of the file, not of gitml.
        raise StorageError(f"{target}: cannot construct the model: {exc}") from exc


def _trusted_list(trusted: Sequence[str] | None) -> frozenset[str]:
    """Validate ``trusted`` and return it as a set of type names."""
    if trusted is None:
        return frozenset(DEFAULT_TRUSTED_TYPES)
    # A bare string is a Sequence[str] of characters, and True is what skops once
    # accepted as "trust everything"; both are caller bugs, never a policy.
    if isinstance(trusted, str | bytes) or not isinstance(trusted, Sequence):
        raise TypeError(
            f"trusted must be a sequence of fully qualified type names, got {trusted!r}"
        )
    names = frozenset(trusted)
    if not all(isinstance(name, str) for name in names):
        raise TypeError(f"trusted must contain only type names (str), got {trusted!r}")
    return names


def _read_file(path: Path) -> bytes:
    """Read a whole model file, turning OS errors into :class:`StorageError`."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise StorageError(f"{path}: cannot read model file: {exc.strerror or exc}") from exc


def _untrusted_types(data: bytes, path: Path) -> list[str]:
    """Return skops' sorted list of untrusted types in ``data`` (read from ``path``)."""
    from skops.io import get_untrusted_types

    # Our own archive check first, for a clear message on non-skops input.
    _read_archive(data, origin=str(path))
    try:
        return sorted(get_untrusted_types(data=data))
    except (KeyError, TypeError, ValueError) as exc:
        # A zip with a schema.json that skops cannot make a tree of (unknown
        # loader, unsupported protocol, malformed node...).
        raise StorageError(f"{path}: not a loadable skops file: {exc}") from exc


def _read_archive(data: bytes, origin: str = "data") -> dict[str, bytes]:
    """Return the entries of the skops zip ``data`` by name."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"expected the bytes of a skops file, got {type(data).__name__}")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if len(set(names)) != len(names):
                raise StorageError(f"{origin}: skops archive has duplicate entry names")
            if _SCHEMA_NAME not in names:
                raise StorageError(
                    f"{origin}: not a skops file: the zip archive has no {_SCHEMA_NAME}"
                )
            return {name: archive.read(name) for name in names}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        # BadZipFile covers "not a zip" and CRC errors; the others come from
        # truncated or malformed headers.
        raise StorageError(f"{origin}: not a skops file: not a valid zip archive ({exc})") from exc
    except NotImplementedError as exc:
        # An entry compressed with a method this Python cannot decompress.
        raise StorageError(f"{origin}: unsupported skops archive: {exc}") from exc


def _parse_schema(raw: bytes) -> dict[str, Any]:
    """Parse ``schema.json`` and check it is the root node of a skops tree."""
    try:
        schema = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise StorageError(f"not a skops file: {_SCHEMA_NAME} is not valid JSON ({exc})") from exc
    if not isinstance(schema, dict) or not _is_node(schema) or "protocol" not in schema:
        raise StorageError(f"not a skops file: {_SCHEMA_NAME} has no skops root node")
    return schema


def _dump_schema(schema: dict[str, Any]) -> bytes:
    """Serialise ``schema`` in the one fixed way canonical files use.

    Keys are deliberately not sorted (see the module docstring). json.loads and
    json.dumps round-trip Python floats exactly, so re-serialising is stable.
    """
    text = json.dumps(schema, ensure_ascii=True, separators=(",", ":"), allow_nan=True)
    return text.encode("ascii")


def _is_node(value: object) -> TypeGuard[dict[str, Any]]:
    """True for a skops node state: a dict whose ``__loader__`` is a string.

    A user dict with a ``"__loader__"`` key does not match: inside a DictNode its
    value is itself a node state (a dict), never a string.
    """
    return isinstance(value, dict) and isinstance(value.get("__loader__"), str)


def _children(value: object) -> list[Any]:
    """The nested JSON values of ``value``, in document order."""
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list):
        return value
    return []


def _sort_sets(value: object, entries: dict[str, bytes]) -> None:
    """Sort the elements of every SetNode by an id-free key, innermost sets first."""
    for child in _children(value):
        _sort_sets(child, entries)
    if _is_node(value) and value["__loader__"] == "SetNode":
        content = value.get("content")
        if isinstance(content, list):
            content.sort(key=lambda item: _stable_key(item, entries))


def _stable_key(value: object, entries: dict[str, bytes]) -> str:
    """JSON of ``value`` without ``__id__`` and with files replaced by their sha256."""

    def strip(item: object) -> object:
        if isinstance(item, list):
            return [strip(child) for child in item]
        if not isinstance(item, dict):
            return item
        node = _is_node(item)
        out: dict[str, object] = {}
        for name, child in item.items():
            if node and name == "__id__":
                continue
            if node and name == "file" and isinstance(child, str) and child in entries:
                out[name] = "sha256:" + hashlib.sha256(entries[child]).hexdigest()
            else:
                out[name] = strip(child)
        return out

    # sort_keys is safe here: this string is only a sort key, never written.
    return json.dumps(strip(value), sort_keys=True, separators=(",", ":"), allow_nan=True)


def _renumber(
    value: object,
    *,
    ids: dict[int, int],
    files: dict[str, str],
    entries: dict[str, bytes],
) -> None:
    """Rename ids and file entries in place, in order of first appearance (pre-order)."""
    if _is_node(value):
        node = value
        if "__id__" in node:
            old_id = node["__id__"]
            if isinstance(old_id, bool) or not isinstance(old_id, int):
                raise StorageError(f"invalid skops schema: __id__ {old_id!r} is not an integer")
            # Starts at 1: skops skips memoizing a node whose __id__ is falsy.
            if node.get("__loader__") == "JsonNode":
                # Immutable JSON scalars (str, int, float, bool, None): whether two equal
                # values were one object depends on interning and on how the data was read,
                # not on the model. Each occurrence gets its own id, so sharing never shows.
                fresh = -(len(ids) + 1)  # real ids come from id(): never negative
                ids[fresh] = len(ids) + 1
                node["__id__"] = ids[fresh]
            else:
                node["__id__"] = ids.setdefault(old_id, len(ids) + 1)
        if "file" in node:
            old_name = node["file"]
            if not isinstance(old_name, str) or old_name not in entries:
                raise StorageError(
                    f"invalid skops archive: schema.json references a missing entry {old_name!r}"
                )
            if old_name not in files:
                match = _EXTENSION.search(old_name)
                files[old_name] = f"{len(files)}{match.group(0) if match else ''}"
            node["file"] = files[old_name]
    for child in _children(value):
        _renumber(child, ids=ids, files=files, entries=entries)


def _write_archive(entries: dict[str, bytes]) -> bytes:
    """Write ``entries`` as a zip whose bytes depend on nothing but the entries.

    Entries are STORED, not deflated: deflate output depends on the zlib build
    (zlib vs zlib-ng, version, level defaults), so the same model could hash
    differently on two machines. Numeric arrays compress poorly anyway, and DVC
    remotes may compress on their own.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = _ZIP_EXTERNAL_ATTR
            info.create_system = _ZIP_CREATE_SYSTEM
            archive.writestr(info, entries[name])
    return buffer.getvalue()


def _atomic_write(path: Path, data: bytes) -> None:
    """Write the model file atomically; model files are shared artefacts (0o644)."""
    if not path.parent.is_dir():
        raise StorageError(f"{path}: cannot write model file: no such directory {path.parent}")
    try:
        atomic_write_bytes(path, data, mode=0o644)
    except OSError as exc:
        raise StorageError(f"{path}: cannot write model file: {exc.strerror or exc}") from exc
