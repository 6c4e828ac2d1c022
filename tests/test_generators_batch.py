"Anthropic's Message Batches API against the local fake server: half price, resume after a kill, errors, budget, CLI"
import io, json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest
from llmforge.cli import run, IO
from llmforge.project import Project
from llmforge.generate.teachers import AnthropicTeacher, OpenAICompatibleTeacher, Generator
from llmforge.generate.cache import Request, Ledger, cost_of, price_of
from llmforge.generate.server import FakeAPI, recipe_answer
from llmforge.generate.batches import BatchOptions, batch_price
from llmforge.generate.recipes import generate

ROOT = Path(__file__).resolve().parent.parent
PRICE = price_of('claude-haiku-4-5')

@pytest.fixture
def api():
    a = FakeAPI(recipe_answer).start()
    yield a
    a.stop()

@pytest.fixture(autouse=True)
def env(monkeypatch):
    monkeypatch.setenv('ANTHROPIC_API_KEY', 'test-key-not-secret')
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')

def reqs(n, max_tokens=50): return [Request([{'role':'user','content':f'Tell me fact number {i} about tea.'}], max_tokens=max_tokens) for i in range(n)]
def claude(api): return AnthropicTeacher('claude-haiku-4-5', base_url=api.url)
def fast(**kw): return BatchOptions(poll=0.01, **kw)

def cli(*argv):
    out,err = io.StringIO(),io.StringIO()
    return run([str(a) for a in argv], IO(io.StringIO(''), out, err)), out.getvalue(), err.getvalue()

def batch_sizes(api): return [len(st['requests']) for st in api.batches.values()]

def test_batch_run_adds_examples_and_charges_half(api, tmp_path):
    p = Project.init(tmp_path/'p', domain='medical')
    rep = generate(p, 'medical-stage1', claude(api), count=4, seed=1, batch=fast())
    assert rep.added + rep.rejected == 4 and rep.added >= 3 and rep.sent == 4
    assert api.calls('/v1/messages') == 0 and batch_sizes(api) == [4]     # one batch, no single requests
    s = json.loads((Path(rep.folder)/'summary.json').read_text())
    assert s['batch'] is True
    assert (s['input_tokens'], s['output_tokens']) == (api.usage['input_tokens'], api.usage['output_tokens'])
    full = cost_of(s['input_tokens'], s['output_tokens'], PRICE)
    assert s['cost'] == pytest.approx(full/2, abs=1e-9) and rep.cost == pytest.approx(full/2)
    lines = Ledger.read(rep.folder)
    assert all(l['cost'] == pytest.approx(cost_of(l['input_tokens'], l['output_tokens'], batch_price(PRICE))) for l in lines)
    added = [e for e in p if e.source == 'teacher:anthropic:claude-haiku-4-5']
    assert len(added) == rep.added and all(e.metadata['generation']['cost'] > 0 for e in added)
    again = generate(p, 'medical-stage1', claude(api), count=4, seed=1, batch=fast())
    assert again.sent == 0 and len(api.batches) == 1                    # a rerun asks for nothing

def test_killed_run_resumes_the_same_batch_and_pays_once(api, tmp_path):
    Project.init(tmp_path/'p', domain='medical')
    api.batch_polls = 10**9                                               # the batch never ends while the first run lives
    argv = [sys.executable, '-m', 'llmforge', 'generate', '-p', str(tmp_path/'p'), '--recipe', 'medical-stage1', '--count', '3',
            '--model', 'claude-haiku-4-5', '--base-url', api.url, '--batch', '--batch-poll', '0.05']
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        t0 = time.time()
        while not list((tmp_path/'p'/'generations'/'runs').glob('*/batch-*.json')) and time.time() - t0 < 60: time.sleep(0.05)
        while api.calls() - api.calls('/v1/messages/batches') - api.calls('/v1/messages/count_tokens') < 2 and time.time() - t0 < 60: time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()
    finally:
        proc.send_signal(signal.SIGKILL); proc.wait()
    [rec_file] = list((tmp_path/'p'/'generations'/'runs').glob('*/batch-*.json'))
    rec = json.loads(rec_file.read_text())
    assert rec['status'] == 'open' and len(rec['keys']) == 3 and api.usage['answered'] == 0
    api.batch_polls = 1
    code,out,err = cli('generate', '-p', tmp_path/'p', '--recipe', 'medical-stage1', '--count', '3', '--model', 'claude-haiku-4-5',
                       '--base-url', api.url, '--batch', '--batch-poll', '0.01', '--json')
    rep = json.loads(out)
    assert code == 0, err
    assert len(api.batches) == 1 and api.calls('/v1/messages/batches') == 1   # polled the killed run's batch: no second batch
    assert rep['sent'] == 3 and rep['added'] + rep['rejected'] == 3
    assert api.usage['answered'] == 3                                         # the server answered (and billed) each request once
    assert (rep['input_tokens'], rep['output_tokens']) == (api.usage['input_tokens'], api.usage['output_tokens'])
    assert rep['cost'] == pytest.approx(cost_of(rep['input_tokens'], rep['output_tokens'], PRICE)/2)
    assert json.loads(rec_file.read_text())['status'] == 'collected'
    first_run = rec_file.parent
    assert not [l for l in Ledger.read(first_run) if l['status'] == 'sent']   # the killed run charged nothing
    assert len(Project(tmp_path/'p')) == rep['added']

def test_errored_and_expired_items_reported_then_resent_in_a_new_batch(api, tmp_path):
    api.batch_faults = [None, 'errored', 'expired']
    g = Generator(claude(api), tmp_path/'c', ledger=Ledger(tmp_path/'runs'), batch=fast())
    outs = g.run(reqs(3))
    assert [o.status for o in outs] == ['sent', 'error', 'error']
    assert outs[1].error.startswith('batch errored: invalid_request_error:') and outs[2].error.startswith('batch expired')
    assert 'a rerun sends it again' in outs[1].error
    assert g.ledger.summary()['errors'] == 2 and g.ledger.summary()['sent'] == 1
    outs = Generator(claude(api), tmp_path/'c', ledger=Ledger(tmp_path/'runs'), batch=fast()).run(reqs(3))
    assert [o.status for o in outs] == ['cached', 'sent', 'sent']
    assert batch_sizes(api) == [3, 2]                                      # only the failed two, in a new batch

def test_dry_run_estimate_shows_the_batch_price(api, tmp_path):
    std = Generator(claude(api), tmp_path/'c').estimate(reqs(4))
    bat = Generator(claude(api), tmp_path/'c', batch=True).estimate(reqs(4))
    assert bat.input_tokens == std.input_tokens and bat.max_output_tokens == std.max_output_tokens
    assert bat.cost_max() == pytest.approx(std.cost_max()/2) and bat.price == (PRICE[0]/2, PRICE[1]/2)
    assert 'Message Batches price (50%)' in str(bat) and 'Message Batches' not in str(std)
    Project.init(tmp_path/'p', domain='medical')
    base = ['generate', '-p', tmp_path/'p', '--recipe', 'medical-stage1', '--count', '3', '--model', 'claude-haiku-4-5', '--base-url', api.url, '--dry-run']
    _,out1,_ = cli(*base, '--json'); _,out2,_ = cli(*base, '--batch', '--json')
    e1,e2 = json.loads(out1)['estimate'],json.loads(out2)['estimate']
    assert e2['batch'] and not e1['batch'] and e2['cost_max'] == pytest.approx(e1['cost_max']/2, abs=1e-6)
    assert len(api.batches) == 0 and api.usage['answered'] == 0            # a dry run sends nothing

def test_budget_sends_only_the_prefix_that_fits_at_the_batch_price(api, tmp_path):
    rs = reqs(5, max_tokens=100)
    g0 = Generator(claude(api), tmp_path/'c0')
    worst = [cost_of(g0.estimate([r]).input_tokens, 100, batch_price(PRICE)) for r in rs]
    budget = sum(worst[:2]) + worst[2]/2                                  # two fit at the batch price (one at the standard price)
    g = Generator(claude(api), tmp_path/'c', budget=budget, batch=fast())
    outs = g.run(rs)
    assert [o.status for o in outs] == ['sent', 'sent', 'over_budget', 'over_budget', 'over_budget']
    assert batch_sizes(api) == [2] and g.spent <= budget and g.reserved == pytest.approx(0, abs=1e-12)
    assert 'at the batch price' in outs[2].error

def test_chunks_phi_guard_and_wrong_backend(api, tmp_path):
    phi = Request([{'role':'user','content':'Patient Alma Reyes, MRN: 00482913, needs a refill.'}])
    outs = Generator(claude(api), tmp_path/'c', batch=fast(max_requests=2)).run(reqs(5) + [phi])
    assert [o.status for o in outs] == ['sent']*5 + ['blocked'] and batch_sizes(api) == [2, 2, 1]
    sent = json.dumps([st['requests'] for st in api.batches.values()])
    assert 'Alma' not in sent and '00482913' not in sent                  # the PHI guard ran before the batch was built
    with pytest.raises(Exception, match='needs the Anthropic teacher'):
        Generator(OpenAICompatibleTeacher('gpt-4o-mini', base_url=api.url + '/v1'), tmp_path/'c', batch=True)

def test_cli_batch_progress_and_exit_codes(api, tmp_path):
    Project.init(tmp_path/'p', domain='medical')
    api.batch_polls = 3
    base = ['generate', '-p', tmp_path/'p', '--recipe', 'medical-stage1', '--count', '3', '--base-url', api.url]
    code,out,err = cli(*base, '--model', 'claude-haiku-4-5', '--batch', '--batch-poll', '0.01')
    assert code == 0, err
    assert 'done 3/3' in out and len(api.batches) == 1
    polls = [l for l in err.split('\r') if l.startswith('batch msgbatch_')]
    assert len(polls) == 3 and 'in_progress · 0/3 processed' in polls[0] and 'ended · 3/3 processed' in polls[-1]
    [rec] = list((tmp_path/'p'/'generations'/'runs').glob('*/batch-*.json'))
    assert json.loads(rec.read_text())['status'] == 'collected'
    code,_,err = cli(*base, '--model', 'gpt-4o-mini', '--backend', 'openai', '--batch')
    assert code == 1 and 'needs the Anthropic teacher' in err

def test_malformed_answer_is_reasked_in_a_new_batch(api, tmp_path):
    p = Project.init(tmp_path/'p', domain='medical')
    api.batch_faults = [None, 'badjson']
    rep = generate(p, 'medical-stage1', claude(api), count=3, seed=2, batch=fast())
    assert rep.retried == 1 and batch_sizes(api) == [3, 1]               # the re-ask (attempt 1) went in a second batch
    assert rep.added + rep.rejected == 3 and rep.sent == 4
    assert len(Ledger.read(rep.folder)) == 4

def test_a_batch_the_server_lost_is_reported_and_resent(api, tmp_path):
    api.batch_polls = 10**9
    g = Generator(claude(api), tmp_path/'c', ledger=Ledger(tmp_path/'runs'), batch=fast(timeout=0.05))
    assert [o.status for o in g.run(reqs(2))] == ['error', 'error']
    api.batches.clear(); api.batch_polls = 1                             # the server forgets the batch (e.g. another endpoint)
    outs = Generator(claude(api), tmp_path/'c', ledger=Ledger(tmp_path/'runs'), batch=fast()).run(reqs(2))
    assert [o.status for o in outs] == ['error', 'error'] and all(o.error.startswith('batch gone: msgbatch_') for o in outs)
    outs = Generator(claude(api), tmp_path/'c', ledger=Ledger(tmp_path/'runs'), batch=fast()).run(reqs(2))
    assert [o.status for o in outs] == ['sent', 'sent'] and api.calls('/v1/messages/batches') == 2
