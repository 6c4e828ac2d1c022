"""Build llmforge's documentation site offline: nbdev's notebook processors, then MkDocs (Material theme).

`nbdev-docs` renders with Quarto, which needs a download. This script does the same job with tools from PyPI:

1. each notebook (nbs/index.ipynb, nbs/NN_*.ipynb, nbs/tutorials/*.ipynb) goes through nbdev's own processors
   (`FilterDefaults`: frontmatter, `#| hide`, show_doc tables with their docments, `add_links` over `_modidx.py`), so the
   pages follow the same directives as a Quarto build; the stored outputs are used, the notebooks are never re-run
   (nbdev's show_doc step only executes the exported cells and import statements, to find the objects it documents);
2. the processed notebook becomes one Markdown page in `_site_src/` (images of plots saved beside it, widgets replaced by
   the image or text stored with them, links to the hosted docs made relative);
3. MkDocs with the Material theme (`mkdocs.yml`) builds `_site/`: navigation in reading order, client-side search, no
   asset from outside the site; then `llms.txt` (nbdev's `pkg_llms`) and each page's Markdown (`page.html.md`, what
   llms.txt links to) are written beside the HTML.

Pages are cached in `_site_src/` by the hash of their notebook, `_modidx.py`, this script and nbdev's version, so an
unchanged notebook is not processed again. Run: `python docs/nbdocs.py` (or `bash .ci/docs`); `--force` rebuilds all.
"""
import ast, base64, hashlib, json, os, re, shutil, sys, time, warnings
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NBS, SRC, SITE = ROOT/'nbs', ROOT/'_site_src', ROOT/'_site'
META = SRC/'.cache'     # per page: its title and the hash it was built from (MkDocs skips dot folders)
sys.path.insert(0, str(Path(__file__).resolve().parent))   # so mkdocs.yml finds `nbdocs.pandoc_slug`

# ---------------------------------------------------------------------------------------------------------------------
# Which notebooks, and the page each becomes

def page_name(nb:Path)->str:
    "nbdev's page name for a notebook (its doc URL without `.html`): `nbs/07a_train_sft.ipynb` -> `train_sft`"
    from nbdev.config import nbpath2html
    return nbpath2html(nb.relative_to(NBS)).with_suffix('').as_posix()

def notebooks()->dict:
    "The site's notebooks in reading order: {'index': [...], 'lessons': [...], 'tutorials': [...]}"
    keep = lambda p: not p.name.startswith(('_', '.'))
    return {'index': [NBS/'index.ipynb'],
            'lessons': sorted(p for p in NBS.glob('[0-9]*.ipynb') if keep(p)),
            'tutorials': sorted(p for p in (NBS/'tutorials').glob('*.ipynb') if keep(p))}

def pandoc_slug(text:str, sep:str='-')->str:
    "Heading ids as pandoc (Quarto) makes them, which is what `_modidx.py`'s anchors are: `IO.ask` -> `io.ask`"
    s = re.sub(r'[^\w\s.-]', '', text.strip().lower())
    s = re.sub(r'\s+', sep, s)
    s = re.sub(r'^[^a-z_]+', '', s)      # pandoc drops everything before the first letter
    return s or 'section'

# ---------------------------------------------------------------------------------------------------------------------
# nbdev's processors, with two changes

def _procs():
    "nbdev's docs processors, with `exec_show_docs` run tolerantly and `#| export` code kept on the page"
    from nbdev.processors import FilterDefaults, add_show_docs, exec_show_docs, rm_export, _do_eval, _show_docs

    class add_show_docs_in_order(add_show_docs):
        "nbdev inserts a cell's show_docs one by one at the same place, so they come out last-defined first: reorder"
        def begin(self):
            super().begin()
            cells, i = self.nb.cells, 0
            while i < len(cells):
                j = i
                while j < len(cells) and getattr(cells[j], 'has_sd', False): j += 1
                if j > i + 1: cells[i:j] = cells[i:j][::-1]
                i = max(j, i + 1)
            for k, c in enumerate(cells): c.idx_ = k

    class exec_show_docs_imports(exec_show_docs):
        """nbdev runs every cell that has an import in it, to find what show_doc documents. Outside exported and
        show_doc cells we run only the cell's top-level import statements: the docs need the names, not the lesson's
        example code (building a model, reading a file), and the build must not re-run the notebook. An import of an
        optional extra that is missing is a warning, not a failed build."""
        def __call__(self, cell):
            if not self.nb.has_docs_ or not hasattr(self, 'k') or not _do_eval(cell): return
            if set(cell.directives_) & {'export', 'exports', 'exporti', 'exec_doc'} or _show_docs(cell.parsed_()):
                return super().__call__(cell)
            imports = '\n'.join(ast.get_source_segment(cell.source, t) for t in ast.parse(cell.source).body
                                if isinstance(t, (ast.Import, ast.ImportFrom)))
            if imports and self.k.run_cell(imports).error_in_exec is not None:
                warnings.warn(f'{Path(self.nb.path_).name}: cell {cell.idx_}: an import failed, its names are not documented')
                self.k.exc = None

    def rm_hidden(cell):
        "nbdev's `rm_export` without `export`/`exporti`: the exported code is the lesson, shown in a foldable block"
        if cell.cell_type == 'code' and set(cell.directives_) & {'hide', 'default_exp'}: del cell['source']
    rm_hidden.__name__ = 'rm_export'

    swap = {exec_show_docs: exec_show_docs_imports, rm_export: rm_hidden, add_show_docs: add_show_docs_in_order}
    return [swap.get(p, p) for p in FilterDefaults().procs()]

# ---------------------------------------------------------------------------------------------------------------------
# A processed notebook as a Markdown page

DOC_URL = 'https://llmforge.github.io/llmforge/'
_re_doc_url = re.compile(r'\]\((?:' + re.escape(DOC_URL) + r')?([\w/.-]+?)\.html(#[^)\s]*)?\)')
_re_ansi = re.compile(r'\x1B(?:[@-Z\\-_]|\[[0-?]*[ -/]*[@-~])')
WIDGET = 'application/vnd.jupyter.widget-view+json'

def _relink(md:str, page:str, pages:set)->str:
    "Links to the hosted docs (`add_links` writes them) and to `x.html` become relative links to the page's Markdown"
    up = '../' * page.count('/')
    def f(m):
        target, anchor = m.group(1), m.group(2) or ''
        if target not in pages: return m.group(0)
        return f']({up}{target}.md{anchor})'
    return _re_doc_url.sub(f, md)

def _fence(text:str, lang:str='')->str:
    n = max([3] + [len(r) + 1 for r in re.findall(r'`{3,}', text)])
    return f"{'`'*n}{lang}\n{text.rstrip()}\n{'`'*n}"

def _join(x)->str: return ''.join(x) if isinstance(x, list) else (x or '')

def _quarto_opts(src:str):
    "Quarto's `#| key: value` lines (nbdev leaves them in the source), and the code without them"
    lines, opts = src.splitlines(), {}
    while lines and lines[0].startswith('#|'):
        k, _, v = lines.pop(0)[2:].partition(':')
        opts[k.strip()] = v.strip().strip('"\'')
    return opts, '\n'.join(lines).strip('\n')

def _output(o, img_base:str, images:dict)->str:
    "One output as Markdown; a widget's view falls back to the image or text stored with it"
    t = o.get('output_type')
    if t == 'stream':
        text = _re_ansi.sub('', _join(o.get('text')))
        return _fence(text, 'text') if text.strip() else ''
    if t == 'error': return _fence(_re_ansi.sub('', '\n'.join(o.get('traceback', []))), 'text')
    data = {k: v for k, v in o.get('data', {}).items() if k != WIDGET}
    for mime, ext in (('image/png', 'png'), ('image/jpeg', 'jpg'), ('image/svg+xml', 'svg')):
        if mime in data:
            name = f'{img_base}_{len(images)}.{ext}'
            raw = _join(data[mime])
            images[name] = raw.encode() if ext == 'svg' else base64.b64decode(raw)
            return f'![]({name.rsplit("/", 2)[-2]}/{name.rsplit("/", 1)[-1]})'   # relative to the page
    if 'text/markdown' in data: return _join(data['text/markdown'])
    if 'text/html' in data: return f'<div class="nb-html" markdown="0">\n{_join(data["text/html"]).strip()}\n</div>'
    if 'text/plain' in data: return _fence(_re_ansi.sub('', _join(data['text/plain'])), 'text')
    return ''

def render_page(nb_path:Path, pages:set)->tuple:
    "Process `nb_path` with nbdev's processors; return (title, markdown, {image file: bytes})"
    from fastcore.nbio import read_nb
    from nbdev.process import NBProcessor
    import yaml
    page = page_name(nb_path)
    img_base = f'{page}_files/out'
    cwd = os.getcwd()
    os.chdir(nb_path.parent)     # a notebook's cells see paths relative to its folder, as when it runs
    os.environ['IN_TEST'] = '1'
    try:
        nb = read_nb(nb_path)
        NBProcessor(nb=nb, procs=_procs(), rm_directives='quarto').process()
    finally: os.chdir(cwd)
    fm, parts, images = {}, [], {}
    for cell in nb.cells:
        src = cell.source or ''
        if cell.cell_type == 'raw':
            if src.startswith('---') and not fm: fm = yaml.safe_load(src.strip().strip('-')) or {}
            continue
        if cell.cell_type == 'markdown':
            if src.strip(): parts.append(_relink(src, page, pages))
            continue
        opts, code = _quarto_opts(src)
        if str(opts.get('include', '')).lower() == 'false': continue
        block = []
        if code and str(opts.get('echo', '')).lower() != 'false':
            if {'export', 'exports', 'exporti'} & set(cell.directives_):
                block.append('???+ nb-source "Exported source"\n\n' + '\n'.join('    ' + l if l else l for l in _fence(code, 'python').splitlines()))
            else: block.append(_fence(code, 'python'))
        if str(opts.get('output', '')).lower() != 'false':
            asis = str(opts.get('output', '')).lower() == 'asis'
            outs = [s for s in (_output(o, img_base, images) for o in cell.get('outputs', [])) if s.strip()]
            if asis: block += [_relink(s, page, pages) for s in outs]
            elif outs: block.append('<div class="nb-output" markdown="1">\n\n' + '\n\n'.join(outs) + '\n\n</div>')
        if block: parts.append('\n\n'.join(block))
    title = fm.get('title') or page.rsplit('/', 1)[-1]
    head = f'# {title}\n'
    if fm.get('description'): head += f'\n{fm["description"]}\n{{: .nb-description }}\n'
    return title, head + '\n\n' + '\n\n'.join(parts) + '\n', images

# ---------------------------------------------------------------------------------------------------------------------
# Cache, parallel processing, MkDocs

_re_heading = re.compile(r'^#{1,6}\s+(.+?)\s*(\{[^}]*\})?\s*$')
_re_md_link = re.compile(r'\]\(((?:\.\./)*)([\w/.-]+?)\.md#([^)\s]+)\)')

def _anchors(md:str)->set:
    "Heading ids of a Markdown page (outside code fences): an explicit `{#id}`, else `pandoc_slug` of the text"
    res, fence = set(), None
    for l in md.splitlines():
        m = re.match(r'\s*(`{3,}|~{3,})', l)
        if m and (fence is None or m.group(1).startswith(fence)): fence = None if fence else m.group(1)
        elif fence is None and (h := _re_heading.match(l)):
            if h.group(2) and (i := re.search(r'#([\w.:-]+)', h.group(2))): res.add(i.group(1)); continue
            text = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', h.group(1))     # a link's text only
            res.add(pandoc_slug(re.sub(r'[`*]', '', text)))
    return res

def fix_anchors(pages:set):
    """`_modidx.py` has an anchor for every symbol, but show_doc documents only public ones: a link to `_helper` or to a
    method without a heading of its own goes to its class's heading, else to the top of the page (its code is there)"""
    anchors = {p: _anchors((SRC/f'{p}.md').read_text(encoding='utf-8')) for p in pages if (SRC/f'{p}.md').exists()}
    def f(m, page):
        up, target, anchor = m.groups()
        tgt = (Path(page).parent/target).as_posix().removeprefix('./') if up == '' and '/' in page else target
        if tgt not in anchors or anchor in anchors[tgt]: return m.group(0)
        parent = anchor.rsplit('.', 1)[0] if '.' in anchor else None
        return f']({up}{target}.md#{parent})' if parent in anchors[tgt] else f']({up}{target}.md)'
    for p in anchors:
        fn = SRC/f'{p}.md'
        md = fn.read_text(encoding='utf-8')
        new = _re_md_link.sub(lambda m: f(m, p), md)
        if new != md: fn.write_text(new, encoding='utf-8')

def _stamp(nb:Path)->str:
    import nbdev
    h = hashlib.sha256()
    for f in (nb, ROOT/'llmforge'/'_modidx.py', Path(__file__)): h.update(f.read_bytes() if f.exists() else b'')
    cfg = (ROOT/'pyproject.toml').read_text(encoding='utf-8')      # nbdev's settings, not the dependency lists
    h.update(cfg[cfg.find('[tool.nbdev]'):].split('\n[', 1)[0].encode())
    h.update(nbdev.__version__.encode())
    return h.hexdigest()

def _build_page(args):
    "Worker: render one notebook into `_site_src/` (page, images, title); returns (page, title, seconds, warnings)"
    nb, pages = args
    t0, page = time.time(), page_name(nb)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        title, md, images = render_page(nb, pages)
    dest = SRC/f'{page}.md'
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(SRC/f'{page}_files', ignore_errors=True)
    for name, data in images.items():
        (SRC/name).parent.mkdir(parents=True, exist_ok=True); (SRC/name).write_bytes(data)
    dest.write_text(md, encoding='utf-8')
    (META/f'{page}.json').parent.mkdir(parents=True, exist_ok=True)
    (META/f'{page}.json').write_text(json.dumps({'title': title, 'stamp': _stamp(nb)}))
    msgs = [str(o.message) for o in w if 'an import failed' in str(o.message)]   # ours; not the libraries' noise
    return page, round(time.time() - t0, 1), msgs

def _cached(nb:Path):
    "The page's title if `_site_src/` holds it for this very notebook, else None"
    meta = META/f'{page_name(nb)}.json'
    if not meta.exists() or not (SRC/f'{page_name(nb)}.md').exists(): return None
    m = json.loads(meta.read_text())
    return m['title'] if m.get('stamp') == _stamp(nb) else None

def summary(nb:Path)->str:
    "The notebook's one-line summary: the `> ...` line under its title"
    for c in json.loads(nb.read_text(encoding='utf-8'))['cells']:
        if c['cell_type'] != 'markdown': continue
        m = re.search(r'^>\s*(.+)$', ''.join(c['source']), re.M)
        if m: return m.group(1).strip()
    return ''

def llms_txt(groups:dict, titles:dict, site_url:str)->str:
    """llms.txt (llmstxt.org) for every page, tutorials first, each linked to its Markdown. nbdev's `pkg_llms` lists only
    modules whose docstrings run past three lines, which left out all but two of ours, and never the tutorials"""
    from nbdev.config import get_config
    url = site_url.rstrip('/') + '/'
    line = lambda nb: f'- [{titles[page_name(nb)]}]({url}{page_name(nb)}.html.md): {summary(nb)}'
    parts = ['# llmforge', f'> {get_config().description}', summary(groups['index'][0]),
             '## Tutorials', '\n'.join(map(line, groups['tutorials'])),
             '## Reference', '\n'.join(map(line, groups['lessons']))]
    return '\n\n'.join(p for p in parts if p) + '\n'

def build(force:bool=False, workers:int=None, quiet:bool=False)->dict:
    "Build `_site/`; return figures (pages, processed, seconds)"
    from filelock import FileLock
    SRC.mkdir(exist_ok=True)
    with FileLock(SRC/'.lock'): return _build(force, workers, quiet)     # one build at a time (tests run in parallel)

def _build(force, workers, quiet):
    t0 = time.time()
    os.chdir(ROOT)
    if force:
        for f in SRC.iterdir():
            if f.name != '.lock': shutil.rmtree(f) if f.is_dir() else f.unlink()
    groups = notebooks()
    allnbs = [nb for g in groups.values() for nb in g]
    pages = {page_name(nb) for nb in allnbs}
    # pages of deleted notebooks go
    for meta in META.rglob('*.json'):
        page = meta.relative_to(META).with_suffix('').as_posix()
        if page not in pages:
            for f in (meta, SRC/f'{page}.md'): f.unlink(missing_ok=True)
            shutil.rmtree(SRC/f'{page}_files', ignore_errors=True)
    todo = [nb for nb in allnbs if _cached(nb) is None]
    workers = workers or min(len(todo), os.cpu_count() or 1, 4)
    if todo:
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context('spawn')) as ex:
            for page, secs, msgs in ex.map(_build_page, [(nb, pages) for nb in todo]):
                if not quiet: print(f'  {page}: {secs}s')
                for m in msgs: print(f'  warning: {page}: {m}', file=sys.stderr)
    fix_anchors(pages)
    t1 = time.time()
    titles = {page_name(nb): _cached(nb) for nb in allnbs}
    entry = lambda nb: {str(titles[page_name(nb)]): f'{page_name(nb)}.md'}
    nav = [{'Home': 'index.md'}]
    if groups['tutorials']: nav.append({'Tutorials': [entry(nb) for nb in groups['tutorials']]})
    nav.append({'Reference': [entry(nb) for nb in groups['lessons']]})
    (SRC/'stylesheets').mkdir(exist_ok=True)
    shutil.copy(Path(__file__).parent/'extra.css', SRC/'stylesheets'/'extra.css')

    from mkdocs.config import load_config
    from mkdocs.commands.build import build as mkdocs_build
    import logging
    logging.getLogger('mkdocs').setLevel(logging.WARNING if quiet else logging.INFO)
    if not logging.getLogger().handlers: logging.basicConfig(format='%(levelname)s %(message)s')
    cfg = load_config(str(ROOT/'mkdocs.yml'), nav=nav)
    mkdocs_build(cfg)
    # what llms.txt links to: each page's Markdown at `<page>.html.md`; and llms.txt itself, from nbdev
    for nb in allnbs:
        p = page_name(nb)
        shutil.copy(SRC/f'{p}.md', SITE/f'{p}.html.md')
    (SITE/'llms.txt').write_text(llms_txt(groups, titles, cfg['site_url']), encoding='utf-8')
    res = {'pages': len(allnbs), 'processed': len(todo), 'notebooks_s': round(t1 - t0, 1), 'total_s': round(time.time() - t0, 1)}
    print(f"docs: {res['pages']} pages ({res['processed']} notebooks processed in {res['notebooks_s']}s), "
          f"_site/ built in {res['total_s']}s")
    return res

if __name__ == '__main__':
    import nbdocs    # the workers unpickle `nbdocs._build_page`: use the module, not `__main__`
    nbdocs.build(force='--force' in sys.argv, quiet='--quiet' in sys.argv)
