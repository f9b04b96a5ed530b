"""GX Data Docs that render offline: the CDN styles, scripts and fonts as local copies.

GX writes every Data Docs page with <link>/<script> tags to CDNs (jQuery, Bootstrap, Popper,
bootstrap-table, bootstrap-datepicker, Font Awesome, Vega, bootstrap-dark) and a logo on S3. On a
machine without internet (a government network; an audit pack's offline verification) a page is
then unstyled and its results table never renders. Here:

1. `ensure_assets()` (at set-up: `make setup` runs `python -m expectations.data_docs_offline`;
   again, when missing, at the first Data Docs build): every package of
   `expectations/data_docs_assets.json` is fetched with the npm client (`npm pack NAME@VERSION`,
   the exact version), its tarball checked against the pinned sha256, and the listed files unpacked
   into `expectations/vendor/data_docs/NAME@VERSION/` (not committed; a fresh clone gets it from
   the set-up).
2. `make_site_offline(site)` (after every Data Docs build: `month_validation.build_data_docs`,
   which every validation calls) copies them into the site (`static/vendor/`) and rewrites each
   page so every CDN URL of the manifest points to its local copy by a RELATIVE path: the site
   works where it is, and copied (audit packs carry it). The S3 logo becomes GX's own
   `static/images/logo-long.png`. A tag's `integrity` (SRI) is checked against the local file,
   then dropped with its `crossorigin` (a CORS fetch of a file:// URL fails in a browser).

Plain <a href> links to the GX documentation stay as they are: they are not loaded.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from fnmatch import fnmatch
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

MANIFEST = Path(__file__).with_name("data_docs_assets.json")
VENDOR_DIR = Path(__file__).with_name("vendor") / "data_docs"
SITE_VENDOR = Path("static") / "vendor"  # inside the Data Docs site
COMPLETE = ".sha256"  # written last in a package's folder: the tarball it was unpacked from

URL = re.compile(r"""https?://[^\s"'()<>]+""")
TAG = re.compile(r"<(?:script|link|img)\b[^>]*>", re.IGNORECASE)
ATTR_URL = re.compile(r"""\b(src|href)\s*=\s*(["'])(https?://[^"']+)\2""", re.IGNORECASE)
INTEGRITY = re.compile(r"""\s+integrity\s*=\s*(["'])([^"']*)\1""", re.IGNORECASE)
STATIC_LINK = re.compile(r"""\b(src|href)\s*=\s*(["'])((?:\./|(?:\.\./)+)static/[^"']+)\2""")
CROSSORIGIN = re.compile(r"""\s+crossorigin(?:\s*=\s*(["'])[^"']*\1)?""", re.IGNORECASE)


class DataDocsAssetsError(RuntimeError):
    """A local copy could not be had (npm missing or failing, a tarball whose sha256 differs)."""


@dataclass
class OfflineSite:
    """What `make_site_offline` did: pages rewritten, and URLs it left pointing off the machine
    (a script, stylesheet or image of a GX version the manifest does not know yet)."""

    site: Path
    pages: int = 0
    rewritten: int = 0
    unresolved: dict[str, list[str]] = field(default_factory=dict)  # page -> remote URLs it loads


@lru_cache(maxsize=1)
def manifest() -> dict:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def package_key(entry: dict) -> str:
    return f"{entry['package']}@{entry['version']}"


def _strip_query(url: str) -> str:
    return url.split("?", 1)[0].split("#", 1)[0]


def local_target(url: str) -> Path | None:
    """The site-relative path of the local copy that stands for `url`, or None."""
    bare = _strip_query(url)
    m = manifest()
    if bare in m["urls"]:
        return SITE_VENDOR / m["urls"][bare]
    if bare in m["site_files"]:
        return Path(m["site_files"][bare])
    return None


# --------------------------------------------------------------------------------------------
# 1. The local copies, fetched once per checkout.

def _complete(entry: dict, root: Path) -> bool:
    marker = root / package_key(entry) / COMPLETE
    return marker.is_file() and marker.read_text().strip() == entry["sha256"]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _npm_pack(spec: str, into: Path) -> Path:
    npm = shutil.which("npm")
    if not npm:
        raise DataDocsAssetsError("npm is not on PATH: it fetches the Data Docs assets (Debian: apt-get install npm)")
    proc = subprocess.run([npm, "pack", spec, "--json", "--silent", "--pack-destination", str(into)],
                          capture_output=True, text=True, cwd=into, timeout=300)
    if proc.returncode != 0:
        raise DataDocsAssetsError(f"npm pack {spec} failed: {(proc.stderr or proc.stdout).strip()[-2000:]}")
    try:
        filename = json.loads(proc.stdout)[0]["filename"]
    except (ValueError, LookupError) as exc:
        raise DataDocsAssetsError(f"npm pack {spec}: unreadable answer {proc.stdout[:500]!r}") from exc
    # npm names a scoped package's tarball without '@' and with '-' for '/'
    return into / filename.replace("@", "").replace("/", "-")


def _unpack(entry: dict, tarball: Path, out: Path) -> int:
    """The manifest's files (patterns relative to the package root) of `tarball` into `out`."""
    taken = 0
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            rel = member.name.split("/", 1)[1] if "/" in member.name else member.name  # 'package/...'
            if ".." in Path(rel).parts or not any(fnmatch(rel, pattern) for pattern in entry["files"]):
                continue
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with tar.extractfile(member) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
            taken += 1
    missing = [p for p in entry["files"] if not any(fnmatch(str(f.relative_to(out)), p)
                                                      for f in out.rglob("*") if f.is_file())]
    if missing:
        raise DataDocsAssetsError(f"{package_key(entry)}: no file matches {missing} in its tarball")
    return taken


def ensure_assets(root: Path | None = None) -> Path:
    """Every package of the manifest unpacked under `root` (default expectations/vendor/data_docs);
    fetched only when missing or of another tarball. Safe with several processes at once (a lock;
    each package's folder appears whole). Raises DataDocsAssetsError."""
    root = Path(root or VENDOR_DIR)
    entries = manifest()["packages"]
    if all(_complete(e, root) for e in entries):
        return root
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for entry in entries:
            if _complete(entry, root):
                continue
            key = package_key(entry)
            with tempfile.TemporaryDirectory(dir=root, prefix=".fetch-") as tmp:
                tmp_path = Path(tmp)
                tarball = _npm_pack(key, tmp_path)
                actual = _sha256(tarball)
                if actual != entry["sha256"]:
                    raise DataDocsAssetsError(f"{key}: tarball sha256 {actual}, the manifest pins {entry['sha256']}")
                staged = tmp_path / "unpacked"
                _unpack(entry, tarball, staged)
                (staged / COMPLETE).write_text(entry["sha256"] + "\n")
                final = root / key
                if final.exists():
                    shutil.rmtree(final)
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staged, final)
            log.info("Data Docs asset %s unpacked into %s", key, final)
    return root


# --------------------------------------------------------------------------------------------
# 2. A site pointed at its local copies.

def _sri_matches(integrity: str, path: Path) -> bool:
    """True when one of the tag's `integrity` hashes (sha256/384/512-<base64>) is the file's."""
    data = path.read_bytes()
    for token in integrity.split():
        algorithm, _, expected = token.partition("-")
        if algorithm in {"sha256", "sha384", "sha512"}:
            actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
            if actual == expected:
                return True
    return False


def rewrite_page(html: str, page: Path, site: Path) -> tuple[str, int, list[str]]:
    """`html` of `page` (a file inside `site`) with every known CDN URL pointing to its local copy
    by a path relative to the page; (new html, URLs replaced, remote URLs still loaded)."""
    replaced = 0
    page_dir = page.parent

    def relative(target: Path) -> str:
        return Path(os.path.relpath(site / target, page_dir)).as_posix()

    def fix_tag(match: re.Match) -> str:
        nonlocal replaced
        tag = match.group(0)
        attr = ATTR_URL.search(tag)
        if not attr:
            return tag
        target = local_target(attr.group(3))
        if target is None:
            return tag
        integrity = INTEGRITY.search(tag)
        if integrity and not _sri_matches(integrity.group(2), site / target):
            raise DataDocsAssetsError(f"{attr.group(3)}: the local copy {target} does not match the page's integrity hash")
        tag = tag[:attr.start(3)] + relative(target) + tag[attr.end(3):]
        if integrity:
            tag = CROSSORIGIN.sub("", INTEGRITY.sub("", tag))
        replaced += 1
        return tag

    def fix_static(match: re.Match) -> str:
        # GX links its own static files (the favicon) from a validation page one level short
        # (../../../static/ from four folders down): point it at the site's static/ when it misses
        nonlocal replaced
        link = match.group(3)
        if (page_dir / link).exists():
            return match.group(0)
        target = Path(link[link.index("static/"):])
        if not (site / target).exists():
            return match.group(0)
        replaced += 1
        return f"{match.group(1)}={match.group(2)}{relative(target)}{match.group(2)}"

    html = TAG.sub(fix_tag, html)
    html = STATIC_LINK.sub(fix_static, html)

    def fix_url(match: re.Match) -> str:  # CSS url(...) in inline styles, and the like
        nonlocal replaced
        target = local_target(match.group(0))
        if target is None:
            return match.group(0)
        replaced += 1
        return relative(target)

    html = URL.sub(fix_url, html)
    return html, replaced, remote_loads(html)


def remote_loads(html: str) -> list[str]:
    """Remote URLs the page would load: src/href of <script>, <link>, <img>, and CSS url(...)
    (plain <a href> links are not loads)."""
    found = []
    for tag in TAG.finditer(html):
        attr = ATTR_URL.search(tag.group(0))
        if attr:
            found.append(attr.group(3))
    found += re.findall(r"""url\(\s*["']?(https?://[^"')\s]+)""", html)
    return found


def copy_assets(site: Path, root: Path | None = None) -> Path:
    """The local copies into `site/static/vendor/` (files already there and of the same size
    are kept)."""
    root = ensure_assets(root)
    out = site / SITE_VENDOR
    for entry in manifest()["packages"]:
        src_root = root / package_key(entry)
        for src in src_root.rglob("*"):
            if not src.is_file() or src.name == COMPLETE:
                continue
            dst = out / package_key(entry) / src.relative_to(src_root)
            if dst.is_file() and dst.stat().st_size == src.stat().st_size:
                continue
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
    return out


def make_site_offline(site: Path, root: Path | None = None) -> OfflineSite:
    """Copy the local assets into the Data Docs `site` (the folder holding index.html) and point
    every page at them. Idempotent: a page already rewritten is left as it is."""
    site = Path(site)
    report = OfflineSite(site=site)
    copy_assets(site, root)
    for page in sorted(site.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        new, replaced, remote = rewrite_page(text, page, site)
        report.pages += 1
        if replaced:
            page.write_text(new, encoding="utf-8")
            report.rewritten += 1
        if remote:
            report.unresolved[page.relative_to(site).as_posix()] = remote
    if report.unresolved:
        urls = sorted({u for us in report.unresolved.values() for u in us})
        log.warning("Data Docs pages still load %d remote URL(s) the manifest %s does not know: %s",
                    len(urls), MANIFEST.name, ", ".join(urls[:10]))
    return report


def main() -> int:
    """`python -m expectations.data_docs_offline`: fetch the local copies (make setup)."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        root = ensure_assets()
    except DataDocsAssetsError as exc:
        print(f"Data Docs assets: {exc}", file=sys.stderr)
        return 1
    print(f"Data Docs assets: {len(manifest()['packages'])} packages in {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
