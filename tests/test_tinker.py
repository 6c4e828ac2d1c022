"""backend: tinker end to end against a local Tinker-compatible server (tests/fake_tinker_server.py) through the official
SDK: faults the SDK retries, faults that end a run as one line with nothing recorded, resuming from the state saved at
Tinker, and the downloaded adapter as a PEFT adapter of the base model"""
import io, json, os, sys, uuid
from pathlib import Path
import pytest, yaml
pytest.importorskip('tinker')
sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_tinker_server import FakeTinker
from llmforge.cli import run, IO
from llmforge.core import read_examples, write_jsonl
from llmforge.models import tiny_model
from llmforge.project import Project
from llmforge.train import train_from_config
from llmforge.train.record import list_runs

EXAMPLES = Path(__file__).resolve().parent.parent/'examples'/'medical-coding'/'stage1.jsonl'
KEY = 'tml-test-' + uuid.uuid4().hex

@pytest.fixture(scope='module')
def base(tmp_path_factory):
    d = tmp_path_factory.mktemp('tinker')/'tiny-base'
    tiny_model(d)
    return d

@pytest.fixture
def fake(base, monkeypatch):
    monkeypatch.setenv('TINKER_API_KEY', KEY)
    monkeypatch.delenv('TINKER_BASE_URL', raising=False)
    with FakeTinker(KEY, {'tiny-base': base}) as f: yield f

def setup(tmp:Path, base:Path, url:str, steps=3, **tinker):
    "A project and a tinker config of `steps` steps on 12 examples"
    (tmp/'tiny-base').symlink_to(base)
    write_jsonl(tmp/'data.jsonl', [e.to_dict() for e in list(read_examples(EXAMPLES))[:12]])
    (tmp/'train.yaml').write_text(yaml.safe_dump({
        'kind': 'train', 'stage': 1, 'backend': 'tinker', 'base_model': 'tiny-base', 'data': 'data.jsonl',
        'output_dir': 'runs/t', 'lora': {'r': 8},
        'training': {'batch_size': 4, 'learning_rate': 3e-3, 'max_seq_len': 256, 'max_steps': steps, 'save_steps': 2,
                     'warmup_ratio': 0},
        'tinker': {'base_url': url, **tinker}}))
    return Project.init(tmp/'proj')

def cli(*args):
    out,err = io.StringIO(),io.StringIO()
    rc = run([str(a) for a in args], IO(io.StringIO(), out, err))
    return rc, out.getvalue(), err.getvalue()

def test_server_errors_are_retried_and_the_adapter_loads(tmp_path, fake, base):
    proj = setup(tmp_path, base, fake.url)
    fake.faults = [('/forward_backward$', 503), ('/optim_step$', 502), ('/retrieve_future$', 500),
                   ('/save_weights_external$', 503)]
    rep = train_from_config(tmp_path/'train.yaml', project=proj, say=lambda *a: None)
    assert fake.faults == [] and rep['steps'] == 3
    posts = fake.kinds()
    assert posts.count('optim_step') == 4 and posts.count('save_weights_external') == 2   # the failed tries, again
    r = list_runs(proj)[-1]
    assert (r.backend, r.status, r.steps) == ('tinker', 'completed', 3) and r.model_id.startswith('tinker://')
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM
    adapter = tmp_path/'runs'/'t'/'adapter'
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(str(base)), str(adapter))
    x = torch.tensor([[5, 17, 99, 3, 250]])
    with torch.no_grad(): diff = (model(x).logits - fake.runs[r.job_id]['model'](x).logits).abs().max().item()
    assert diff < 1e-4
    assert json.loads((adapter/'adapter_config.json').read_text())['r'] == 8
    assert KEY.encode() not in b''.join(f.read_bytes() for f in tmp_path.rglob('*') if f.is_file())

def test_a_hung_future_is_one_line_and_nothing_is_recorded(tmp_path, fake, base):
    proj = setup(tmp_path, base, fake.url, timeout=8)
    fake.hang = {'forward_backward'}
    rc,out,err = cli('train', tmp_path/'train.yaml', '-p', proj.path)
    assert rc == 1 and err.count('\n') == 1, err
    assert 'Tinker did not answer forward_backward of step 1 within 8 s' in err and 'Traceback' not in err
    assert list_runs(proj) == [] and not (tmp_path/'runs'/'t'/'adapter').exists()

def test_an_expired_session_stops_the_run_and_a_rerun_resumes(tmp_path, fake, base):
    proj = setup(tmp_path, base, fake.url, steps=5)
    def say(m):
        if 'step 3/' in m: fake.expire()     # the session ends while step 4 is on its way
    with pytest.raises(Exception) as e: train_from_config(tmp_path/'train.yaml', project=proj, say=say)
    assert 'the Tinker session ended during forward_backward of step 4' in str(e.value) and '\n' not in str(e.value)
    state = json.loads((tmp_path/'runs'/'t'/'tinker-state.json').read_text())
    assert state['step'] == 2 and list_runs(proj) == []
    said = []
    rep = train_from_config(tmp_path/'train.yaml', project=proj, say=said.append)
    assert said[0].startswith('resuming at step 2 from tinker://') and rep['steps'] == 5
    assert [r.steps for r in list_runs(proj)] == [5] and not (tmp_path/'runs'/'t'/'tinker-state.json').exists()

def test_keys_come_from_the_environment_only(tmp_path, fake, base, monkeypatch):
    proj = setup(tmp_path, base, fake.url)
    monkeypatch.delenv('TINKER_API_KEY')
    rc,_,err = cli('train', tmp_path/'train.yaml', '-p', proj.path)
    assert rc == 1 and 'TINKER_API_KEY is not set' in err
    monkeypatch.setenv('TINKER_API_KEY', 'tml-wrong')
    rc,_,err = cli('train', tmp_path/'train.yaml', '-p', proj.path)
    assert rc == 1 and 'Tinker rejected the API key (401' in err and err.count('\n') == 1
    assert list_runs(proj) == []
