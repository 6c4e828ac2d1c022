"Code systems against fixtures: valid codes (in varied spellings) normalize and validate, invalid ones say why."
import json
from pathlib import Path
import pytest
from llmforge.codes import validate, load_table, CODE_SYSTEMS

FIX = json.loads((Path(__file__).parent/'fixtures'/'codes.json').read_text())

@pytest.mark.parametrize('case', FIX['valid'], ids=[f"{c['system']}-{c['code']}" for c in FIX['valid']])
def test_valid_codes(case):
    r = validate(case['code'], case['system'])
    assert r.is_valid and r.known and r.error is None, r
    assert r.normalized == case.get('normalized', case['code'].upper()) and r.description
    if case['system'] == 'icd10cm': assert r.billable and r.category and (r.parent or len(r.normalized) == 3)

@pytest.mark.parametrize('case', FIX['invalid'], ids=[f"{c['system']}-{c['code']}" for c in FIX['invalid']])
def test_invalid_codes(case):
    r = validate(case['code'], case['system'])
    assert not r.is_valid and r.status == 'invalid' and r.error, r

@pytest.mark.parametrize('case', FIX['non_billable'], ids=[f"{c['system']}-{c['code']}" for c in FIX['non_billable']])
def test_non_billable(case):
    r = validate(case['code'], case['system'])
    assert r.is_valid and r.billable is False and 'not billable' in r.error

def test_fixture_and_table_sizes():
    assert len(FIX['valid']) >= 100 and len(FIX['invalid']) >= 50
    assert {c['system'] for c in FIX['valid']} == set(CODE_SYSTEMS)
    assert len(load_table('hcpcs')) >= 100 and len(load_table('cpt')) >= 200

def test_well_formed_unknown_is_not_invalid():
    for code, sysname in (('99499', 'cpt'), ('A9999', 'hcpcs'), ('Z9999', 'hcpcs')):
        r = validate(code, sysname)
        if code not in load_table(sysname):
            assert r.is_valid and not r.known and r.status == 'unknown', r

def test_icd10_code_set_is_the_full_cms_set():
    import simple_icd_10_cm as cm
    billable = sum(1 for c in cm.get_all_codes() if cm.is_leaf(c) and not (cm.is_chapter(c) or cm.is_block(c)))
    print(f'\nICD-10-CM billable codes in the installed code set: {billable}')
    assert billable > 70000
