"`llmforge quantize / info / convert`: exit codes, one-line errors, --json shapes, damaged inputs."
import json, os, shutil, subprocess, sys
from pathlib import Path
import pytest

CLI = [sys.executable, '-m', 'llmforge']
ENV = {**os.environ, 'NO_COLOR': '1', 'HF_HUB_OFFLINE': '1'}

def llmforge(*args, timeout=300):
    return subprocess.run(CLI + [str(a) for a in args], capture_output=True, text=True, timeout=timeout, env=ENV)

def with_blocked(module, *args):
    "Run the CLI in a process where importing `module` fails, as when the optional package is not installed"
    code = f'import sys; sys.modules[{module!r}] = None; from llmforge.cli import main; sys.argv = ["llmforge"] + {[str(a) for a in args]!r}; main()'
    return subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300, env=ENV)

def error(r, code, *contains, after_progress=False):
    "Exit `code` with a one-line error (after progress lines only when the work had started)"
    assert r.returncode == code, (r.returncode, r.stdout[-500:], r.stderr[-2000:])
    lines = r.stderr.strip().splitlines()
    assert 'Traceback' not in r.stderr, r.stderr
    if not after_progress: assert len(lines) == 1, r.stderr          # one line: no traceback, no library noise
    assert lines[-1].startswith('llmforge '), lines[-1]
    for c in contains: assert c in lines[-1], (c, r.stderr)

@pytest.fixture(scope='module')
def models(tmp_path_factory):
    from llmforge.models import tiny_model
    from llmforge.quantizers.pipeline import to_gguf
    d = tmp_path_factory.mktemp('q')
    tiny_model(d/'tiny')
    to_gguf(d/'tiny', d/'tiny-q8.gguf', type='Q8_0', verify=False)
    (d/'calib.jsonl').write_text('{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n')
    return d

# --- usage ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('cmd', ['quantize', 'info', 'convert'])
def test_help(cmd):
    r = llmforge(cmd, '--help')
    assert r.returncode == 0 and f'usage: llmforge {cmd}' in r.stdout and 'exit codes' in r.stdout

def test_usage_errors_exit_2(models):
    assert llmforge('quantize', models/'tiny').returncode == 2                                  # no -o
    assert llmforge('quantize', models/'tiny', '--format', 'onnx', '-o', models/'x').returncode == 2
    assert llmforge('convert', models/'tiny', '-o', models/'x').returncode == 2                 # no --to
    r = llmforge('quantize', models/'tiny', '--format', 'bnb', '--sweep', '-o', models/'x')
    assert r.returncode == 2 and '--sweep' in r.stderr

def test_help_stays_light():
    code = 'import sys, llmforge.cli; sys.argv=["llmforge","quantize","--help"]\ntry: llmforge.cli.main()\nexcept SystemExit: pass\nprint(sorted(m for m in ("torch","transformers","numpy","gguf","gptqmodel") if m in sys.modules))'
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert r.stdout.strip().splitlines()[-1] == '[]', r.stdout

# --- bad input: exit 1, one line -------------------------------------------------------------------------------------

@pytest.mark.parametrize('argv', [['info', '{p}'], ['quantize', '{p}', '-o', '{o}'], ['quantize', '{p}', '--format', 'bnb', '-o', '{o}'],
                                  ['convert', '{p}', '-o', '{o}', '--to', 'hf']])
def test_missing_path(tmp_path, argv):
    error(llmforge(*[a.format(p=tmp_path/'nope', o=tmp_path/'out') for a in argv]), 1, 'nope: no such file or folder')

def test_corrupt_gguf(models, tmp_path):
    bad = tmp_path/'bad.gguf'; bad.write_bytes(b'\x00' * 4096)
    error(llmforge('info', bad), 1, 'bad.gguf', 'not a GGUF file')
    error(llmforge('convert', bad, '-o', tmp_path/'hf', '--to', 'hf'), 1, 'bad.gguf')
    flipped = tmp_path/'flipped.gguf'; data = bytearray((models/'tiny-q8.gguf').read_bytes())
    data[8:24] = b'\xff' * 16                                   # tensor and key counts garbled
    flipped.write_bytes(bytes(data))
    error(llmforge('info', flipped), 1, 'flipped.gguf')

@pytest.mark.parametrize('keep', [0.5, 0.9999, 40])
def test_truncated_gguf(models, tmp_path, keep):
    data = (models/'tiny-q8.gguf').read_bytes()
    cut = tmp_path/'cut.gguf'; cut.write_bytes(data[:int(len(data) * keep) if keep < 1 else keep])
    error(llmforge('info', cut), 1, 'cut.gguf', 'truncated')
    error(llmforge('convert', cut, '-o', tmp_path/'hf', '--to', 'hf'), 1, 'cut.gguf')

def _with_tokenizer(folder, tiny):
    for f in tiny.iterdir():
        if f.name.startswith(('tokenizer', 'special_tokens', 'chat_template')): shutil.copy(f, folder)

def test_unsupported_architecture(models, tmp_path):
    from transformers import GPT2Config, BertConfig
    gpt2 = tmp_path/'gpt2'; GPT2Config(n_layer=1, n_embd=64, n_head=2).save_pretrained(gpt2)
    cfg = json.loads((gpt2/'config.json').read_text()); cfg['architectures'] = ['GPT2LMHeadModel']
    (gpt2/'config.json').write_text(json.dumps(cfg)); _with_tokenizer(gpt2, models/'tiny')
    error(llmforge('quantize', gpt2, '--format', 'gguf', '--type', 'F16', '-o', tmp_path/'g.gguf'), 1, 'GPT2LMHeadModel', 'not supported for GGUF')
    bert = tmp_path/'bert'; BertConfig(num_hidden_layers=1, hidden_size=64, num_attention_heads=2, intermediate_size=64).save_pretrained(bert)
    cfg = json.loads((bert/'config.json').read_text()); cfg['architectures'] = ['BertForMaskedLM']
    (bert/'config.json').write_text(json.dumps(cfg)); _with_tokenizer(bert, models/'tiny')
    for fmt in ('gguf', 'bnb', 'gptq'):
        error(llmforge('quantize', bert, '--format', fmt, '-o', tmp_path/f'b-{fmt}'), 1, 'BertForMaskedLM is not a causal language model')

def test_missing_tokenizer(models, tmp_path):
    m = tmp_path/'notok'; m.mkdir()
    for f in ('config.json', 'model.safetensors', 'generation_config.json'): shutil.copy(models/'tiny'/f, m)
    for fmt in ('gguf', 'bnb', 'gptq'):
        error(llmforge('quantize', m, '--format', fmt, '-o', tmp_path/f'o-{fmt}'), 1, 'no tokenizer')
    assert llmforge('info', m).returncode == 0 and 'MISSING' in llmforge('info', m).stdout

def test_requantize_needs_flag(models, tmp_path):
    error(llmforge('convert', models/'tiny-q8.gguf', '-o', tmp_path/'q4.gguf', '--to', 'gguf', '--type', 'Q4_0'), 1, 'already quantized', '--allow-requantize')

# --- missing optional dependency: exit 3 -----------------------------------------------------------------------------

def test_missing_gptqmodel_exit_3(models, tmp_path):
    r = with_blocked('gptqmodel', 'quantize', models/'tiny', '--format', 'gptq', '-o', tmp_path/'g', '--calibration', models/'calib.jsonl')
    error(r, 3, 'gptqmodel is not installed', "pip install 'llmforge[gptq]'")

def test_missing_llama_cpp_exit_3(models, tmp_path):
    error(with_blocked('llama_cpp', 'quantize', models/'tiny', '--type', 'Q4_K_M', '-o', tmp_path/'m.gguf'), 3, 'llama-cpp-python is not installed')

def test_missing_bitsandbytes_exit_3(models, tmp_path):
    error(with_blocked('bitsandbytes', 'quantize', models/'tiny', '--format', 'bnb', '-o', tmp_path/'b'), 3, 'bitsandbytes is not installed')

# --- verification failed: exit 4 -------------------------------------------------------------------------------------

def test_broken_weights_fail_verification_exit_4(models, tmp_path):
    from safetensors.torch import load_file, save_file
    import torch
    m = tmp_path/'nan'; shutil.copytree(models/'tiny', m)
    sd = load_file(str(m/'model.safetensors'))
    sd['model.layers.0.self_attn.q_proj.weight'][0, 0] = float('nan')     # one bad weight poisons every logit
    save_file(sd, str(m/'model.safetensors'), metadata={'format': 'pt'})
    error(llmforge('quantize', m, '--format', 'bnb', '-o', tmp_path/'out'), 4, 'non-finite logits', after_progress=True)
    assert (tmp_path/'out'/'model.safetensors').exists()                   # written, but reported as failing

# --- success and the JSON shapes -------------------------------------------------------------------------------------

def test_quantize_gguf_json(models, tmp_path):
    r = llmforge('quantize', models/'tiny', '--type', 'Q8_0', '-o', tmp_path/'t.gguf', '--json')
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)                                                # stdout is only the JSON
    assert {'format', 'path', 'type', 'size_bytes', 'bits_per_weight', 'seconds', 'peak_rss_mb', 'report'} <= d.keys()
    assert d['format'] == 'gguf' and d['type'] == 'Q8_0' and Path(d['path']).stat().st_size == d['size_bytes']
    assert '[1/' in r.stderr                                                # progress per tensor on stderr

def test_info_json(models):
    r = llmforge('info', models/'tiny-q8.gguf', '--json')
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d['kind'] == 'gguf' and d['architecture'] == 'llama' and d['file_type'] == 'Q8_0' and d['chat_template'] is True
    assert d['tensor_types'] == {'Q8_0': 16, 'F32': 5} and 8 < d['bits_per_weight'] < 9 and d['parameters'] == 2229504
    assert set(d['tokenizer']) >= {'model', 'pre', 'vocab_size'} and d['provenance']['file_type'] == 7
    h = json.loads(llmforge('info', models/'tiny', '--json').stdout)
    assert h['kind'] == 'hf' and h['parameters'] == d['parameters'] and h['quantization'] is None
    text = llmforge('info', models/'tiny-q8.gguf').stdout
    assert 'Q8_0×16' in text and 'bits per weight' in text

def test_convert_gguf_to_hf_json(models, tmp_path):
    r = llmforge('convert', models/'tiny-q8.gguf', '-o', tmp_path/'hf', '--to', 'hf', '--json')
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert {'src', 'from', 'out', 'to', 'lost', 'warnings', 'seconds'} <= d.keys() and d['from'] == 'GGUF Q8_0'
    assert any('Q8_0' in l for l in d['lost'])
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    a, b = (AutoModelForCausalLM.from_pretrained(str(p)) for p in (models/'tiny', tmp_path/'hf'))
    tok = AutoTokenizer.from_pretrained(str(tmp_path/'hf'))
    assert tok.chat_template, 'the chat template came along'
    ids = tok('hello there, general kenobi', return_tensors='pt').input_ids
    with torch.no_grad(): diff = (a(ids).logits - b(ids).logits).abs().max().item()
    assert 0 < diff < 0.1, diff                                             # dequantized Q8_0: close, not identical

def test_convert_requantize_warns(models, tmp_path):
    r = llmforge('convert', models/'tiny-q8.gguf', '-o', tmp_path/'b', '--to', 'bnb', '--allow-requantize', '--json')
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert 'warning: requantizing GGUF Q8_0 to bnb' in r.stderr and d['warnings']
    assert any('rounding error is kept' in l for l in d['lost']) and any('nf4' in l for l in d['lost'])
    assert d['result']['report']['reloads']
