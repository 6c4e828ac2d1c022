"Hosted fine-tuning jobs end to end against a local server that behaves like Together's and OpenAI's APIs"
import io, json, os, shutil, sys, uuid
from pathlib import Path
import pytest, yaml
sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_finetune_api import FakeFineTuneAPI
from llmforge.cli import run, IO
from llmforge.project import Project

EXAMPLES = Path(__file__).resolve().parent.parent/'examples'/'medical-coding'/'stage1.jsonl'
KEY = 'sk-secret-' + uuid.uuid4().hex

@pytest.fixture
def api():
    with FakeFineTuneAPI(KEY) as f: yield f

@pytest.fixture
def env(monkeypatch):
    for k in ('OPENAI_API_KEY', 'TOGETHER_API_KEY', 'OPENAI_BASE_URL', 'TOGETHER_BASE_URL'): monkeypatch.delenv(k, raising=False)
    return monkeypatch

def cli(*args):
    out,err = io.StringIO(),io.StringIO()
    rc = run([str(a) for a in args], IO(io.StringIO(), out, err))
    return rc, out.getvalue(), err.getvalue()

def setup(tmp, backend, url, model='gpt-4o-mini-2024-07-18', **hosted):
    proj = Project.init(tmp/'proj', provider=backend)
    shutil.copy(EXAMPLES, tmp/'stage1.jsonl')
    (tmp/'train.yaml').write_text(yaml.safe_dump({'kind': 'train', 'stage': 1, 'backend': backend, 'base_model': model, 'data': 'stage1.jsonl',
        'lora': {'r': 8, 'alpha': 16}, 'training': {'epochs': 2, 'batch_size': 4, 'learning_rate': 2e-5}, 'hosted': {'base_url': url, 'suffix': 'icd', **hosted}}))
    return proj

def nothing_on_disk(tmp):
    for f in Path(tmp).rglob('*'):
        if f.is_file(): assert KEY.encode() not in f.read_bytes(), f

@pytest.mark.parametrize('backend', ['openai', 'together'])
def test_submit_status_completion(tmp_path, api, env, backend):
    env.setenv('OPENAI_API_KEY' if backend == 'openai' else 'TOGETHER_API_KEY', KEY)
    proj = setup(tmp_path, backend, api.url, model='gpt-4o-mini-2024-07-18' if backend == 'openai' else 'meta-llama/Meta-Llama-3.1-8B-Instruct-Reference')
    rc,out,err = cli('train', tmp_path/'train.yaml', '-p', proj.path)
    assert rc == 0, err
    r = Project(proj.path).config.runs[-1]
    assert r['backend'] == backend and r['status'] == 'queued' and r['model_id'] is None and r['examples'] == 50
    body = api.jobs[r['job_id']]['body']
    assert len(api.files[body['training_file']]) == 50 and all(set(json.loads(l)) == {'messages'} for l in api.files[body['training_file']])
    if backend == 'together':
        assert body['training_type'] == {'type': 'Lora', 'lora_r': 8, 'lora_alpha': 16, 'lora_dropout': 0.05, 'lora_trainable_modules': 'all-linear'}
        assert (body['n_epochs'], body['batch_size'], body['learning_rate']) == (2, 4, 2e-5)
    else:
        assert body['method']['supervised']['hyperparameters'] == {'n_epochs': 2, 'batch_size': 4} and body['suffix'] == 'icd'
    rc,out,_ = cli('status', '-p', proj.path, '--refresh')
    assert rc == 0 and 'running' in out and '-> model' not in out
    rc,out,_ = cli('status', '-p', proj.path, '--refresh', '--json')
    r = json.loads(out)
    assert r['status'] == 'succeeded' and r['model_id'] and r['model_id'] == Project(proj.path).config.runs[-1]['model_id']
    assert r['job_id'] in r['model_id']
    polls = len(api.requests)
    assert cli('status', '-p', proj.path, '--refresh')[0] == 0 and len(api.requests) == polls  # finished jobs are not polled again
    nothing_on_disk(tmp_path)

def test_wait_and_failing_job(tmp_path, api, env):
    env.setenv('OPENAI_API_KEY', KEY)
    proj = setup(tmp_path, 'openai', api.url, model='gpt-fail-mini', wait=True, poll_seconds=0.01)
    rc,out,err = cli('train', tmp_path/'train.yaml', '-p', proj.path, '--json')
    assert rc == 0, err
    r = Project(proj.path).config.runs[-1]
    assert r['status'] == 'failed' and r['model_id'] is None and r['error'] == 'Training file has too few examples'
    assert 'Training file has too few examples' in cli('status', '-p', proj.path)[1]

def test_errors_are_one_line(tmp_path, api, env):
    proj = setup(tmp_path, 'openai', api.url)
    rc,_,err = cli('train', tmp_path/'train.yaml', '-p', proj.path)
    assert rc == 1 and 'OPENAI_API_KEY is not set' in err and len(err.strip().splitlines()) == 1 and not api.requests  # nothing sent without a key
    env.setenv('OPENAI_API_KEY', 'sk-wrong')
    rc,_,err = cli('train', tmp_path/'train.yaml', '-p', proj.path)
    assert rc == 1 and 'OpenAI rejected the API key (401: Incorrect API key provided); check OPENAI_API_KEY' in err and 'sk-wrong' not in err
    env.setenv('OPENAI_API_KEY', KEY)
    api.faults = [(429, {'Retry-After': '0'}, {'error': {'message': 'Rate limit reached'}}), (500, {'Retry-After': '0'}, {'error': {'message': 'boom'}})]
    rc,_,err = cli('train', tmp_path/'train.yaml', '-p', proj.path)
    assert rc == 0, err                                # a 429 and a 500 were retried
    api.faults = [(500, {'Retry-After': '0'}, {'error': {'message': 'boom'}})] * 5
    rc,_,err = cli('status', '-p', proj.path, '--refresh')
    assert rc == 1 and 'OpenAI had a server error (500, 5 tries: boom)' in err
    api.faults = [(400, {}, {'error': {'message': "Invalid hyperparameter 'n_epochs'"}})]
    rc,_,err = cli('train', tmp_path/'train.yaml', '-p', proj.path)
    assert rc == 1 and "OpenAI refused POST /files (400: Invalid hyperparameter 'n_epochs'); fix what it names" in err
    yml = (tmp_path/'train.yaml').read_text().replace('gpt-4o-mini-2024-07-18', 'no-such-model')
    (tmp_path/'train.yaml').write_text(yml)
    rc,_,err = cli('train', tmp_path/'train.yaml', '-p', proj.path)
    assert rc == 1 and "OpenAI found nothing for POST /fine_tuning/jobs (404: The model 'no-such-model' does not exist)" in err
    env.setenv('OPENAI_API_KEY', KEY)
    api.faults = [(429, {'Retry-After': '0'}, {'error': {'message': 'slow down'}})] * 5
    rc,_,err = cli('status', '-p', proj.path, '--refresh')   # the job from the retried submission is still unfinished
    assert rc == 1 and 'OpenAI is rate-limiting requests (429, 5 tries: slow down)' in err
    assert len(Project(proj.path).config.runs) == 1      # the refused submissions left no run behind
    nothing_on_disk(tmp_path)

def test_unreachable_and_cancel(tmp_path, api, env):
    env.setenv('TOGETHER_API_KEY', KEY)
    proj = setup(tmp_path, 'together', api.url, model='meta-llama/Meta-Llama-3.1-8B-Instruct-Reference')
    assert cli('train', tmp_path/'train.yaml', '-p', proj.path)[0] == 0
    rc,out,err = cli('status', '-p', proj.path, '--cancel', 'run-001', '--json')
    assert rc == 0 and json.loads(out)['status'] == 'cancelled', err
    from llmforge.train.hosted import client, HostedError
    c = client('together', 'http://127.0.0.1:9/v1', retries=1, backoff=0.01)
    with pytest.raises(HostedError, match=r'cannot reach Together at http://127.0.0.1:9/v1'): c.jobs()
