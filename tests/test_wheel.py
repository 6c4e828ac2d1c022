"""A user who installs the wheel: the example projects, the LICENSE, and every README snippet that names an example work
without a checkout (issue: the README copied `../examples/...`, which a wheel user does not have)."""
import json, os, subprocess, sys, zipfile
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent

@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp('wheel')
    r = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '-q', '-w', str(out), str(ROOT)], capture_output=True, text=True, timeout=600)
    if r.returncode: pytest.fail(r.stderr[-2000:])
    return next(out.glob('llmforge-*.whl'))

def test_the_wheel_carries_the_examples_and_the_licence(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for f in ('customer-support/llmforge.json', 'customer-support/data/examples.jsonl', 'code-review/llmforge.json',
              'medical-coding/stage1.jsonl', 'medical-coding/configs/train_stage1.yaml'):
        assert f'llmforge/example_projects/{f}' in names, f
    assert any(n.endswith('.dist-info/licenses/LICENSE') or n.endswith('.dist-info/LICENSE') for n in names)
    assert not any(n.endswith('.lock') for n in names)

def test_a_wheel_user_starts_from_an_example(wheel, tmp_path):
    site = tmp_path/'site'
    zipfile.ZipFile(wheel).extractall(site)
    env = {**os.environ, 'PYTHONPATH': str(site), 'HF_HUB_OFFLINE': '1'}
    run = lambda *a: subprocess.run([sys.executable, *a], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    r = run('-c', 'import llmforge, llmforge.examples as E; print(llmforge.__file__); p = E.copy_example("customer-support", "support"); print(len(p))')
    assert r.returncode == 0 and r.stdout.split()[0].startswith(str(site)) and r.stdout.split()[1] == '20', r.stderr
    r = run('-m', 'llmforge', 'init', 'med', '--from-example', 'medical-coding')
    assert r.returncode == 0 and (tmp_path/'med'/'configs'/'train_stage1.yaml').exists(), r.stderr
    r = subprocess.run([sys.executable, '-m', 'llmforge', 'config', 'validate', *sorted(str(p) for p in (tmp_path/'med'/'configs').glob('*.yaml'))],
                       capture_output=True, text=True, cwd=tmp_path/'med', env=env, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    r = run('-m', 'llmforge', 'stats', '-p', 'support', '--json')
    assert r.returncode == 0 and json.loads(r.stdout)['total'] == 20
