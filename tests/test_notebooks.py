"Every notebook in nbs/ and nbs/tutorials/ is a test case: its cells run top to bottom through nbdev's test runner."
import os
from pathlib import Path
import pytest
from nbdev.config import get_config
from nbdev import test as nbdev_test

ROOT = Path(__file__).resolve().parent.parent
NBS = sorted((ROOT/'nbs').glob('*.ipynb')) + sorted((ROOT/'nbs'/'tutorials').glob('*.ipynb'))

@pytest.mark.parametrize('nb', NBS, ids=[str(p.relative_to(ROOT/'nbs').with_suffix('')) for p in NBS])
def test_notebook(nb, monkeypatch):
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    skip = get_config(ROOT).tst_flags.split()                     # cells flagged slow are skipped...
    force = os.environ.get('LLMFORGE_TEST_FLAGS', '').split()     # ...unless LLMFORGE_TEST_FLAGS=slow
    ok, secs = nbdev_test.test_nb(nb, skip_flags=[f for f in skip if f not in force], force_flags=force)
    assert ok, f'{nb.name} failed: its traceback is printed above'

def test_every_notebook_found():
    assert len(NBS) >= 3 and (ROOT/'nbs'/'index.ipynb') in NBS
    assert len([p for p in NBS if p.parent.name == 'tutorials']) >= 5   # the tutorials are tests too
