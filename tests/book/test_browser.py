"""The built site in a real browser: every page loads cleanly, reads well and works offline.

Run by ``make strict`` right after the HTML build (marker ``built_book``);
``BOOK_BUILD_DIR`` selects another build, as for the chapters' claims (``tests/book/bookglue.py``).
The site is served from ``<build>/html`` on 127.0.0.1 and every page (every
``.html`` outside ``mathjax/`` and ``_static/``, the index and search pages
included) is opened in Debian's Chromium through Playwright, once at desktop
size (1280x800) and once at phone width (390x844). For every page:

* every request goes to 127.0.0.1 (no other host resolves in this browser;
  any request elsewhere fails the test), every response is below 400 and no
  request fails;
* no console error and no uncaught exception;
* every ``<img>`` has loaded (``naturalWidth > 0``) and has alt text that is not
  empty and not a file name or path;
* where the page has maths, MathJax has typeset every ``.math`` element, with
  no MathJax error and no raw ``$$`` left in the visible text;
* axe-core reports no violation of impact "serious" or "critical" (lesser
  ones are listed in the summary and in ``<build>/browser-report.json``);
* at phone width the page itself does not scroll sideways: wide tables, code
  and equations scroll inside their own boxes;
* at both sizes no formula is cut off by a box that hides its overflow, and a
  formula's box scrolls only if the formula is wider than it.

Also: the search page finds a chapter, and screenshots of one chapter at both
sizes are saved to ``<build>/screenshots/``.

axe-core runs on the desktop visits. The browser is ``/usr/bin/chromium``
(``apt-get install chromium``; ``BOOK_CHROMIUM`` names another binary; never
``playwright install``, whose download this project does not rely on). Without
it the test is skipped, except under CI (``CI=true``), where it fails.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest

from bookglue import build_dir

pytestmark = pytest.mark.built_book

CHROMIUM = Path(os.environ.get("BOOK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    # No host but the test server resolves: a request elsewhere fails at once (and is
    # recorded), on a closed network or an open one, while the HTTP cache keeps working.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SCREENSHOT_PAGE = "book/ch4_sigmoid_derivative.html"
SEARCH_WORD, SEARCH_EXPECTS = "sigmoid", "book/ch4_sigmoid_derivative.html"
EXCLUDED_DIRS = ("mathjax", "_static")
NAV_TIMEOUT_MS = 30_000
# axe-core's CSSOM preload (used only by the css-orientation-lock rule) fetches an
# @import relative to the page instead of the stylesheet: the theme's
# _static/styles/theme.css imports "../basic.css", which axe then requests as
# <site>/basic.css and gets a 404 the site never causes (dequelabs/axe-core#5268).
AXE_OPTIONS = {"resultTypes": ["violations"], "preload": False}
# MathJax draws each formula twice: a visual rendering (mjx-math, aria-hidden="true",
# its glyphs drawn by CSS ::before content, which axe-core cannot read) and a MathML
# copy for screen readers (mjx-assistive-mml), which axe still checks. The visual
# copy is almost half of a chapter's elements (8,100 of 17,600 in chapter 3) and
# a quarter of axe's time there.
AXE_CONTEXT = {"exclude": [["mjx-container > mjx-math"]]}


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _unavailable(reason: str) -> None:
    """Fail under CI, where the browser check must run; skip on a developer's machine."""
    if _in_ci():
        pytest.fail(f"{reason} (CI=true: the browser test must run here)", pytrace=False)
    pytest.skip(f"{reason}; install it with `sudo apt-get install chromium` to run the browser test")


# --------------------------------------------------------------------------- site and server


def site_dir() -> Path:
    return build_dir() / "html"


def site_pages(site: Path) -> list[str]:
    """Every HTML page of the site, as a URL path relative to the site root."""
    pages = []
    for p in sorted(site.rglob("*.html")):
        rel = p.relative_to(site)
        if rel.parts[0] not in EXCLUDED_DIRS:
            pages.append(rel.as_posix())
    return pages


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
        pass


@pytest.fixture(scope="module")
def site() -> Path:
    site = site_dir()
    if not (site / "index.html").exists():
        pytest.fail(f"no built site at {site}: run the strict build first (make strict)", pytrace=False)
    return site


@pytest.fixture(scope="module")
def base_url(site: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="book-site", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _unavailable(f"Chromium was not found at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the Python package playwright is not installed in this environment (requirements.txt)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# --------------------------------------------------------------------------- one visit of one page


@dataclass
class Visit:
    page: str
    viewport: str
    requests: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)
    bad_responses: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    has_math: bool = False
    math: dict[str, Any] = field(default_factory=dict)
    scroll: dict[str, Any] = field(default_factory=dict)
    axe: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    seconds: dict[str, float] = field(default_factory=dict)
    failure: str = ""  # the visit itself could not be completed (a timeout, a crashed page)


def _is_local(url: str, base_url: str) -> bool:
    return url.startswith((base_url, "data:", "blob:", "about:"))


def _watch(page: Any, visit: Visit, base_url: str) -> None:
    """Record every request, response >= 400, failed request, console error and uncaught exception."""

    def request(r: Any) -> None:
        visit.requests.append(r.url)
        if not _is_local(r.url, base_url):
            visit.external.append(r.url)

    page.on("request", request)
    page.on("response", lambda r: r.status >= 400 and visit.bad_responses.append(f"{r.status} {r.url}"))
    page.on("requestfailed", lambda r: visit.failed_requests.append(f"{r.failure} {r.url}"))
    page.on("console", lambda m: m.type == "error" and visit.console_errors.append(f"{m.text} @ {m.location.get('url', '')}"))
    page.on("pageerror", lambda e: visit.page_errors.append(str(e)))


PAGE_HAS_MATH = re.compile(r'class="(?:[^"]*\s)?math(?:\s[^"]*)?"')
REDIRECT = re.compile(r'<meta http-equiv="refresh"', re.IGNORECASE)

WAIT_FOR_MATHJAX = """async () => {
  const deadline = Date.now() + 20000;
  while (!(window.MathJax && window.MathJax.startup && window.MathJax.startup.promise)) {
    if (Date.now() > deadline) return false;
    await new Promise(r => setTimeout(r, 50));
  }
  await window.MathJax.startup.promise;
  return true;
}"""

LOAD_IMAGES = """async () => {
  const imgs = Array.from(document.images);
  imgs.forEach(img => { img.loading = 'eager'; });
  await Promise.all(imgs.map(img => img.complete ? null : new Promise(done => {
    img.addEventListener('load', done, {once: true});
    img.addEventListener('error', done, {once: true});
    setTimeout(done, 10000);
  })));
  return imgs.map(img => ({src: img.getAttribute('src') || '', alt: img.getAttribute('alt'),
                           naturalWidth: img.naturalWidth, complete: img.complete}));
}"""

MATH_STATE = """() => {
  const maths = Array.from(document.querySelectorAll('.math'));
  const hidden = new Set(['SCRIPT', 'STYLE', 'PRE', 'CODE', 'TEXTAREA', 'MJX-CONTAINER']);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const raw = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.nodeValue.includes('$$')) continue;
    let el = node.parentElement, skip = false;
    for (let a = el; a; a = a.parentElement) if (hidden.has(a.tagName)) { skip = true; break; }
    if (!skip && el.checkVisibility()) raw.push(node.nodeValue.trim().slice(0, 120));
  }
  return {
    mathElements: maths.length,
    containers: document.querySelectorAll('mjx-container').length,
    untypeset: maths.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.trim().slice(0, 80)),
    errors: Array.from(document.querySelectorAll('mjx-merror')).map(e => (e.getAttribute('data-mjx-error') || e.textContent).slice(0, 120)),
    rawDollars: raw,
  };
}"""

SCROLL_STATE = """() => {
  const doc = document.documentElement, w = doc.clientWidth;  // the layout viewport
  const scrolls = el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  const describe = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
    ' "' + el.textContent.trim().replace(/\\s+/g, ' ').slice(0, 60) + '"';
  // Which boxes make the page wider than the screen: the outermost ones not inside a scroller.
  const widest = [];
  if (doc.scrollWidth > w + 1) {
    const wide = new Set();
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.right <= w + 1 || r.width === 0 || !el.checkVisibility({visibilityProperty: true})) continue;
      if (getComputedStyle(el).position === 'fixed') continue;  // sized to the page, not widening it
      let inside = false;
      for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
        if (wide.has(a) || scrolls(a)) { inside = true; break; }
      }
      wide.add(el);
      if (!inside) widest.push(describe(el) + ' right edge ' + Math.round(r.right));
    }
  }
  // Maths cut off by a box that hides its overflow (nothing to scroll to), and maths boxes
  // that scroll although the visible formula fits (a scrollbar for nothing).
  const clipped = [], needless = [];
  for (const math of document.querySelectorAll('mjx-container > mjx-math')) {
    if (!math.checkVisibility({visibilityProperty: true})) continue;
    let box = math.parentElement;
    while (box !== document.body && getComputedStyle(box).overflowX === 'visible') box = box.parentElement;
    if (box === document.body) continue;
    const m = math.getBoundingClientRect(), b = box.getBoundingClientRect();
    const what = describe(math.closest('.math') || math.parentElement);
    if (['hidden', 'clip'].includes(getComputedStyle(box).overflowX)) {
      if (m.left < b.left - 1 || m.right > b.right + 1) clipped.push(what + ' (' + Math.round(m.width) + ' px in ' + box.clientWidth + ')');
    } else if (box.matches('.math, mjx-container') && box.scrollWidth > box.clientWidth + 1 && m.width <= box.clientWidth + 1) {
      needless.push(what + ' (scrolls ' + box.scrollWidth + ' px in ' + box.clientWidth + ', formula ' + Math.round(m.width) + ')');
    }
  }
  return {scrollWidth: doc.scrollWidth, innerWidth: window.innerWidth, clientWidth: w, widest: widest.slice(0, 8), clippedMaths: clipped, needlessScroll: needless};
}"""


@dataclass
class Opened:
    """A page whose navigation has started; :func:`_finish` completes the visit."""

    page: Any
    visit: Visit
    source: str
    started: float


def _open(context: Any, base_url: str, site: Path, page_path: str, viewport: str) -> Opened:
    visit = Visit(page=page_path, viewport=viewport)
    page = context.new_page()
    _watch(page, visit, base_url)
    started = time.monotonic()
    # Return once the navigation has started: the browser loads this page while
    # Python works on the other viewport's page (the two loads overlap).
    try:
        page.goto(base_url + page_path, wait_until="commit", timeout=NAV_TIMEOUT_MS)
    except Exception as exc:  # noqa: BLE001 - reported by test_every_page_is_visited
        visit.failure = f"{type(exc).__name__}: {exc}".splitlines()[0]
    return Opened(page, visit, (site / page_path).read_text(encoding="utf-8"), started)


def _finish(opened: Opened, site: Path, axe: Any = None, screenshots: Path | None = None) -> Visit:
    page, visit, source = opened.page, opened.visit, opened.source
    clock = opened.started

    def lap(name: str) -> None:
        nonlocal clock
        visit.seconds[name] = round(time.monotonic() - clock, 2)
        clock = time.monotonic()

    try:
        if visit.failure:
            return visit
        page.wait_for_load_state("load", timeout=NAV_TIMEOUT_MS)
        if REDIRECT.search(source):  # index.html: check the page it forwards to
            page.wait_for_url(lambda url: not url.endswith("/" + visit.page), timeout=NAV_TIMEOUT_MS)
            page.wait_for_load_state("load", timeout=NAV_TIMEOUT_MS)
            source = (site / urlsplit(page.url).path.lstrip("/")).read_text(encoding="utf-8")
        visit.url = page.url
        visit.has_math = bool(PAGE_HAS_MATH.search(source))
        lap("load")
        if page.evaluate("() => !!document.querySelector('script[src*=\"mathjax\"]')"):
            if not page.evaluate(WAIT_FOR_MATHJAX):
                visit.page_errors.append("MathJax did not start within 20 s")
        lap("mathjax")
        visit.images = page.evaluate(LOAD_IMAGES)
        page.evaluate("() => document.fonts.ready.then(() => true)")  # the fonts MathJax asked for
        lap("images+fonts")
        visit.math = page.evaluate(MATH_STATE)
        visit.scroll = page.evaluate(SCROLL_STATE)
        lap("checks")
        if screenshots is not None:
            _screenshots(page, screenshots / f"{Path(visit.page).stem}-{visit.viewport}")
        if axe is not None:
            result = axe.run(page, context=AXE_CONTEXT, options=AXE_OPTIONS)
            lap("axe")
            visit.axe = [
                {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]}
                for v in result.response["violations"]
            ]
    except Exception as exc:  # noqa: BLE001 - one broken page must not hide the results of the others
        visit.failure = f"{type(exc).__name__}: {exc}".splitlines()[0]
    finally:
        page.close()
    return visit


def _screenshots(page: Any, stem: Path) -> None:
    """The top of the page, and further down its first figure with the text and maths around it."""
    page.screenshot(path=f"{stem}.png")
    page.locator("figure, div.cell_output img").first.scroll_into_view_if_needed()
    page.evaluate("() => window.scrollBy(0, -120)")
    page.wait_for_timeout(200)
    page.screenshot(path=f"{stem}-figure.png")
    page.evaluate("() => window.scrollTo(0, 0)")


@dataclass
class Survey:
    pages: list[str]
    desktop: dict[str, Visit]
    phone: dict[str, Visit]
    seconds: float

    def visits(self) -> list[Visit]:
        return list(self.desktop.values()) + list(self.phone.values())


@pytest.fixture(scope="module")
def survey(site: Path, base_url: str, browser: Any) -> Survey:
    from axe_playwright_python.sync_playwright import Axe

    start = time.monotonic()
    pages = site_pages(site)
    axe = Axe()
    screenshots = site.parent / "screenshots"
    screenshots.mkdir(exist_ok=True)
    for old in screenshots.glob("*.png"):
        old.unlink()
    result = Survey(pages=pages, desktop={}, phone={}, seconds=0.0)
    desktop = browser.new_context(viewport=DESKTOP, service_workers="block")
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, service_workers="block")
    try:
        for page_path in pages:
            small = _open(phone, base_url, site, page_path, "phone")
            large = _open(desktop, base_url, site, page_path, "desktop")
            shots = screenshots if page_path == SCREENSHOT_PAGE else None
            result.desktop[page_path] = _finish(large, site, axe=axe, screenshots=shots)
            result.phone[page_path] = _finish(small, site, screenshots=shots)
    finally:
        desktop.close()
        phone.close()
    result.seconds = time.monotonic() - start
    report = {"pages": pages, "seconds": round(result.seconds, 1),
              "visits": [asdict(v) for v in result.visits()]}
    (site.parent / "browser-report.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    return result


def _offenders_in(visits: list[Visit], items: Any) -> dict[str, list[Any]]:
    found = {f"{v.page} [{v.viewport}]": items(v) for v in visits}
    return {k: v for k, v in found.items() if v}


def _fmt(offenders: dict[str, Any]) -> str:
    return "\n" + "\n".join(f"  {page}: {items}" for page, items in offenders.items())


# --------------------------------------------------------------------------- the checks


def test_every_page_is_visited(survey: Survey) -> None:
    assert {"index.html", "genindex.html", "search.html"} <= set(survey.pages), survey.pages
    assert any(p.startswith("book/") for p in survey.pages), survey.pages
    assert set(survey.desktop) == set(survey.phone) == set(survey.pages)
    offenders = _offenders_in(survey.visits(), lambda v: v.failure)
    assert not offenders, "visits that could not be completed (the other checks lack these pages):" + _fmt(offenders)


def test_no_request_leaves_the_local_server(survey: Survey) -> None:
    offenders = _offenders_in(survey.visits(), lambda v: sorted(set(v.external)))
    assert not offenders, "requests to other hosts than 127.0.0.1 (the book must work offline):" + _fmt(offenders)


def test_every_resource_answers(survey: Survey) -> None:
    # Requests to other hosts fail too (they cannot resolve); the test above reports those.
    offenders = _offenders_in(survey.visits(), lambda v: v.bad_responses + [
        f for f in v.failed_requests if not any(f.endswith(" " + url) for url in v.external)])
    assert not offenders, "responses >= 400 or failed requests:" + _fmt(offenders)
    assert all(v.requests for v in survey.visits())


def test_no_console_errors(survey: Survey) -> None:
    offenders = _offenders_in(survey.visits(), lambda v: v.console_errors + [f"uncaught: {e}" for e in v.page_errors])
    assert not offenders, "console errors:" + _fmt(offenders)


def test_no_thebe_scripts(site: Path) -> None:
    """_ext/book_site.py removes sphinx-thebe's scripts (its second inline copy throws)."""
    offenders = [p for p in site_pages(site)
                 if re.search(r'<script[^>]*src="[^"]*thebe|THEBE_JS_URL', (site / p).read_text(encoding="utf-8"))]
    assert not offenders, f"pages still load sphinx-thebe scripts: {offenders}"


def test_every_image_loads(survey: Survey) -> None:
    offenders = _offenders_in(survey.visits(), lambda v: [img["src"] for img in v.images if not img["naturalWidth"]])
    assert not offenders, "images that did not load (naturalWidth 0):" + _fmt(offenders)


FILE_NAME = re.compile(r"\S+\.(?:png|jpe?g|gif|svg|webp|bmp|ico|pdf)", re.IGNORECASE)


def _bad_alt(img: dict[str, Any]) -> str | None:
    alt = (img["alt"] or "").strip()
    if not alt:
        return "no alt text"
    base = img["src"].rsplit("/", 1)[-1]
    if FILE_NAME.fullmatch(alt) or alt in {img["src"], base, base.rsplit(".", 1)[0]}:
        return f"alt text is a file name: {alt!r}"
    if not re.search(r"\s", alt) and re.search(r"[/\\]", alt):
        return f"alt text is a path: {alt!r}"
    return None


def test_every_image_has_alt_text(survey: Survey) -> None:
    offenders = _offenders_in(list(survey.desktop.values()),
                              lambda v: [f"{img['src']}: {why}" for img in v.images if (why := _bad_alt(img))])
    assert not offenders, "images without a real text alternative:" + _fmt(offenders)


def test_alt_text_rule_itself() -> None:
    assert _bad_alt({"src": "../_images/ab12.png", "alt": "ab12.png"})
    assert _bad_alt({"src": "../_images/ab12.png", "alt": "ab12"})
    assert _bad_alt({"src": "x.png", "alt": "_images/figure.png"})
    assert _bad_alt({"src": "x.png", "alt": "figures/loss"})
    assert _bad_alt({"src": "x.png", "alt": "  "})
    assert _bad_alt({"src": "x.png", "alt": None})
    assert _bad_alt({"src": "x.png", "alt": "Line chart of the loss against the step"}) is None


def test_maths_is_typeset(survey: Survey) -> None:
    with_math = [v for v in survey.visits() if v.has_math]
    assert with_math, "no page has maths: the check would test nothing"
    problems = {}
    for v in with_math:
        m = v.math
        issues = []
        if not m.get("containers"):
            issues.append("no mjx-container")
        if m.get("untypeset"):
            issues.append(f"{len(m['untypeset'])} .math elements not typeset, e.g. {m['untypeset'][:3]}")
        if m.get("errors"):
            issues.append(f"MathJax errors: {m['errors'][:5]}")
        if m.get("rawDollars"):
            issues.append(f"raw $$ in the text: {m['rawDollars'][:3]}")
        if issues:
            problems[f"{v.page} [{v.viewport}]"] = issues
    for v in survey.visits():
        if not v.has_math and v.math.get("rawDollars"):
            problems[f"{v.page} [{v.viewport}]"] = [f"raw $$ in the text: {v.math['rawDollars'][:3]}"]
    assert not problems, "maths not typeset:" + _fmt(problems)


def test_no_horizontal_scroll_at_phone_width(survey: Survey) -> None:
    # Not only window.innerWidth: a phone (is_mobile) zooms out to show a page wider than
    # the screen, and innerWidth, the visual viewport, grows with it: 446 px for 446 px of
    # page on a 390 px screen. The screen's own width is the limit.
    limit = PHONE["width"]
    offenders = {
        v.page: f"scrollWidth {v.scroll['scrollWidth']} > {limit} px (innerWidth {v.scroll['innerWidth']}); "
                f"widest: {v.scroll['widest']}"
        for v in survey.phone.values()
        if v.scroll and v.scroll["scrollWidth"] > min(limit, v.scroll["innerWidth"]) + 1
    }
    assert not offenders, f"pages wider than a {limit} px phone screen:" + _fmt(offenders)


def test_no_maths_is_cut_off(survey: Survey) -> None:
    """A formula wider than its column must scroll in its own box, not be clipped."""
    offenders = _offenders_in(survey.visits(), lambda v: v.scroll.get("clippedMaths", []))
    assert not offenders, "maths cut off by a box that hides its overflow:" + _fmt(offenders)


def test_maths_scrolls_only_when_too_wide(survey: Survey) -> None:
    """A maths box gets a scroll range (a scrollbar on desktop) only if its formula is wider than it."""
    offenders = _offenders_in(survey.visits(), lambda v: v.scroll.get("needlessScroll", []))
    assert not offenders, "maths boxes that scroll although the formula fits:" + _fmt(offenders)


def test_no_serious_accessibility_violations(survey: Survey, capsys: pytest.CaptureFixture[str]) -> None:
    serious: dict[str, list[str]] = {}
    lesser: dict[str, list[str]] = {}  # "rule (impact): help" -> ["page (n nodes)", ...]
    for v in survey.desktop.values():
        for violation in v.axe:
            where = f"{v.page} ({len(violation['nodes'])} nodes: {violation['nodes'][:3]})"
            if violation["impact"] in {"serious", "critical"}:
                serious.setdefault(v.page, []).append(f"{violation['id']} ({violation['impact']}): {violation['help']}; "
                                                      f"{len(violation['nodes'])} nodes: {violation['nodes'][:5]}")
            else:
                lesser.setdefault(f"{violation['id']} ({violation['impact']}): {violation['help']}", []).append(where)
    with capsys.disabled():
        print(f"\n[browser] {len(survey.pages)} pages x 2 viewports in {survey.seconds:.0f} s, "
              f"{sum(len(v.requests) for v in survey.visits())} requests; "
              f"details: {site_dir().parent / 'browser-report.json'}")
        print("[browser] axe violations below 'serious':" + (" none" if not lesser else ""))
        for rule, pages in lesser.items():
            listed = f"every page, e.g. {pages[0]}" if len(pages) == len(survey.pages) else "; ".join(pages)
            print(f"  {rule} -- {len(pages)} pages: {listed}")
    assert not serious, "axe-core violations of impact serious or critical:" + _fmt(serious)


def test_a_request_to_another_host_is_caught(browser: Any, base_url: str) -> None:
    """The offline check itself: a page that asks another host is recorded, and gets nothing."""
    context, page, visit = _watched_page(browser, base_url, DESKTOP)
    try:
        page.goto(base_url + "search.html", wait_until="load", timeout=NAV_TIMEOUT_MS)
        loaded = page.evaluate("""() => new Promise(done => {
            const img = new Image();
            img.onload = () => done(true);
            img.onerror = () => done(false);
            img.src = 'https://example.org/pixel.png';
        })""")
    finally:
        context.close()
    assert visit.external == ["https://example.org/pixel.png"] and not loaded, asdict(visit)


# --------------------------------------------------------------------------- search and screenshots


def _watched_page(browser: Any, base_url: str, viewport: dict[str, int], phone: bool = False) -> tuple[Any, Any, Visit]:
    context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone, service_workers="block")
    visit = Visit(page="", viewport="phone" if phone else "desktop")
    page = context.new_page()
    _watch(page, visit, base_url)
    return context, page, visit


def test_search_finds_a_chapter(base_url: str, browser: Any) -> None:
    context, page, visit = _watched_page(browser, base_url, DESKTOP)
    try:
        page.goto(f"{base_url}search.html?q={SEARCH_WORD}", wait_until="load", timeout=NAV_TIMEOUT_MS)
        results = page.locator("#search-results ul.search li a")
        results.first.wait_for(timeout=NAV_TIMEOUT_MS)
        page.wait_for_function(
            "() => !!document.querySelector('#search-results .search-summary')", timeout=NAV_TIMEOUT_MS)
        hrefs = [a.get_attribute("href") or "" for a in results.all()]
    finally:
        context.close()
    assert any(SEARCH_EXPECTS in h for h in hrefs), f"search for {SEARCH_WORD!r} did not list {SEARCH_EXPECTS}: {hrefs}"
    assert not visit.console_errors and not visit.page_errors and not visit.external, asdict(visit)


@pytest.mark.parametrize("name, viewport", [("desktop", DESKTOP), ("phone", PHONE)])
def test_chapter_screenshots(survey: Survey, site: Path, name: str, viewport: dict[str, int]) -> None:
    """Taken during the survey's visits of SCREENSHOT_PAGE, into <build>/screenshots/."""
    assert SCREENSHOT_PAGE in survey.pages, f"{SCREENSHOT_PAGE} is not in the site: update SCREENSHOT_PAGE"
    for shot in (site.parent / "screenshots" / f"{Path(SCREENSHOT_PAGE).stem}-{name}{part}.png" for part in ("", "-figure")):
        assert shot.exists(), f"no screenshot {shot}"
        header = shot.read_bytes()[:24]
        size = int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")  # PNG IHDR
        assert size == (viewport["width"], viewport["height"]), f"{shot} is {size}, not the {name} viewport"
        assert shot.stat().st_size > 10_000, f"{shot} looks empty"


# --------------------------------------------------------------------------- explorables

EXPLORABLE_MARK = 'class="gl-explorable"'
# Each control in turn: focus reaches it by Tab from the previous one, one arrow key moves it, and
# then the chart and the printed values must both differ from before. Returns what was seen.
DRIVE_STATE = """(root) => ({
  setting: root.getAttribute('data-setting'),
  readyMs: Number(root.getAttribute('data-ready-ms')),
  readout: root.querySelector('.gl-x-readout').textContent,
  charts: Array.from(root.querySelectorAll('svg[role="img"]')).map(s => s.innerHTML).join('|'),
  controls: Array.from(root.querySelectorAll('input, select')).map(c => ({
    id: c.id, tag: c.tagName, value: c.value, max: c.max || String(c.options ? c.options.length - 1 : 0),
    label: (document.querySelector('label[for="' + c.id + '"]') || {}).textContent || '',
    valuetext: c.getAttribute('aria-valuetext'),
    shown: c.tagName === 'INPUT' ? (document.getElementById(c.id + '-value') || {}).textContent : null})),
})"""


def explorable_pages(site: Path) -> list[str]:
    return [p for p in site_pages(site) if EXPLORABLE_MARK in (site / p).read_text(encoding="utf-8")]


@dataclass
class Drive:
    page: str
    viewport: str
    name: str
    ready_ms: float
    load_ms: float
    problems: list[str] = field(default_factory=list)


def _drive(page: Any, page_path: str, viewport: str) -> list[Drive]:
    drives = []
    load_ms = page.evaluate("() => performance.getEntriesByType('navigation')[0].loadEventEnd")
    for root in page.locator(".gl-explorable").all():
        name = root.get_attribute("id") or "?"
        root.scroll_into_view_if_needed()
        state = root.evaluate(DRIVE_STATE)
        drive = Drive(page_path, viewport, name, state["readyMs"], load_ms)
        drives.append(drive)
        if state["setting"] is None:
            drive.problems.append("never drawn (no data-setting)")
            continue
        for i, control in enumerate(state["controls"]):
            if not control["label"].strip():
                drive.problems.append(f"{control['id']}: no visible label")
            if i == 0:
                page.focus(f"#{control['id']}")
            else:
                page.keyboard.press("Tab")
            focused = page.evaluate("() => document.activeElement && document.activeElement.id")
            if focused != control["id"]:
                drive.problems.append(f"Tab reached {focused!r}, not {control['id']}")
                page.focus(f"#{control['id']}")
            at_end = int(control["value"]) >= int(control["max"])
            if control["tag"] == "SELECT":
                page.keyboard.press("ArrowUp" if at_end else "ArrowDown")
            else:
                page.keyboard.press("ArrowLeft" if at_end else "ArrowRight")
            after = root.evaluate(DRIVE_STATE)
            moved = after["controls"][i]
            if moved["value"] == control["value"]:
                drive.problems.append(f"{control['id']}: the arrow key did not move it")
            if after["setting"] == state["setting"]:
                drive.problems.append(f"{control['id']}: the setting did not change")
            if after["charts"] == state["charts"]:
                drive.problems.append(f"{control['id']}: the chart did not change")
            if after["readout"] == state["readout"]:
                drive.problems.append(f"{control['id']}: the printed values did not change")
            if moved["tag"] == "INPUT" and not (moved["valuetext"] == moved["shown"] and moved["shown"]):
                drive.problems.append(f"{control['id']}: aria-valuetext {moved['valuetext']!r} is not the shown value {moved['shown']!r}")
            state = after
    return drives


@pytest.fixture(scope="module")
def drives(site: Path, base_url: str, browser: Any) -> list[Drive]:
    found: list[Drive] = []
    for viewport, size, phone in (("desktop", DESKTOP, False), ("phone", PHONE, True)):
        for page_path in explorable_pages(site):
            context, page, visit = _watched_page(browser, base_url, size, phone=phone)
            try:
                page.goto(base_url + page_path, wait_until="load", timeout=NAV_TIMEOUT_MS)
                result = _drive(page, page_path, viewport)
            finally:
                context.close()
            errors = visit.console_errors + visit.page_errors + visit.external + visit.bad_responses
            if errors:
                result.append(Drive(page_path, viewport, "(page)", 0.0, 0.0, [f"while driving: {e}" for e in errors]))
            found += result
    return found


def test_explorables_are_driven_by_keyboard(drives: list[Drive], site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every explorable, at both sizes: each control is reached by Tab and moved by an arrow key, and
    the chart and the printed values follow; no console error or outside request meanwhile."""
    assert drives, "no explorable was driven"
    with capsys.disabled():
        for d in drives:
            if d.name != "(page)":
                print(f"\n[explorable] {d.page} {d.name} [{d.viewport}]: drawn {d.ready_ms:.0f} ms after navigation, "
                      f"load event at {d.load_ms:.0f} ms", end="")
        print()
    offenders = {f"{d.page} {d.name} [{d.viewport}]": d.problems for d in drives if d.problems}
    assert not offenders, "explorables that do not work by keyboard:" + _fmt(offenders)


def test_the_book_has_four_explorables(drives: list[Drive], site: Path) -> None:
    names = {d.name for d in drives if d.name != "(page)"}
    assert len(names) >= 4, f"fewer than four explorables in the book: {sorted(names)} on {explorable_pages(site)}"


def test_explorables_are_usable_within_a_second_of_load(drives: list[Drive]) -> None:
    late = {f"{d.page} {d.name} [{d.viewport}]": f"drawn at {d.ready_ms:.0f} ms, load at {d.load_ms:.0f} ms"
            for d in drives if d.name != "(page)" and not 0 < d.ready_ms <= d.load_ms + 1000}
    assert not late, "explorables drawn later than 1 s after the page's load event:" + _fmt(late)


def test_explorable_script_is_served_once_and_only_where_used(site: Path) -> None:
    script = site / "explorable" / "explorable.js"
    assert script.is_file(), "the site has no explorable/explorable.js (see _ext/explorables.py)"
    assert not list((site / "_static").rglob("explorable*.js")), "the script must not be in _static/ (every page would load it)"
    tag = re.compile(r'<script[^>]*src="[^"]*explorable/explorable\.js"')
    for p in site_pages(site):
        text = (site / p).read_text(encoding="utf-8")
        assert bool(tag.search(text)) == (EXPLORABLE_MARK in text), f"{p}: script tag and explorables disagree"
