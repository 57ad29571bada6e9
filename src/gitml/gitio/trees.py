"""Git trees built from objects, never through a checkout or an index.

A promotion commit is the registered commit's tree with one folder (the stage's rendered
deployment) put in or swapped: these functions write the blobs and trees for that and
read a folder's tree back, so both sides compare tree ids, i.e. bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.errors import GitError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from gitml.gitio.repo import GitRepo

TREE_MODE = "040000"
FILE_MODE = "100644"


def write_blob(repo: GitRepo, text: str) -> str:
    """Store ``text`` (UTF-8) as a blob; its id."""
    return repo.run_input(["hash-object", "-w", "--stdin"], text).stdout.strip()


def _entries(repo: GitRepo, tree: str) -> dict[str, str]:
    """``{name: "<mode> <type> <id>"}`` of one tree, names exactly as git stores them."""
    out = repo.run("ls-tree", "-z", "--end-of-options", tree).stdout
    entries = {}
    for record in out.split("\0"):
        if record:
            meta, name = record.split("\t", 1)
            entries[name] = meta
    return entries


def _make_tree(repo: GitRepo, entries: Mapping[str, str]) -> str:
    text = "".join(f"{meta}\t{name}\0" for name, meta in sorted(entries.items()))
    return repo.run_input(["mktree", "-z"], text).stdout.strip()


def tree_from_files(repo: GitRepo, files: Mapping[str, str]) -> str:
    """A tree holding ``files`` (relative path → text), folders made as the paths need."""
    nested: dict[str, dict[str, str]] = {}
    entries: dict[str, str] = {}
    for path, text in files.items():
        head, _, rest = path.partition("/")
        if rest:
            nested.setdefault(head, {})[rest] = text
        else:
            entries[head] = f"{FILE_MODE} blob {write_blob(repo, text)}"
    for name, inner in nested.items():
        entries[name] = f"{TREE_MODE} tree {tree_from_files(repo, inner)}"
    return _make_tree(repo, entries)


def subtree(repo: GitRepo, treeish: str, path: str) -> str | None:
    """The id of the folder ``path`` in ``treeish`` (a commit or tree); None when absent
    or not a folder."""
    # Everything after ``:`` is a path, so the object's type is asked separately.
    found = repo.run("rev-parse", "--verify", "--quiet", f"{treeish}:{path}", check=False)
    if found.returncode != 0:
        return None
    obj = found.stdout.strip()
    return obj if repo.run("cat-file", "-t", obj).stdout.strip() == "tree" else None


def with_subtree(repo: GitRepo, tree: str, path: str, replacement: str | None) -> str:
    """``tree`` with the folder at ``path`` replaced by the tree ``replacement`` (removed
    when None), every folder on the way made or rewritten; everything else untouched."""
    head, _, rest = path.strip("/").partition("/")
    if not head:
        raise GitError("an empty folder path cannot be replaced")
    entries = _entries(repo, tree)
    current = entries.get(head)
    if rest:
        inner = current.split()[2] if current and current.startswith(TREE_MODE) else None
        if inner is None:
            inner = _make_tree(repo, {})
        replacement = with_subtree(repo, inner, rest, replacement)
        if replacement == _make_tree(repo, {}):
            replacement = None  # git keeps no empty folders
    if replacement is None:
        entries.pop(head, None)
    else:
        entries[head] = f"{TREE_MODE} tree {replacement}"
    return _make_tree(repo, entries)


def tree_files(repo: GitRepo, tree: str) -> dict[str, bytes]:
    """Every file under ``tree`` (relative path → bytes): for comparing and summarising a
    rendered stage, which holds a handful of small files."""
    from gitml.gitio.catfile import CatFile

    out = repo.run("ls-tree", "-r", "-z", "--end-of-options", tree).stdout
    files = {}
    with CatFile(repo.root) as blobs:
        for record in out.split("\0"):
            if not record:
                continue
            meta, name = record.split("\t", 1)
            mode, kind, obj = meta.split()
            if kind != "blob" or mode not in (FILE_MODE, "100755"):
                continue
            data = blobs.read(obj)
            if data is None:
                raise GitError(f"git cat-file: cannot read blob {obj}")
            files[name] = data
    return files


def folder_files(repo: GitRepo, commit: str, path: str) -> dict[str, bytes]:
    """Every file of the folder ``path`` at ``commit`` (empty when there is none)."""
    folder = subtree(repo, commit, path)
    return tree_files(repo, folder) if folder else {}


def is_ancestor(repo: GitRepo, ancestor: str, commit: str) -> bool:
    """Whether ``ancestor`` is ``commit`` or one of its ancestors."""
    result = repo.run("merge-base", "--is-ancestor", ancestor, commit, check=False)
    return result.returncode == 0
