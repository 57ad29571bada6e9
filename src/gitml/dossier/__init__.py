"""The dossier of one model version: every fact an auditor asks for, each with its proof.

:mod:`~gitml.dossier.facts` gathers them from git (tags, commits, the files at the
registered commit) into the typed model of :mod:`~gitml.dossier.model`;
:mod:`~gitml.dossier.layout` arranges them in the sections of the EU AI Act's Annex IV
technical documentation, which :mod:`~gitml.dossier.markdown` and
:mod:`~gitml.dossier.html` render. Nothing in a dossier depends on when it was built.
"""
