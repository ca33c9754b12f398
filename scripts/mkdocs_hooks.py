"""mkdocs hooks (mkdocs.yml `hooks:`): the site works with no internet access.

The mkdocs theme highlights code with highlight.js from a CDN; offline, code
blocks lose their colours and every page logs `hljs is not defined`. The site
turns that off (`highlightjs: false`) and highlights at build time with Pygments
(the `codehilite` extension) instead; this hook adds Pygments' stylesheet for
it, generated from the installed Pygments so it never drifts.

Headings' ids never start with a digit: the theme's scripts look them up as CSS
selectors, and `#030-next` (from "0.3.0 (next)") is not one, which stopped
every script on the releases page.
"""

from __future__ import annotations

from typing import Any

from markdown.extensions.toc import slugify
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from pygments.formatters import HtmlFormatter

# Listed under extra_css in mkdocs.yml.
PYGMENTS_STYLESHEET = "css/pygments.css"


def on_files(files: Files, config: MkDocsConfig) -> Files:
    formatter: HtmlFormatter[str] = HtmlFormatter(style="default")
    css = formatter.get_style_defs(".codehilite")  # type: ignore[no-untyped-call]  # unannotated in types-pygments
    files.append(File.generated(config, PYGMENTS_STYLESHEET, content=css))
    return files


def heading_id(value: str, separator: str) -> str:
    slug: str = slugify(value, separator)
    return f"v{slug}" if slug[:1].isdigit() else slug


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    toc: dict[str, Any] = config.mdx_configs.setdefault("toc", {})
    toc["slugify"] = heading_id
    return config
