"""``gitml deploy``: a stage as a container build context and cluster manifests.

:mod:`~gitml.deploy.settings` parses ``gitml.yaml`` ``deploy:``; :mod:`~gitml.deploy.release`
is what is deployed; :mod:`~gitml.deploy.context`, :mod:`~gitml.deploy.kubernetes` and
:mod:`~gitml.deploy.kserve` render, pure; :mod:`~gitml.deploy.resolve` reads the registry
and :mod:`~gitml.deploy.write` writes the files.
"""
