"""The three panels in a real browser: a notebook using RatingPanel, ComparePanel and EvalPanel is executed with its widget
state saved (nbconvert), exported to HTML, served from localhost and opened in headless Chromium (Playwright).

The widgets' JavaScript (@jupyter-widgets/html-manager) normally comes from a CDN; here it comes from the npm registry
(`npm pack`, cached in ~/.cache/llmforge/ or the folder named by $LLMFORGE_WIDGET_ASSETS) and is served beside the page;
every request that is not to localhost is aborted. An HTML export has no kernel, so Python callbacks do not run there:
the test checks that the state the notebook left (ratings saved, a judgement made) is what the page shows, and that the
widgets respond in the browser (the rating slider moves with the keyboard and its readout follows, the error browser's
dropdown and the rewrite box take input). Set $LLMFORGE_SCREENSHOT_DIR to keep the screenshots.
"""
import functools, http.server, json, os, shutil, subprocess, sys, tarfile, tempfile, threading
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get('LLMFORGE_CHROMIUM', '/usr/bin/chromium')
HTML_MANAGER = '@jupyter-widgets/html-manager@1.0.7'   # the embedder that matches ipywidgets 8 (widget state 2.x)
REQUIREJS = 'requirejs@2.3.8'
ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run']

sync_api = pytest.importorskip('playwright.sync_api', reason='needs playwright (pip install playwright; the browser is Debian chromium)')
pytest.importorskip('nbconvert', reason='needs nbconvert to execute and export the notebook with its widget state')
pytest.importorskip('ipykernel', reason='needs ipykernel to execute the notebook')
Image = pytest.importorskip('PIL.Image', reason='needs pillow to check the screenshots')
if not Path(CHROMIUM).exists(): pytest.skip(f'needs Chromium at {CHROMIUM} (apt-get install chromium)', allow_module_level=True)

def _npm_file(spec:str, member:str, dest:Path)->Path:
    "Extract `package/<member>` (a file or folder) of an npm package into `dest`, with `npm pack`"
    if not shutil.which('npm'): pytest.skip('needs npm to fetch the widget JavaScript from the npm registry')
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run(['npm', 'pack', spec, '--silent', '--pack-destination', d], capture_output=True, text=True, timeout=300)
        tgz = list(Path(d).glob('*.tgz'))
        if r.returncode or not tgz: pytest.skip(f'npm pack {spec} failed (no registry?): {r.stderr.strip()[-200:]}')
        with tarfile.open(tgz[0]) as t:
            t.extractall(d, members=[m for m in t.getmembers() if m.name.startswith(f'package/{member}')], filter='data')
        src = Path(d)/'package'/member
        if src.is_dir(): shutil.copytree(src, dest, dirs_exist_ok=True)
        else: dest.mkdir(parents=True, exist_ok=True); shutil.copy(src, dest/src.name)
    return dest

@pytest.fixture(scope='module')
def assets()->Path:
    "A folder with embed-amd.js (and its chunks) and require.js"
    d = Path(os.environ.get('LLMFORGE_WIDGET_ASSETS') or Path.home()/'.cache'/'llmforge'/'widget-assets-1.0.7')
    if not (d/'embed-amd.js').exists(): _npm_file(HTML_MANAGER, 'dist', d)
    if not (d/'require.js').exists(): _npm_file(REQUIREJS, 'require.js', d)
    return d

NOTEBOOK = [
'''from llmforge.core import read_examples
from llmforge.project import Project
from llmforge.evaluation import evaluate, KeywordMatch, save_eval
from llmforge.widgets import RatingPanel, ComparePanel, EvalPanel
train = list(read_examples({stage1!r}))
test = list(read_examples({stage2!r}))[:12]
p = Project.init('proj', system_prompt='You are a medical coder.')
p.add_many([{{'messages': [m.to_dict() for m in e.messages]}} for e in train[:5]])
res = evaluate(test, KeywordMatch(train), n_boot=100, name='keyword')
saved = save_eval(p, res)''',
'''rp = RatingPanel(p)
rp.rating.value = 9; rp.buttons['save'].click()
rp''',
'''cp = ComparePanel([e.prompt for e in test[:6]], [r['prediction'] for r in res.predictions[:6]], [e.response for e in test[:6]], names=('keyword', 'reference'))
cp.buttons['left'].click()
cp''',
'''ep = EvalPanel(saved)
ep''',
]

@pytest.fixture(scope='module')
def page_url(assets, tmp_path_factory):
    "The executed notebook as HTML with its widget state, served from localhost"
    import nbformat
    from nbformat.v4 import new_notebook, new_code_cell, new_markdown_cell
    d = tmp_path_factory.mktemp('panels')
    ex = ROOT/'examples'/'medical-coding'
    cells = [new_markdown_cell('# The panels')] + [new_code_cell(c.format(stage1=str(ex/'stage1.jsonl'), stage2=str(ex/'stage2.jsonl'))) for c in NOTEBOOK]
    nbformat.write(new_notebook(cells=cells), d/'panels.ipynb')
    os.symlink(assets, d/'assets')
    r = subprocess.run([sys.executable, '-m', 'nbconvert', '--to', 'html', '--execute', '--ExecutePreprocessor.store_widget_state=True',
                        '--ExecutePreprocessor.timeout=120', '--HTMLExporter.widget_renderer_url=assets/embed-amd.js',
                        '--HTMLExporter.require_js_url=assets/require.js', '--HTMLExporter.mathjax_url=assets/require.js', 'panels.ipynb'],
                       cwd=d, capture_output=True, text=True, timeout=300, env={**os.environ, 'HF_HUB_OFFLINE': '1', 'PYTHONPATH': str(ROOT)})
    assert r.returncode == 0, r.stderr[-3000:]
    html = (d/'panels.html').read_text()
    assert 'application/vnd.jupyter.widget-state+json' in html and html.count('application/vnd.jupyter.widget-view+json') >= 3
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(_Quiet, directory=str(d)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{srv.server_port}/panels.html', d
    srv.shutdown()

class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass

def _ink(png:Path)->tuple[float,int]:
    "Share of pixels that are not the background (the commonest colour), and the number of distinct colours"
    import numpy as np
    px = np.asarray(Image.open(png).convert('RGB')).reshape(-1, 3)
    colours,counts = np.unique(px, axis=0, return_counts=True)
    return 1 - counts.max() / len(px), len(colours)

def test_panels_render_and_respond(page_url, tmp_path):
    url,d = page_url
    shots = Path(os.environ.get('LLMFORGE_SCREENSHOT_DIR') or tmp_path); shots.mkdir(parents=True, exist_ok=True)
    errors = json.loads(next((d/'proj'/'data'/'evals').glob('eval-keyword-*.json')).read_text())['errors']
    blocked,page_errors = [],[]
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={'width': 1200, 'height': 900})
            page.route('**/*', lambda r: r.continue_() if r.request.url.startswith('http://127.0.0.1') else (blocked.append(r.request.url), r.abort()))
            page.on('pageerror', lambda e: page_errors.append(str(e)))
            page.goto(url)
            page.wait_for_selector('.widget-slider', timeout=60_000)
            page.wait_for_selector('text=1/6 judged', timeout=30_000)
            # The three panels are there, with the state the notebook left them in
            outs = page.locator('.jp-OutputArea-output:has(.jupyter-widgets)')
            assert outs.count() == 3, outs.count()
            rating,compare,evalp = outs.nth(0),outs.nth(1),outs.nth(2)
            assert 'You are a medical coder.' in rating.inner_text()           # the system prompt, shown with the example
            assert '1/5 reviewed · rated 1' in rating.inner_text()             # the rating made in the notebook
            assert rating.locator('.widget-button').all_inner_texts() == ['save', 'skip', 'back']
            assert compare.locator('.widget-button').all_inner_texts() == ['left is better', 'tie', 'right is better', 'back', 'reveal']
            assert '1/6 judged' in compare.inner_text() and 'left' in compare.locator('th').all_inner_texts()
            assert 'keyword: 12 examples' in evalp.inner_text()
            assert evalp.locator('table tr').count() == 6                      # header + 5 metrics with intervals
            kinds = ['all mistakes'] + [k for k,v in errors.items() if v and k != 'correct'] + ['correct']
            assert [t.replace('\xa0', ' ') for t in evalp.locator('select option').all_inner_texts()] == kinds   # ipywidgets shows spaces as no-break spaces
            assert f"{sum(v for k,v in errors.items() if k in ('wrong_specificity','related_code','wrong_code_type','invalid_code','unparseable','wrong_code'))} all mistakes" in evalp.inner_text()
            page.screenshot(path=shots/'panels.png', full_page=True)
            for name,loc in (('rating', rating), ('compare', compare), ('eval', evalp)):
                loc.screenshot(path=shots/f'{name}.png')
                w,h = Image.open(shots/f'{name}.png').size
                ink,colours = _ink(shots/f'{name}.png')
                assert w > 600 and h > 100 and ink > 0.02 and colours > 20, (name, w, h, ink, colours)
            # They respond: the slider moves with the keyboard and its readout follows; the dropdown and text box take input
            readout = rating.locator('.widget-readout')
            assert readout.inner_text().strip() == '8'
            slider = rating.locator('.widget-slider')
            slider.screenshot(path=shots/'slider-before.png')
            rating.locator('.noUi-handle').focus()
            page.keyboard.press('ArrowRight'); page.keyboard.press('ArrowRight')
            page.wait_for_function("el => el.textContent.trim() == '10'", arg=readout.element_handle(), timeout=5_000)
            slider.screenshot(path=shots/'slider-after.png')
            assert Image.open(shots/'slider-before.png').tobytes() != Image.open(shots/'slider-after.png').tobytes()
            rating.locator('textarea').fill('ICD10: E05.00 (Thyrotoxicosis with diffuse goiter)')
            assert rating.locator('textarea').input_value().startswith('ICD10: E05.00')
            page.screenshot(path=shots/'panels-after.png', full_page=True)
            assert evalp.locator('select option:checked').inner_text().replace('\xa0', ' ') == 'all mistakes'
            evalp.locator('select').select_option(index=len(kinds) - 1)
            assert evalp.locator('select option:checked').inner_text() == 'correct'
        finally: browser.close()
    assert not page_errors, page_errors
    assert not [u for u in blocked if 'widget' in u or 'require' in u], blocked   # nothing the widgets need came from outside

def _open(pw, url):
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    page = browser.new_page(viewport={'width': 1200, 'height': 900})
    page.route('**/*', lambda r: r.continue_() if r.request.url.startswith('http://127.0.0.1') else r.abort())
    page.goto(url); page.wait_for_selector('.widget-slider', timeout=60_000)
    return browser, page

def test_rating_filter_shows_its_choice(page_url):
    with sync_api.sync_playwright() as pw:
        browser,page = _open(pw, page_url[0])
        try: shown = page.locator('.jp-OutputArea-output:has(.jupyter-widgets)').nth(0).locator('select option:checked').all_inner_texts()
        finally: browser.close()
    assert [t.replace('\xa0', ' ') for t in shown] == ['unrated']
