"""Manifests as YAML text that is the same bytes for the same values (sorted keys, block
style, no line folding), so a promotion PR's diff shows only what changed."""

from __future__ import annotations

from typing import Any

import yaml


class _Dumper(yaml.SafeDumper):
    """Indents lists under their key, as ``kubectl`` and most hand-written manifests do."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def manifest_text(document: dict[str, Any], header: str) -> str:
    """``document`` as one YAML document, after a ``#`` comment line saying where it came
    from (the file is rendered, not hand-edited)."""
    body = yaml.dump(
        document,
        Dumper=_Dumper,
        sort_keys=True,
        default_flow_style=False,
        allow_unicode=False,
        width=1_000_000,  # never fold a long value: a folded line diffs badly
    )
    return f"# {header}\n{body}"
