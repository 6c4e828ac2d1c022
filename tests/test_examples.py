"The bundled example projects are valid: their data pass the quality checks and their configs load."
import json
from collections import Counter
from pathlib import Path
import pytest
from llmforge.codes import find_codes, validate
from llmforge.configs import load_config
from llmforge.validators import validate_file, final_answer

MED = Path(__file__).resolve().parent.parent/'examples'/'medical-coding'

@pytest.mark.parametrize('stage', [1, 2, 3])
def test_medical_stage_data(stage):
    path = MED/f'stage{stage}.jsonl'
    rep = validate_file(path, stage=stage, domain='medical')
    print(f'\n{rep}')
    assert rep.records == 50 and rep.errors == 0, rep.summary()
    rows = [json.loads(l) for l in path.read_text().splitlines()]
    types = Counter(r['metadata']['code_type'] for r in rows)
    assert types == {'icd10cm': 20, 'cpt': 15, 'hcpcs': 15}, types
    assert set(Counter(r['metadata']['specialty'] for r in rows)) >= {'endocrinology', 'cardiology', 'pulmonology', 'orthopedics', 'general medicine'}
    for r in rows:
        answer = r['messages'][-1]['content'] if 'messages' in r else r['chosen'][-1]['content']
        codes = find_codes(final_answer(answer))
        assert codes and all(c[0] == r['metadata']['code_type'] for c in codes), (answer, r['metadata'])
        for sysname, code in codes:
            res = validate(code, sysname)
            assert res.is_valid and res.known and res.billable is not False, res

def test_medical_configs_load():
    cfgs = {p.stem: load_config(p) for p in sorted((MED/'configs').glob('*.yaml'))}
    assert len(cfgs) == 6
    assert cfgs['train_stage3'].objective == 'dpo' and cfgs['train_stage3'].dpo.loss_type == 'apo_zero'
    assert cfgs['train_stage2'].special_tokens == ['<think>', '</think>']
    assert all(cfgs[f'data_stage{s}'].stage == s for s in (1, 2, 3))

def test_quickstart_data_uses_the_stage1_record_format():
    "The quickstart data (built by make_quickstart_data.py, checked in tests/test_quickstart_data.py) has stage 1's shape"
    rows = lambda p: [json.loads(l) for l in p.read_text().splitlines()]
    qs,st = rows(MED.parent.parent/'llmforge'/'data'/'quickstart.jsonl'),rows(MED/'stage1.jsonl')
    roles = lambda rs: {tuple(m['role'] for m in r['messages']) for r in rs}
    assert roles(qs) == roles(st) == {('user', 'assistant')}
    assert all({'code_type', 'specialty'} <= r['metadata'].keys() for r in qs + st)
    from llmforge.codes import find_codes
    systems = lambda rs: {s for r in rs for s,_ in find_codes(r['messages'][-1]['content'])}
    assert systems(qs) == systems(st) == {'icd10cm', 'cpt', 'hcpcs'}

def test_quickstart_command(tmp_path):
    import subprocess, sys, json as _json
    r = subprocess.run([sys.executable, '-m', 'llmforge', 'quickstart', str(tmp_path/'qs'), '--model', 'tiny', '--steps', '40', '--json'],
                       capture_output=True, text=True, timeout=600, env={**__import__('os').environ, 'HF_HUB_OFFLINE': '1'})
    assert r.returncode == 0, r.stderr[-2000:]
    figures = _json.loads(r.stdout)
    assert figures['tuned']['heldout_loss'] < figures['base']['heldout_loss']
    assert (tmp_path/'qs'/'report.md').exists() and (tmp_path/'qs'/'project'/'llmforge.json').exists()
