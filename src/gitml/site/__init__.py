"""``gitml site``: the registry as a static web site (no server, no script needed).

:mod:`~gitml.site.build` gathers what the registry holds and writes the pages;
:mod:`~gitml.site.pages` renders them, :mod:`~gitml.site.svg` draws the charts at build
time and :mod:`~gitml.site.layout` holds the page shell, its CSS and its one optional
script.
"""
