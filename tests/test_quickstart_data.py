"""The bundled quickstart data is what `make_quickstart_data.py` writes, and keeps its promises: counts per split, real
codes, unseen codes absent from train, new text in val, answers that parse, and a keyword baseline that stays low."""
import json, runpy, subprocess, sys
from collections import Counter
from pathlib import Path
import pytest
from llmforge.codes import find_codes, validate
from llmforge.core import Example
from llmforge.evaluation import KeywordMatch
from llmforge.phi import find_phi
from llmforge.validators import validate_file

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT/'llmforge'/'example_projects'/'medical-coding'/'make_quickstart_data.py'
DATA = ROOT/'llmforge'/'data'/'quickstart.jsonl'
ROWS = [json.loads(l) for l in DATA.read_text(encoding='utf-8').splitlines()]
TRAIN = [r for r in ROWS if r['split'] == 'train']
SEEN,UNSEEN = [[r for r in ROWS if r['metadata']['heldout'] == h] for h in ('seen_code', 'unseen_code')]
code = lambda r: r['metadata']['code']
text = lambda r: r['messages'][0]['content']

def script(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=120)

def test_committed_file_is_the_script_output(tmp_path):
    r = script('--check')
    assert r.returncode == 0 and 'up to date' in r.stdout, r.stdout + r.stderr
    stale = tmp_path/'q.jsonl'
    stale.write_bytes(DATA.read_bytes().replace(b'"split": "val"', b'"split": "train"', 1))
    r = script('--check', '--out', stale)
    assert r.returncode == 1 and 'differs' in r.stdout, r.stdout + r.stderr

def test_the_script_is_deterministic():
    m = runpy.run_path(str(SCRIPT), run_name='make_quickstart_data')   # no bytecode left in the example folder
    build,to_jsonl = m['build'],m['to_jsonl']
    assert to_jsonl(build()) == to_jsonl(build()) == DATA.read_bytes()
    assert to_jsonl(build(seed=1)) != DATA.read_bytes()   # the seed is what fixes the file

def test_counts_per_split():
    assert Counter((r['split'], r['metadata']['heldout']) for r in ROWS) == {
        ('train', None): 800, ('val', 'seen_code'): 100, ('val', 'unseen_code'): 30}
    splits = [r['split'] for r in ROWS]
    assert splits == sorted(splits, key=['train', 'val'].index), 'train lines come first, then val'
    per_system = lambda rs: Counter(t for t,_ in {(r['metadata']['code_type'], code(r)) for r in rs})
    assert per_system(SEEN) == {'icd10cm': 50, 'cpt': 25, 'hcpcs': 25}
    assert per_system(UNSEEN) == {'icd10cm': 15, 'cpt': 8, 'hcpcs': 7}
    assert len({code(r) for r in SEEN}) == len(SEEN) and len({code(r) for r in UNSEEN}) == len(UNSEEN)   # one each

CODES = sorted({(r['metadata']['code_type'], code(r), r['metadata']['description']) for r in ROWS})

@pytest.mark.parametrize('system,c,desc', CODES, ids=[c for _,c,_ in CODES])
def test_every_code_is_a_known_billable_code(system, c, desc):
    r = validate(c, system)
    assert r.is_valid and r.known and r.billable is not False and r.normalized == c, r
    assert r.description == desc

def test_unseen_codes_never_in_train():
    train_codes = {code(r) for r in TRAIN}
    assert not {code(r) for r in UNSEEN} & train_codes
    assert {code(r) for r in SEEN} == train_codes

def test_every_seen_code_has_enough_training_examples():
    n = Counter(code(r) for r in TRAIN)
    assert all(n[code(r)] >= 6 for r in SEEN), {code(r): n[code(r)] for r in SEEN if n[code(r)] < 6}

def test_no_val_narrative_is_in_train():
    norm = lambda s: ' '.join(s.lower().split())
    train_texts = {norm(text(r)) for r in TRAIN}
    assert not [text(r) for r in SEEN + UNSEEN if norm(text(r)) in train_texts]
    assert len(train_texts) == len(TRAIN)
    rep = validate_file(DATA, stage=1, domain='medical')   # exact and near (MinHash) duplicates and leakage
    assert rep.errors == 0 and rep.warnings == 0, rep.summary()

def test_answers_parse_to_the_metadata_code():
    label = {'icd10cm': 'ICD10', 'cpt': 'CPT', 'hcpcs': 'HCPCS'}
    for r in ROWS:
        m = r['metadata']
        want = f"{m['description'].split(';')[0].strip().rstrip('.')}. {label[m['code_type']]}: {m['code']}"   # the description, then the code
        assert r['messages'][1] == {'role': 'assistant', 'content': want}
        assert find_codes(r['messages'][1]['content']) == [(m['code_type'], m['code'])]

def test_narratives_are_short_and_free_of_phi():
    for r in ROWS:
        assert 25 <= len(text(r).split()) <= 60 and text(r).isascii(), text(r)
        assert not find_phi(text(r)), text(r)

def test_a_keyword_baseline_gets_few_seen_codes():
    "Held-out narratives of seen codes use other words: a bag-of-words nearest neighbour gets well under half"
    km = KeywordMatch([Example.from_dict({'messages': r['messages']}) for r in TRAIN])
    answers = lambda rs: km.predict([r['messages'][:1] for r in rs])
    hits = lambda rs: sum(p == r['messages'][1]['content'] for p,r in zip(answers(rs), rs))
    assert hits(SEEN) / len(SEEN) < 0.35, hits(SEEN)
    assert hits(UNSEEN) == 0
