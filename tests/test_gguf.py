"GGUF export end to end: every type loads and generates in llama.cpp, logits match Hugging Face, tokenizers of each kind, adapters, memory"
import json, os, subprocess, sys
from pathlib import Path
import numpy as np
import pytest

os.environ.setdefault('HF_HUB_OFFLINE', '1')
from llmforge.core import LLMForgeError, MissingDependency, VerificationError
from llmforge.quantizers.gguf import GGUF_TYPES, DIRECT_TYPES, write_gguf, adapter_to_gguf, tokenizer_metadata
from llmforge.quantizers.pipeline import to_gguf, verify_gguf, hf_reference
from llmforge.quantizers.ollama import modelfile
from llmforge.quantizers.verify import sweep, smollm2_shaped, GGUFPredictor
from llmforge.llamacpp import LlamaModel
from llmforge.llamacpp import llama_cpp_installed      # asks without loading llama.cpp here: it runs in a child process
needs_llama = pytest.mark.skipif(not llama_cpp_installed(), reason='llama-cpp-python is an optional extra: pip install "llmforge[gguf]"')

@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    from llmforge.models import tiny_model
    p = tmp_path_factory.mktemp('m')/'tiny'; tiny_model(p); return p

@pytest.fixture(scope='module')
def ref(tiny): return hf_reference(tiny)

@needs_llama
@pytest.mark.parametrize('t', GGUF_TYPES)
def test_every_type_loads_generates_and_passes(tiny, ref, tmp_path, t):
    res = to_gguf(tiny, tmp_path/f'{t}.gguf', t, verify=False)
    rep = verify_gguf(res.path, tiny, reference=ref)          # raises VerificationError when a threshold is missed
    assert rep.type == t and rep.method == 'llama.cpp' and rep.tokens_match and rep.passed
    assert rep.generation is not None and np.isfinite(rep.max_abs_diff)
    assert 1 < res.bits_per_weight < 33

@needs_llama
def test_corrupt_and_truncated_files_fail_to_load(tiny, tmp_path):
    p = write_gguf(tiny, tmp_path/'ok.gguf', 'F16')
    data = p.read_bytes()
    (tmp_path/'trunc.gguf').write_bytes(data[:len(data)//2])
    (tmp_path/'junk.gguf').write_bytes(b'GGUF' + os.urandom(4000))
    for bad in ('trunc.gguf', 'junk.gguf'):
        with pytest.raises(LLMForgeError, match='cannot load'): LlamaModel(tmp_path/bad)

def _qwen2(path, tok_src):
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM, AutoTokenizer
    tok = AutoTokenizer.from_pretrained(str(tok_src))
    torch.manual_seed(0)
    m = Qwen2ForCausalLM(Qwen2Config(vocab_size=len(tok), hidden_size=256, intermediate_size=512, num_hidden_layers=2, num_attention_heads=4,
                                     num_key_value_heads=2, max_position_embeddings=512, tie_word_embeddings=False))
    with torch.no_grad():
        for l in m.model.layers: l.self_attn.q_proj.bias.normal_(0, 0.5); l.self_attn.k_proj.bias.normal_(0, 0.5)   # biases that matter
    m.save_pretrained(str(path)); tok.save_pretrained(str(path)); return path

@needs_llama
def test_qwen2_with_qkv_biases(tiny, tmp_path):
    q = _qwen2(tmp_path/'qwen2', tiny)
    for t in ('F32', 'Q8_0', 'Q4_K_M'):
        rep = to_gguf(q, tmp_path/f'q-{t}.gguf', t).report
        assert rep.passed and rep.tokens_match, rep

@needs_llama
def test_mistral(tiny, tmp_path):
    import torch
    from transformers import MistralConfig, MistralForCausalLM, AutoTokenizer
    tok = AutoTokenizer.from_pretrained(str(tiny)); torch.manual_seed(0)
    m = MistralForCausalLM(MistralConfig(vocab_size=len(tok), hidden_size=256, intermediate_size=512, num_hidden_layers=2, num_attention_heads=4,
                                         num_key_value_heads=2, head_dim=64, max_position_embeddings=512, sliding_window=None))
    m.save_pretrained(str(tmp_path/'mistral')); tok.save_pretrained(str(tmp_path/'mistral'))
    rep = to_gguf(tmp_path/'mistral', tmp_path/'m.gguf', 'F32').report
    assert rep.passed and rep.tokens_match and rep.nrmse < 1e-3

@needs_llama
def test_sentencepiece_tokenizer(tmp_path):
    m = smollm2_shaped(tmp_path/'sp', num_layers=2, tokenizer='sentencepiece')
    res = to_gguf(m, tmp_path/'sp.gguf', 'Q8_0')
    assert res.report.passed and res.report.tokens_match          # BOS added, byte fallback, scores from the .model

@needs_llama
@pytest.mark.parametrize('pre', ['llama-bpe', 'qwen2'])
def test_regex_pre_tokenizers(tiny, tmp_path, pre):
    "A tokenizer with Llama 3's (or Qwen2's) split regex tokenizes in llama.cpp exactly as in Hugging Face"
    import shutil
    from tokenizers import Tokenizer, Regex, pre_tokenizers, models, decoders, trainers
    from transformers import PreTrainedTokenizerFast
    from llmforge.quantizers.gguf import _LLAMA3_RE, _QWEN2_RE
    from llmforge.templates import CHATML_TOKENS, stage_template
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(_LLAMA3_RE if pre == 'llama-bpe' else _QWEN2_RE), 'isolated'),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    text = (Path(__file__).parent.parent/'llmforge'/'data'/'tiny_corpus.txt').read_text()
    tok.train_from_iterator(text.split('\n\n'), trainers.BpeTrainer(vocab_size=2048, special_tokens=CHATML_TOKENS, show_progress=False,
                                                                    initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token='<|im_end|>', pad_token='<|endoftext|>', additional_special_tokens=['<|im_start|>'])
    fast.chat_template = stage_template(1)
    d = tmp_path/pre; shutil.copytree(tiny, d)
    for f in ('tokenizer.json', 'tokenizer_config.json'): (d/f).unlink()
    fast.save_pretrained(str(d))
    assert tokenizer_metadata(d, 2048)['pre'] == pre
    rep = to_gguf(d, tmp_path/f'{pre}.gguf', 'F32').report
    assert rep.tokens_match and rep.passed

def test_unknown_pre_tokenizer_is_refused(tiny, tmp_path):
    import shutil
    d = tmp_path/'ws'; shutil.copytree(tiny, d)
    tj = json.loads((d/'tokenizer.json').read_text()); tj['pre_tokenizer'] = {'type': 'Whitespace'}
    (d/'tokenizer.json').write_text(json.dumps(tj))
    with pytest.raises(LLMForgeError, match='not one llama.cpp knows'): to_gguf(d, tmp_path/'x.gguf', 'F16')

def test_unsupported_architecture_and_missing_tokenizer(tiny, tmp_path):
    import shutil
    d = tmp_path/'gpt'; shutil.copytree(tiny, d)
    cfg = json.loads((d/'config.json').read_text()); cfg['architectures'] = ['GPT2LMHeadModel']; (d/'config.json').write_text(json.dumps(cfg))
    with pytest.raises(LLMForgeError, match='not supported for GGUF'): to_gguf(d, tmp_path/'x.gguf', 'F16')
    e = tmp_path/'notok'; shutil.copytree(tiny, e); (e/'tokenizer.json').unlink()
    with pytest.raises(LLMForgeError, match='no tokenizer.json'): to_gguf(e, tmp_path/'y.gguf', 'F16')

@needs_llama
def test_merged_adapter_and_gguf_adapter_agree(tiny, tmp_path):
    "The adapter merged before conversion and the GGUF adapter applied by llama.cpp both reproduce the merged HF model"
    import torch
    from peft import LoraConfig, get_peft_model
    from llmforge.models import tiny_model
    torch.manual_seed(1)
    pm = get_peft_model(tiny_model()[0], LoraConfig(r=4, lora_alpha=8, target_modules=['q_proj', 'k_proj', 'v_proj', 'up_proj'], init_lora_weights=False))
    pm.save_pretrained(str(tmp_path/'lora'))
    merged = to_gguf(tiny, tmp_path/'merged.gguf', 'F32', adapter=tmp_path/'lora', verify=False)
    ref = hf_reference(tiny, adapter=tmp_path/'lora')
    assert verify_gguf(merged.path, tiny, 'F32', reference=ref).passed
    base = write_gguf(tiny, tmp_path/'base.gguf', 'F32')
    ad = adapter_to_gguf(tmp_path/'lora', tmp_path/'lora.gguf', base=tiny)
    assert verify_gguf(base, tiny, 'F32', reference=ref, lora_path=ad).passed
    assert not verify_gguf(base, tiny, 'F32', reference=ref, raise_on_fail=False).passed   # without the adapter: different

@needs_llama
def test_verification_error_exit_code(tiny, tmp_path, monkeypatch):
    import llmforge.quantizers.pipeline as G
    monkeypatch.setitem(G.THRESHOLDS, 'Q4_0', (1e-9, 1e-12, 1.0))   # impossible limits
    (tmp_path/'q.gguf').write_bytes(b'an earlier file')
    with pytest.raises(VerificationError) as e: to_gguf(tiny, tmp_path/'q.gguf', 'Q4_0')
    assert e.value.exit_code == 4 and 'failed verification' in str(e.value) and 'kept as q.unverified.gguf' in str(e.value)
    assert (tmp_path/'q.gguf').read_bytes() == b'an earlier file' and (tmp_path/'q.unverified.gguf').exists()   # never replaced

@needs_llama
def test_predictor_and_modelfile(tiny, tmp_path):
    p = to_gguf(tiny, tmp_path/'t.gguf', 'Q8_0', verify=False).path
    gp = GGUFPredictor(p, max_new_tokens=5)
    out = gp.predict([[{'role': 'user', 'content': 'hello'}], [{'role': 'user', 'content': 'bye'}]])
    gp.close()
    assert len(out) == 2 and all(isinstance(o, str) for o in out)
    mf = modelfile(p, system='Be brief.', parameters={'num_ctx': 2048}).read_text()
    assert mf.startswith('FROM ./t.gguf') and 'SYSTEM """Be brief."""' in mf and 'PARAMETER num_ctx 2048' in mf

def test_peak_memory_is_a_fraction_of_the_model(tmp_path):
    """Our writer, in a fresh process, peaks well below the model's size (one tensor at a time). (The K-quants add llama.cpp's
    quantizer, which maps its whole input file: file-backed pages that count in RSS up to the intermediate's size.)"""
    m = smollm2_shaped(tmp_path/'s', num_layers=30)
    size = (m/'model.safetensors').stat().st_size / 2**20
    code = (f"from llmforge.quantizers.pipeline import to_gguf; import json; r = to_gguf({str(m)!r}, {str(tmp_path/'o.gguf')!r}, 'Q8_0', verify=False);"
            "print(json.dumps(r.to_dict()))")
    out = json.loads(subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
    assert out['peak_rss_mb'] < 0.75 * size, (out['peak_rss_mb'], size)

@needs_llama
@pytest.mark.skipif('slow' not in os.environ.get('LLMFORGE_TEST_FLAGS', '').split(), reason='slow (a 135M-parameter sweep): set LLMFORGE_TEST_FLAGS=slow')
def test_sweep_smollm2_shape(tmp_path):
    m = smollm2_shaped(tmp_path/'smollm2-shaped')
    rows = sweep(m, tmp_path/'sweep', keep=False)
    assert [r['type'] for r in rows] == list(GGUF_TYPES) and all(r['tokens_match'] for r in rows)
    assert (tmp_path/'sweep'/'quality.json').exists() and (tmp_path/'sweep'/'quality.png').exists()

def test_without_llama_cpp(tiny, tmp_path, monkeypatch):
    "Without llama-cpp-python: direct types are verified by reading the tensors back; K-quants say how to install it (exit 3)"
    monkeypatch.setitem(sys.modules, 'llama_cpp', None)          # makes `import llama_cpp` fail
    res = to_gguf(tiny, tmp_path/'f16.gguf', 'F16')
    assert res.report.method == 'gguf-reader' and res.report.passed and res.report.max_tensor_error < 1e-3
    with pytest.raises(MissingDependency) as e: to_gguf(tiny, tmp_path/'q.gguf', 'Q4_K_M')
    assert e.value.exit_code == 3 and "pip install 'llmforge[gguf]'" in str(e.value) and not (tmp_path/'q.gguf').exists()

@needs_llama
def test_cli_eval_runs_a_gguf_through_llama_cpp(tiny, tmp_path):
    "`llmforge eval --model FILE.gguf` answers the project's validation split with llama.cpp and saves the evaluation"
    from llmforge.project import Project
    root = Path(__file__).resolve().parent.parent
    p = Project.init(tmp_path/'proj', domain='medical')
    p.import_jsonl(root/'examples'/'medical-coding'/'stage1.jsonl'); p.split()
    to_gguf(tiny, tmp_path/'m.gguf', 'Q8_0')
    r = subprocess.run([sys.executable, '-m', 'llmforge', 'eval', '-p', str(p.path), '--model', str(tmp_path/'m.gguf'), '--limit', '4',
                        '--max-new-tokens', '8', '--n-boot', '50', '--save', '--json'], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert 0 <= out['eval']['accuracy']['value'] <= 1
    saved = json.loads(Path(out['saved']).read_text())
    assert saved['name'] == 'm' and len(saved['predictions']) == 4
    assert all(isinstance(x['prediction'], str) and x['latency_s'] > 0 for x in saved['predictions'])
    r = subprocess.run([sys.executable, '-m', 'llmforge', 'eval', '-p', str(p.path), '--model', str(tmp_path/'missing.gguf')], capture_output=True, text=True)
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1

@needs_llama
def test_quantizer_log_stays_off_the_terminal(tiny, tmp_path):
    "llama.cpp's per-tensor quantize log is kept out of the user's terminal; a failure quotes its last lines"
    f16 = write_gguf(tiny, tmp_path/'f16.gguf', 'F16')
    code = f"from llmforge.quantizers.gguf import quantize_gguf; quantize_gguf({str(f16)!r}, {str(tmp_path/'q.gguf')!r}, 'Q4_K_M'); print('done')"
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == 'done' and 'llama_model_quantize' not in r.stdout + r.stderr, r.stderr[-500:]
    from llmforge.quantizers.gguf import quantize_gguf
    (tmp_path/'junk.gguf').write_bytes(b'GGUF' + os.urandom(2000))
    with pytest.raises(LLMForgeError, match='it said: .+'): quantize_gguf(tmp_path/'junk.gguf', tmp_path/'junk-q.gguf', 'Q4_K_M')
