"""llama.cpp runs in a child process: a native crash there is a one-line error (exit 5) here, files already written are
kept, and the user's process (a Jupyter kernel included) lives on. Crashes are real: LLMFORGE_LLAMA_FAULT makes the
child kill itself with the signal at the named step, as a llama.cpp built for another CPU does at its first decode."""
import json, os, signal, subprocess, sys
from pathlib import Path
import pytest

from llmforge.core import NativeCrash, LLMForgeError
from llmforge.llamacpp import llama_cpp_installed, LlamaModel, LlamaProcess, smoke_gguf, shared_process

pytestmark = pytest.mark.skipif(not llama_cpp_installed(), reason='llama-cpp-python is an optional extra: pip install "llmforge[gguf]"')
ENV = {**os.environ, 'NO_COLOR': '1', 'HF_HUB_OFFLINE': '1'}

def llmforge(*args, fault=None, timeout=300):
    env = ENV | ({'LLMFORGE_LLAMA_FAULT': fault} if fault else {})
    return subprocess.run([sys.executable, '-m', 'llmforge', *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env)

def one_line_error(r, code, *contains):
    "Exit `code`, no traceback, and the last stderr line is llmforge's one-line error"
    assert r.returncode == code, (r.returncode, r.stdout[-500:], r.stderr[-2000:])
    assert 'Traceback' not in r.stderr and 'Fatal Python error' not in r.stderr, r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith('llmforge '), r.stderr
    for c in contains: assert c in last, (c, last)
    return last

@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    from llmforge.models import tiny_model
    p = tmp_path_factory.mktemp('m')/'tiny'; tiny_model(p); return p

@pytest.fixture
def fault(monkeypatch):
    "Set LLMFORGE_LLAMA_FAULT for this process's children"
    return lambda v: monkeypatch.setenv('LLMFORGE_LLAMA_FAULT', v)

def test_the_model_lives_in_another_process(tmp_path):
    p = smoke_gguf(tmp_path/'s.gguf')
    with LlamaModel(p, n_ctx=64) as m:
        info = m.proc.call('info')
        ids = m.tokenize('ab ab')
        assert info['pid'] != os.getpid() and m.metadata['general.architecture'] == 'llama'
        assert m.logits(ids).shape == (len(ids), 258) and isinstance(m.complete(ids, 3), str)
    assert 'llama_cpp' not in sys.modules        # the native library was never loaded here

@pytest.mark.parametrize('sig', ['SIGSEGV', 'SIGABRT', 'SIGBUS', 'SIGILL'])
def test_a_crash_is_an_exception_and_this_process_goes_on(tmp_path, fault, monkeypatch, sig):
    p = smoke_gguf(tmp_path/'s.gguf')
    fault(f'complete:{sig}')                      # read by children started from now on
    m = LlamaModel(p, n_ctx=64, process=LlamaProcess())
    with pytest.raises(NativeCrash) as e: m.complete(m.tokenize('ab'), 3)
    assert e.value.exit_code == 5 and str(e.value).startswith(f'llama.cpp crashed ({sig}) while generating with s.gguf;')
    assert 'GGML_NATIVE=OFF' in str(e.value) and '\n' not in str(e.value)
    with pytest.raises(LLMForgeError, match=f'crashed .{sig}.'): m.complete([1], 1)   # the dead child is not used again
    monkeypatch.delenv('LLMFORGE_LLAMA_FAULT')
    with LlamaProcess() as lp, LlamaModel(p, n_ctx=64, process=lp) as again: assert isinstance(again.complete(again.tokenize('ab'), 2), str)

def test_extra_buffer_types_follow_the_build_or_the_override(tmp_path, monkeypatch):
    "Weight repacking (llama.cpp's extra buffer types, the AMX path) is on for builds without AMX kernels, off on demand"
    p = smoke_gguf(tmp_path/'s.gguf')
    with LlamaProcess() as lp, LlamaModel(p, n_ctx=64, process=lp) as m:
        assert m.extra_bufts == (not lp.call('info')['features'].get('AMX_INT8', False))
    monkeypatch.setenv('LLMFORGE_LLAMA_EXTRA_BUFTS', '0')
    with LlamaProcess() as lp, LlamaModel(p, n_ctx=64, process=lp) as m:
        assert m.extra_bufts is False and isinstance(m.complete(m.tokenize('ab'), 2), str)

def test_load_errors_are_not_crashes(tmp_path):
    (tmp_path/'junk.gguf').write_bytes(b'GGUF' + os.urandom(4000))
    with pytest.raises(LLMForgeError, match='cannot load') as e: LlamaModel(tmp_path/'junk.gguf')
    assert not isinstance(e.value, NativeCrash)
    with pytest.raises(LLMForgeError, match='no such GGUF file'): LlamaModel(tmp_path/'missing.gguf')

def test_one_child_serves_every_model_and_none_outlives_us(tmp_path):
    p = smoke_gguf(tmp_path/'s.gguf')
    pids = set()
    for _ in range(5):
        with LlamaModel(p, n_ctx=64) as m: pids.add(m.proc.call('info')['pid'])
    lp = shared_process()
    assert len(pids) == 1 and lp.call('info')['models'] == 0                     # closed models are unloaded
    lp.close()
    kids = subprocess.run(['ps', '--ppid', str(os.getpid()), '-o', 'stat=,cmd='], capture_output=True, text=True).stdout
    assert 'llmforge.llamacpp' not in kids, kids
    code = f"from llmforge.llamacpp import LlamaModel; m = LlamaModel({str(p)!r}, n_ctx=64); print(m.proc.proc.pid, flush=True)"
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=60)   # exits without closing
    pid = int(r.stdout.split()[-1])
    import time; time.sleep(0.5)
    assert not Path(f'/proc/{pid}').exists() or 'Z' in Path(f'/proc/{pid}/stat').read_text().split()[2]

def test_quantize_crash_keeps_files_and_exits_5(tiny, tmp_path):
    r = llmforge('quantize', tiny, '--format', 'gguf', '--type', 'Q4_K_M', '-o', tmp_path/'q.gguf', fault='quantize')
    one_line_error(r, 5, 'llama.cpp crashed (SIGSEGV) while quantizing', 'GGML_NATIVE=OFF')
    assert not (tmp_path/'q.gguf').exists() and list(tmp_path.iterdir()) == []     # no half-written output

def test_verification_crash_keeps_the_file_aside_and_the_old_one_in_place(tiny, tmp_path):
    (tmp_path/'q.gguf').write_bytes(b'an earlier good file')
    r = llmforge('quantize', tiny, '--format', 'gguf', '--type', 'Q8_0', '-o', tmp_path/'q.gguf', fault='load')
    one_line_error(r, 5, 'q.gguf was left as it was; the new file is kept as q.unverified.gguf: llama.cpp crashed (SIGSEGV) while loading q.gguf')
    assert (tmp_path/'q.gguf').read_bytes() == b'an earlier good file' and (tmp_path/'q.unverified.gguf').stat().st_size > 100_000

def test_eval_crash_is_one_line(tiny, tmp_path):
    from llmforge.project import Project
    from llmforge.quantizers.pipeline import to_gguf
    root = Path(__file__).resolve().parent.parent
    p = Project.init(tmp_path/'proj', domain='medical')
    p.import_jsonl(root/'examples'/'medical-coding'/'stage1.jsonl'); p.split()
    to_gguf(tiny, tmp_path/'m.gguf', 'Q8_0', verify=False)
    r = llmforge('eval', '-p', p.path, '--model', tmp_path/'m.gguf', '--limit', '2', '--max-new-tokens', '4', fault='complete_texts')
    one_line_error(r, 5, 'llama.cpp crashed (SIGSEGV) while generating with m.gguf')

def test_quickstart_crash_at_step_6_keeps_steps_1_to_5(tmp_path):
    r = llmforge('quickstart', tmp_path/'qs', '--model', 'tiny', '--steps', '20', fault='load', timeout=600)
    one_line_error(r, 5, 'model-Q4_K_M.gguf was left as it was; the new file is kept as model-Q4_K_M.unverified.gguf: llama.cpp crashed (SIGSEGV) while loading')
    assert '5/7 after training' in r.stdout and '6/7' not in r.stdout
    report = (tmp_path/'qs'/'report.md').read_text()
    assert '| tuned (HF) |' in report and (tmp_path/'qs'/'run').is_dir() and (tmp_path/'qs'/'model-Q4_K_M.unverified.gguf').exists()

def test_doctor_runs_llama_cpp_and_reports_a_crash():
    r = llmforge('doctor', '--offline', '--json')
    checks = {c['name']: c for c in json.loads(r.stdout)}
    assert checks['llama.cpp']['status'] == 'ok' and 'loads and decodes in a child process' in checks['llama.cpp']['detail']
    r = llmforge('doctor', '--offline', fault='load')
    assert r.returncode == 1 and 'Traceback' not in r.stderr
    line = next(l for l in r.stdout.splitlines() if 'llama.cpp ' in l and 'crashed' in l)
    assert line.startswith('FAIL') and 'SIGSEGV' in line and 'pip install --no-cache-dir --force-reinstall' in line

def test_a_jupyter_kernel_survives_a_crash(tmp_path):
    "The kernel that ran a crashing GGUF evaluation keeps its variables and runs the next cell"
    nbformat = pytest.importorskip('nbformat'); nbclient = pytest.importorskip('nbclient')
    p = smoke_gguf(tmp_path/'s.gguf')
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(f"import os; os.environ['LLMFORGE_LLAMA_FAULT'] = 'complete'\nkept = 41\n"
                                  f"from llmforge.llamacpp import LlamaModel\nfrom llmforge.core import NativeCrash\n"
                                  f"m = LlamaModel({str(p)!r}, n_ctx=64)\n"
                                  f"try: m.complete([1, 2], 2)\nexcept NativeCrash as e: print('caught', e.exit_code)"),
        nbformat.v4.new_code_cell("print('alive', kept + 1, os.getpid())")])
    nbclient.NotebookClient(nb, timeout=120, kernel_name='python3', resources={'metadata': {'path': str(tmp_path)}}).execute()
    outs = [''.join(o.get('text', '') for o in c.outputs) for c in nb.cells]
    assert outs[0].strip() == 'caught 5' and outs[1].startswith('alive 42'), outs
