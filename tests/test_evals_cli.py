"""`llmforge evals list|compare|report`: exit codes, --json shapes, one-line errors, on saved evaluations of a project."""
import io, json, os, subprocess, sys
from pathlib import Path
import pytest
from llmforge.cli import run, IO
from llmforge.core import read_examples
from llmforge.project import Project
from llmforge.evaluation import evaluate, save_eval, EvalResult

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = list(read_examples(ROOT/'examples'/'medical-coding'/'stage1.jsonl'))

class Oracle:
    "Answers with the gold answer, except on the examples whose position is in `wrong` (there: the first example's answer)"
    def __init__(self, name, wrong): self.name,self.wrong = name,set(wrong)
    def predict(self, prompts):
        gold = {e.prompt: e.response for e in EXAMPLES}
        return [EXAMPLES[0].response if i in self.wrong else gold[p[-1]['content']] for i,p in enumerate(prompts)]

def sh(*argv):
    out,err = io.StringIO(),io.StringIO()
    code = run([str(a) for a in argv], io=IO(io.StringIO(), out, err))
    return code, out.getvalue(), err.getvalue()

@pytest.fixture(scope='module')
def proj(tmp_path_factory):
    "A project with two saved evaluations of the same 30 examples: 'weak' (half wrong) and 'strong' (2 wrong)"
    p = Project.init(tmp_path_factory.mktemp('evals')/'proj', domain='medical')
    test = EXAMPLES[1:31]
    save_eval(p, evaluate(test, Oracle('weak', range(0, 30, 2)), n_boot=200))
    save_eval(p, evaluate(test, Oracle('strong', [3, 7]), n_boot=200))
    save_eval(p, evaluate(EXAMPLES[31:41], Oracle('other', []), n_boot=100))
    return p

def one_line_error(code, out, err, expected_code=1):
    assert code == expected_code and out == '', (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('llmforge evals: error: '), err
    return lines[0]

def test_list(proj):
    code,out,err = sh('evals', 'list', '-p', proj.path)
    assert code == 0 and err == ''
    lines = out.strip().splitlines()
    assert len(lines) == 3 and [l.split(':')[0].split('-')[1] for l in lines] == ['weak', 'strong', 'other']
    assert 'strong, 30 examples · accuracy 0.933 [' in out
    code,out,_ = sh('evals', 'list', '-p', proj.path, '--json')
    rows = json.loads(out)
    assert code == 0 and [r['name'] for r in rows] == ['weak', 'strong', 'other'] and [r['n'] for r in rows] == [30, 30, 10]
    saved = EvalResult.load(rows[1]['file'])
    assert rows[1]['metrics']['accuracy'] == {k: saved.metrics['accuracy'][k] for k in ('value', 'lo', 'hi')}
    assert set(rows[0]['metrics']) == {'accuracy', 'exact_match', 'parseable', 'f1_micro', 'f1_macro'}

def test_list_empty_and_not_a_project(tmp_path):
    p = Project.init(tmp_path/'empty')
    code,out,_ = sh('evals', 'list', '-p', p.path)
    assert code == 0 and 'no saved evaluations' in out
    code,out,_ = sh('evals', 'list', '-p', p.path, '--json')
    assert code == 0 and json.loads(out) == []
    msg = one_line_error(*sh('evals', 'list', '-p', tmp_path/'nowhere'))
    assert 'is not an llmforge project' in msg

def test_compare_json(proj):
    code,out,err = sh('evals', 'compare', 'weak', 'strong', '-p', proj.path, '--json', '--n-boot', 500)
    assert code == 0, err
    c = json.loads(out)
    assert set(c) == {'a', 'b', 'n', 'metrics', 'files'} and (c['a'], c['b'], c['n']) == ('weak', 'strong', 30)
    assert set(c['metrics']) == {'accuracy', 'exact_match', 'parseable', 'f1_micro', 'f1_macro'}
    acc = c['metrics']['accuracy']
    assert acc['test'] == 'McNemar (exact)' and (acc['only_a'], acc['only_b']) == (2, 15)   # weak is wrong on the 15 even positions, strong on 2 odd ones
    assert acc['diff'] == pytest.approx(28/30 - 15/30) and acc['lo'] <= acc['diff'] <= acc['hi'] and acc['lo'] > 0
    assert acc['p_value'] < 0.01
    for k,m in c['metrics'].items():
        assert set(m) >= {'a', 'b', 'diff', 'lo', 'hi', 'p_value', 'test'} and m['lo'] <= m['diff'] + 1e-12 and m['diff'] <= m['hi'] + 1e-12, k
        if k != 'accuracy': assert m['test'] == 'paired bootstrap'
    assert c['metrics']['parseable']['diff'] == 0 and c['metrics']['f1_micro']['diff'] > 0.3
    assert Path(c['files']['a']).name.startswith('eval-weak-')

def test_compare_text_and_files(proj):
    files = {r['name']: r for r in json.loads(sh('evals', 'list', '-p', proj.path, '--json')[1])}
    code,out,_ = sh('evals', 'compare', files['strong']['file'], files['weak']['file'], '--n-boot', 300)   # by path, from anywhere
    assert code == 0
    assert out.splitlines()[0].startswith('weak (B) against strong (A) on the same 30 examples')
    acc = next(l for l in out.splitlines() if l.startswith('accuracy '))
    assert '-0.433' in acc and 'McNemar' in acc
    assert 'accuracy: 15 examples only A got right, 2 only B' in out

def test_compare_errors(proj, tmp_path, capsys):
    msg = one_line_error(*sh('evals', 'compare', 'weak', 'missing', '-p', proj.path))
    assert 'missing: no such eval file' in msg and 'llmforge evals list' in msg
    msg = one_line_error(*sh('evals', 'compare', tmp_path/'nope.json', tmp_path/'nope2.json'))
    assert 'nope.json: no such eval file' in msg
    bad = tmp_path/'bad.json'; bad.write_text('{"name": "x",\n "predictions": [')
    msg = one_line_error(*sh('evals', 'compare', bad, 'weak', '-p', proj.path))
    assert f'{bad}:2: not valid JSON' in msg
    wrong = tmp_path/'wrong.json'; wrong.write_text('{"name": "x"}')
    assert 'not a saved evaluation' in one_line_error(*sh('evals', 'compare', wrong, 'weak', '-p', proj.path))
    assert 'not evaluations of the same examples' in one_line_error(*sh('evals', 'compare', 'weak', 'other', '-p', proj.path))
    code,out,err = sh('evals', 'compare', 'weak', '-p', proj.path)   # a usage error: exit 2 (argparse writes to the real stderr)
    assert code == 2 and 'the following arguments are required: b' in capsys.readouterr().err
    assert sh('evals')[0] == 2

def test_report(proj, tmp_path):
    out_md = tmp_path/'rep'/'weak-vs-strong.md'
    code,out,err = sh('evals', 'report', 'weak', 'strong', '-p', proj.path, '-o', out_md, '--json')
    assert code == 0, err
    r = json.loads(out)
    assert r == {'report': str(out_md), 'plots': [str(out_md.with_suffix('.png')), str(tmp_path/'rep'/'weak-vs-strong-confusion.png')], 'evals': ['weak', 'strong']}
    md = out_md.read_text()
    assert md.startswith('# Evaluation: weak, strong') and '![metrics](weak-vs-strong.png)' in md and '![confusion](weak-vs-strong-confusion.png)' in md
    assert '| strong | 0.933 [' in md and 'McNemar' in md and '| f1_macro |' in md
    for p in r['plots']: assert Path(p).stat().st_size > 5_000
    code,out,_ = sh('evals', 'report', 'strong', '-p', proj.path, '-o', tmp_path/'one.md')   # one evaluation: no comparison
    assert code == 0 and out.startswith('wrote ') and 'vs' not in (tmp_path/'one.md').read_text().split('## Mistakes')[0].split('## Confusions')[1]
    assert 'missing: no such eval file' in one_line_error(*sh('evals', 'report', 'weak', 'missing', '-p', proj.path, '-o', tmp_path/'x.md'))
    assert not (tmp_path/'x.md').exists()

def test_entry_point(proj):
    "The real command line, in a process of its own"
    r = subprocess.run([sys.executable, '-m', 'llmforge', 'evals', 'compare', 'weak', 'strong', '--json', '--n-boot', '200'],
                       cwd=proj.path, capture_output=True, text=True, timeout=120, env={**os.environ, 'HF_HUB_OFFLINE': '1'})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)['metrics']['accuracy']['only_b'] == 15
    r = subprocess.run([sys.executable, '-m', 'llmforge', 'evals', 'compare', 'weak', 'gone'], cwd=proj.path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and r.stdout == '' and len(r.stderr.strip().splitlines()) == 1
