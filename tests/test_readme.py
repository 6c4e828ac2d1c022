"""README.md is index.ipynb rendered as Markdown (nbdev-readme needs Quarto, which cannot be installed offline).

Regenerate it with `python tests/test_readme.py --write` after editing nbs/index.ipynb."""
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def render_readme(nb_path=ROOT/'nbs'/'index.ipynb') -> str:
    "Markdown cells as they are, code cells as fenced Python, directives and outputs left out"
    parts = []
    for c in json.loads(Path(nb_path).read_text(encoding='utf-8'))['cells']:
        src = ''.join(c['source']).strip('\n')
        if c['cell_type'] == 'markdown': parts.append(src)
        elif c['cell_type'] == 'code':
            code = '\n'.join(l for l in src.splitlines() if not l.startswith('#|')).strip('\n')
            if code and 'fastcore.test' not in code: parts.append(f'```python\n{code}\n```')
    return '<!-- generated from nbs/index.ipynb by tests/test_readme.py --write: edit the notebook, not this file -->\n\n' + '\n\n'.join(parts) + '\n'

def test_readme_matches_index():
    assert (ROOT/'README.md').read_text(encoding='utf-8') == render_readme(), 'README.md is stale: run python tests/test_readme.py --write'

def test_readme_commands_match_ci():
    ci = (ROOT/'.ci'/'run').read_text()
    readme = (ROOT/'README.md').read_text()
    test_cmd = next(l.strip() for l in readme.splitlines() if l.startswith('pip install') and '[dev]' in l)
    assert test_cmd.split('&&')[-1].strip() in ci, 'the README test command and .ci/run disagree'

if __name__ == '__main__' and '--write' in sys.argv:
    (ROOT/'README.md').write_text(render_readme(), encoding='utf-8'); print('wrote README.md')
