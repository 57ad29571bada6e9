"""Serving registered models over HTTP, and exporting them for other serving stacks.

* :func:`gitml.serve.loaded.load_version`: a registered version in memory, verified.
* :func:`gitml.serve.app.create_app`: the Starlette app (``/predict``, ``/feedback``,
  ``/health``, ``/metadata``, ``/metrics``), around a stable version and optionally a
  candidate on canary or in shadow (:mod:`gitml.serve.deployment`), with the canary
  analysis' hooks.
* :func:`gitml.serve.run.serve`: load and run it with uvicorn (``gitml serve``), on a
  socket bound first, with bounded connections and a bounded log
  (:mod:`gitml.serve.server`, :mod:`gitml.serve.connections`,
  :mod:`gitml.serve.logbounds`).
* :func:`gitml.serve.export.export`: write an MLflow model or a plain directory.

Importing this package loads neither Starlette nor scikit-learn; the submodules do.
"""

from __future__ import annotations

from gitml.serve.loaded import LoadedModel, load_version

__all__ = ["LoadedModel", "load_version"]
