"GPTQ/AWQ through GPTQModel on the tiny model: the saved folder reloads, and a run killed mid-way resumes from its last layer."
import json, os, re, signal, subprocess, sys, time
from pathlib import Path
import pytest

pytest.importorskip('gptqmodel', reason="GPTQ/AWQ need the gptq extra: pip install 'llmforge[gptq]' (gptqmodel==7.6.0, optimum)")
pytest.importorskip('optimum', reason='transformers loads GPTQ folders through optimum (part of the gptq extra)')

from llmforge.quantizers.gptq import checkpoint_layers

ENV = {**os.environ, 'HF_HUB_OFFLINE': '1', 'GPTQMODEL_CPU_WORKERS': str(os.cpu_count() or 1), 'NO_COLOR': '1'}
RUN = r'''
import json, sys
from llmforge.quantizers.gptq import quantize_gptq
from llmforge.core import Example
exs = [Example.new([{"role": "user", "content": f"What is {i} plus {3*i}? Explain briefly."},
                    {"role": "assistant", "content": f"The answer is {4*i}, because {i} and {3*i} add up to it."}]) for i in range(24)]
def progress(s):
    with open(sys.argv[2] + ".progress", "a") as f: f.write(s + "\n")
r = quantize_gptq(sys.argv[1], sys.argv[2], method=sys.argv[3], calibration=exs, n_samples=24, progress=progress)
print("RESULT", json.dumps(r.to_dict()), flush=True)
'''

@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    from llmforge.models import tiny_model
    p = tmp_path_factory.mktemp('m')/'tiny4'
    tiny_model(p, num_layers=4)
    return p

def start(model, out, method='gptq'):
    return subprocess.Popen([sys.executable, '-c', RUN, str(model), str(out), method], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, env=ENV, start_new_session=True)

def finish(p, out_dir, timeout=600):
    out, _ = p.communicate(timeout=timeout)
    assert p.returncode == 0, out[-2000:]
    res = json.loads(re.search(r'RESULT (\{.*\})', out).group(1))
    lines = Path(str(out_dir) + '.progress').read_text().splitlines()
    Path(str(out_dir) + '.progress').unlink()
    return res, [l for l in lines if l.startswith('layer ')]

def qweights(folder):
    from safetensors.torch import load_file
    return load_file(str(Path(folder)/'model.safetensors'))

@pytest.mark.parametrize('method', ['gptq', 'awq'])
def test_quantize_reloads_in_transformers(tiny, tmp_path, method):
    res, layers = finish(start(tiny, tmp_path/method, method), tmp_path/method)
    cfg = json.loads((tmp_path/method/'config.json').read_text())['quantization_config']
    assert cfg['quant_method'] == method and cfg['bits'] == 4 and cfg['group_size'] == 128
    assert res['report']['reloads'] and res['report']['top1_agreement'] > 0.5, res
    assert res['size_bytes'] < 0.5 * res['source_bytes']
    assert len(layers) == 4 and res['resumed_layers'] == 0
    assert not Path(str(tmp_path/method) + '.checkpoint').exists()   # removed once the folder is saved

def test_killed_run_resumes_from_last_layer(tiny, tmp_path):
    out = tmp_path/'gptq'; ck = Path(str(out) + '.checkpoint')
    p = start(tiny, out)
    deadline = time.time() + 300
    while checkpoint_layers(ck) < 1:
        assert p.poll() is None, 'the run finished before it could be interrupted'
        assert time.time() < deadline, 'no layer checkpoint was committed'
        time.sleep(0.05)
    os.killpg(p.pid, signal.SIGKILL); p.wait()
    assert p.returncode == -signal.SIGKILL
    done = checkpoint_layers(ck)
    assert 1 <= done < 4 and not (out/'model.safetensors').exists()
    Path(str(out) + '.progress').unlink()
    res, layers = finish(start(tiny, out), out)
    assert res['resumed_layers'] == done
    assert len(layers) == 4 - done, (layers, res)           # only the unfinished layers are quantized again
    assert res['report']['reloads']
    fresh, _ = finish(start(tiny, tmp_path/'fresh'), tmp_path/'fresh')   # the resumed model equals an uninterrupted run
    a, b = qweights(out), qweights(tmp_path/'fresh')
    assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a)

def test_cli_gptq_from_project_json(tiny, tmp_path):
    "`llmforge quantize --format gptq` calibrates on the project it runs in; with --json, stdout is only the JSON"
    from llmforge.project import Project
    p = Project.init(tmp_path/'proj')
    p.add_many([{'messages': [{'role': 'user', 'content': f'Summarise note {i}: patient stable, follow up in {i} weeks.'},
                              {'role': 'assistant', 'content': f'Stable; follow-up in {i} weeks.'}]} for i in range(16)])
    r = subprocess.run([sys.executable, '-m', 'llmforge', 'quantize', str(tiny), '--format', 'gptq', '--group-size', '64',
                        '-o', str(tmp_path/'out'), '--json'], capture_output=True, text=True, env=ENV, cwd=tmp_path/'proj', timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    d = json.loads(r.stdout)
    assert d['format'] == 'gptq' and d['group_size'] == 64 and d['report']['reloads']
    assert 'layer 4/4 quantized' in r.stderr and '16 calibration samples' in r.stderr
    info = json.loads(subprocess.run([sys.executable, '-m', 'llmforge', 'info', str(tmp_path/'out'), '--json'], capture_output=True, text=True, env=ENV).stdout)
    assert info['quantization']['method'] == 'gptq' and info['quantization']['group_size'] == 64
    assert info['parameters'] == json.loads(subprocess.run([sys.executable, '-m', 'llmforge', 'info', str(tiny), '--json'],
                                                           capture_output=True, text=True, env=ENV).stdout)['parameters']
