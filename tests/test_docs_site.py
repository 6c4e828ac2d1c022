"""The documentation site in a real browser: `_site/` (built by `bash .ci/docs`; built here if missing or older than its
sources) is served from localhost and crawled in headless Chromium (Playwright, Debian's chromium) from the landing
page. Every page must load with no console error and no failed request (every request that is not to localhost is
aborted and counts as a failure: the site must work offline), every local link must lead to a page that exists and
every #anchor to an element of that page; search must find `train_sft`; plots must show; three pages are photographed
and must have real content. Set $LLMFORGE_SCREENSHOT_DIR to keep the screenshots.
"""
import functools, http.server, json, os, re, sys, tempfile, threading
from collections import deque
from pathlib import Path
from urllib.parse import urldefrag, urlparse
import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT/'_site'
CHROMIUM = os.environ.get('LLMFORGE_CHROMIUM', '/usr/bin/chromium')
ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run']

sys.path.insert(0, str(ROOT/'docs'))
import nbdocs

def _has(mod):
    try: __import__(mod); return True
    except ImportError: return False


# ---------------------------------------------------------------------------------------------------------------------
# The page renderer on outputs no notebook has yet: a widget, a plot

def test_widget_falls_back_to_stored_image_or_text():
    "A widget's view cannot render in a static page: the image or text stored with it is used instead"
    view = {'application/vnd.jupyter.widget-view+json': {'model_id': 'x', 'version_major': 2, 'version_minor': 0}}
    images = {}
    out = nbdocs._output({'output_type': 'display_data', 'data': {**view, 'text/plain': 'RatingPanel(3 of 10 rated)'}}, 'p_files/out', images)
    assert 'RatingPanel(3 of 10 rated)' in out and 'widget' not in out and not images
    png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=='
    out = nbdocs._output({'output_type': 'display_data', 'data': {**view, 'image/png': png, 'text/plain': 'x'}}, 'p_files/out', images)
    assert out == '![](p_files/out_0.png)' and images['p_files/out_0.png'][:4] == b'\x89PNG'

def test_quarto_heading_ids():
    "Heading ids are pandoc's, which is what llmforge/_modidx.py's anchors use"
    assert [nbdocs.pandoc_slug(s) for s in ('IO.ask', 'add_command', 'Errors a user can act on', '2. Train')] == \
        ['io.ask', 'add_command', 'errors-a-user-can-act-on', 'train']

# ---------------------------------------------------------------------------------------------------------------------
# The site

def _stale()->bool:
    idx = SITE/'index.html'
    if not idx.exists(): return True
    srcs = [*ROOT.glob('nbs/**/*.ipynb'), *ROOT.glob('docs/*.py'), *ROOT.glob('docs/*.css'), ROOT/'mkdocs.yml', ROOT/'llmforge'/'_modidx.py']
    return max(p.stat().st_mtime for p in srcs if p.exists()) > idx.stat().st_mtime

@pytest.fixture
def site():
    "`_site/`, built if missing or stale, served from 127.0.0.1 on a free port"
    if _stale():
        if not (_has('mkdocs') and _has('material')): pytest.skip('the docs tool is not installed: pip install -e ".[docs]"')
        nbdocs.build(quiet=True)
    handler = functools.partial(type('Quiet', (http.server.SimpleHTTPRequestHandler,), {'log_message': lambda *a: None}),
                                directory=str(SITE))
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{srv.server_address[1]}/'
    srv.shutdown()

@pytest.fixture
def browser():
    sync_api = pytest.importorskip('playwright.sync_api', reason='needs playwright (the browser is Debian chromium)')
    if not Path(CHROMIUM).exists(): pytest.skip(f'needs Chromium at {CHROMIUM} (apt-get install chromium)')
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()

def _crawl(site, browser):
    "Visit every page reachable from the landing page; what each page showed, and every problem found"
    ctx = browser.new_context(viewport={'width': 1280, 'height': 900})
    problems, pages, links, seen = [], {}, [], set()
    def route(r):
        if urlparse(r.request.url).hostname == '127.0.0.1': r.continue_()
        else: problems.append(f'request outside the site: {r.request.url}'); r.abort()
    ctx.route('**/*', route)
    page = ctx.new_page()
    cur = {'url': None}
    page.on('console', lambda m: m.type == 'error' and problems.append(f'{cur["url"]}: console error: {m.text}'))
    page.on('pageerror', lambda e: problems.append(f'{cur["url"]}: page error: {e}'))
    # ERR_ABORTED is a request cut short by going on to the next page (the favicon, the search index); a request
    # that fails for real is a 4xx/5xx response or one to outside the site, both caught above and below
    page.on('requestfailed', lambda r: 'ERR_ABORTED' not in (r.failure or '') and
            problems.append(f'{cur["url"]}: request failed: {r.url} {r.failure}'))
    page.on('response', lambda r: r.status >= 400 and problems.append(f'{cur["url"]}: HTTP {r.status}: {r.url}'))
    todo = deque([site + 'index.html'])
    while todo:
        url = todo.popleft()
        if url in seen: continue
        seen.add(url); cur['url'] = url
        resp = page.goto(url, wait_until='load')
        if resp is None or resp.status != 200: problems.append(f'{url}: status {resp and resp.status}'); continue
        info = page.evaluate('''() => ({
            ids: [...document.querySelectorAll('[id]')].map(e => e.id).concat([...document.querySelectorAll('a[name]')].map(e => e.name)),
            hrefs: [...document.querySelectorAll('a[href]')].map(a => a.href),
            imgs: [...document.querySelectorAll('article img')].map(i => ({src: i.src, w: i.naturalWidth, ok: i.complete})),
            text: document.querySelector('article') ? document.querySelector('article').innerText : ''})''')
        pages[url] = info
        for img in info['imgs']:
            if not (img['ok'] and img['w'] > 0): problems.append(f'{url}: image does not show: {img["src"]}')
        for h in info['hrefs']:
            base, frag = urldefrag(h)
            if not base.startswith(site): continue
            links.append((url, base, frag))
            if base.endswith('.html') and base not in seen: todo.append(base)
    for src, base, frag in links:
        if base.endswith('/') or base.endswith('.html'):
            target = base + ('index.html' if base.endswith('/') else '')
            if target not in pages: problems.append(f'{src}: link to a page that does not load: {base}')
            elif frag and frag not in pages[target]['ids']: problems.append(f'{src}: link to a missing anchor: {base}#{frag}')
        elif not (SITE/urlparse(base).path.lstrip('/')).exists(): problems.append(f'{src}: link to a missing file: {base}')
    print(f'\ndocs site: {len(pages)} pages crawled, {len(links)} local links checked '
          f'({sum(1 for *_, f in links if f)} with an #anchor)')
    return {'page': page, 'pages': pages, 'links': links, 'problems': problems, 'ctx': ctx}

def _nbs_in_site():
    return [nb for g in nbdocs.notebooks().values() for nb in g]

def test_site_in_browser(site, browser):
    """One test, so that under `pytest -n 2` the site is built and crawled once: pages, links and anchors; nbdev's
    rendering; search; plots; screenshots; llms.txt"""
    res = _crawl(site, browser)
    try:
        _pages_and_links(site, res)
        _renders_like_nbdev(site, res)
        _search_finds_train_sft(site, res['page'])
        _plots_show(site, res)
        _screenshots_have_content(site, res)
        _llms_txt()
    finally: res['ctx'].close()

def _pages_and_links(site, crawl):
    assert not crawl['problems'], '\n'.join(crawl['problems'][:40])
    want = {site + nbdocs.page_name(nb) + '.html' for nb in _nbs_in_site()}
    assert want <= set(crawl['pages']), f'pages not reachable from the landing page: {sorted(want - set(crawl["pages"]))}'
    assert len(crawl['links']) > 10 * len(want)

def _renders_like_nbdev(site, crawl):
    "hidden cells hidden, exported code shown, show_doc signatures with their docments, prose linked to the API"
    core = crawl['pages'][site + 'core.html']
    assert 'from fastcore.test import' not in core['text']                  # a `#| hide` cell
    assert 'Exported source' in core['text'] and 'class LLMForgeError(Exception)' in core['text']
    assert 'dataerror' in core['ids'] and 'def DataError(' in core['text']   # show_doc, at _modidx's anchor
    sft = crawl['pages'][site + 'train_sft.html']
    assert 'train_sft' in sft['ids'] and re.search(r'def train_sft\(', sft['text'])
    links = set(crawl['links'])                                               # backticked names link to their docs
    assert (site + 'core.html', site + 'core.html', 'example') in links
    assert any(b == site + 'train_sft.html' and f == 'train_sft' for _, b, f in links)

def _search_finds_train_sft(site, page):
    page.goto(site + 'index.html', wait_until='load')
    page.click('input.md-search__input')            # the search box in the header (a wide window shows it)
    page.keyboard.type('train_sft')
    hit = page.wait_for_selector('.md-search-result__item a[href*="train_sft.html"]', timeout=15000)
    assert hit.is_visible()

def _plots_show(site, crawl):
    "Every notebook that stores a plot shows it on its page (an <img> with a real width)"
    with_plots = [nb for nb in _nbs_in_site()
                  if any('image/png' in o.get('data', {}) or 'image/svg+xml' in o.get('data', {})
                         for c in json.loads(nb.read_text(encoding='utf-8'))['cells'] for o in c.get('outputs', []))]
    assert with_plots, 'no notebook stores a plot (02_validators shows its report figure)'
    for nb in with_plots:
        imgs = crawl['pages'][site + nbdocs.page_name(nb) + '.html']['imgs']
        assert imgs and all(i['w'] > 0 for i in imgs), f'{nb.name}: its plot does not show'
    print(f'plots shown on {len(with_plots)} pages')

def _screenshots_have_content(site, crawl):
    from PIL import Image
    d = Path(os.environ.get('LLMFORGE_SCREENSHOT_DIR') or tempfile.mkdtemp(prefix='llmforge-docs-'))
    d.mkdir(parents=True, exist_ok=True)
    page = crawl['page']
    for name in ('index', 'core', 'train_sft'):
        page.goto(site + f'{name}.html', wait_until='load')
        shot = d/f'docs-{name}.png'
        page.screenshot(path=str(shot))
        hist = Image.open(shot).convert('L').histogram()
        dark = sum(hist[:128]) / sum(hist)
        assert 0.01 < dark < 0.6, f'{shot}: {dark:.1%} dark pixels: blank or broken page'
        assert len(crawl['pages'][site + f'{name}.html']['text']) > 500
    print(f'screenshots in {d}')

def _llms_txt():
    "llms.txt is in the site, and the Markdown pages it links to are there"
    txt = (SITE/'llms.txt').read_text(encoding='utf-8')
    assert txt.startswith('# llmforge')
    urls = re.findall(r'\]\(https://llmforge\.github\.io/llmforge/([^)]+)\)', txt)
    assert all((SITE/u).exists() for u in urls), [u for u in urls if not (SITE/u).exists()]
    assert len(urls) == len(_nbs_in_site()) - 1, (len(urls), len(_nbs_in_site()))   # every page but the landing one
    assert (SITE/'core.html.md').read_text(encoding='utf-8').startswith('# core')
