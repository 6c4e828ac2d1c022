"""The chat template an adapter was trained with travels with it: evaluation, the merged folder, the GGUF and the Ollama
Modelfile render a conversation as training did, not with the base model's own template (issue: SmolLM2's injects a
system turn the tuned model never saw)."""
import json
from pathlib import Path
import pytest

MSGS = [{'role': 'user', 'content': 'Chest pain on exertion.'}, {'role': 'assistant', 'content': 'ICD10: I20.9'}]
OTHER = ("{% for m in messages %}{{ 'SYSTEM: You are a helpful AI assistant named SmolLM.\\n' if loop.first else '' }}"
         "<|im_start|>{{ m['role'] }}\\n{{ m['content'] }}<|im_end|>\\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\\n{% endif %}")

@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    from llmforge.models import tiny_model, load_tokenizer
    from llmforge.templates import set_template
    from llmforge.configs import OptimConfig
    from llmforge.train import train_sft
    d = tmp_path_factory.mktemp('travel')
    model, tok = tiny_model(d/'base')
    base_tok = load_tokenizer(d/'base'); base_tok.chat_template = OTHER; base_tok.save_pretrained(str(d/'base'))
    set_template(tok, 1)                                   # training renders with llmforge's stage 1 template
    run = train_sft(model, tok, [MSGS] * 8, d/'run', training=OptimConfig(max_steps=2, batch_size=4), progress=False)
    return d, Path(run['output']), tok.apply_chat_template(MSGS, tokenize=False)

def test_evaluation_and_merge_use_the_training_template(trained):
    from llmforge.evaluation import HFPredictor
    from llmforge.models import load_tokenizer
    from llmforge.models import merge_adapter
    d, adapter, expected = trained
    assert 'SmolLM' in load_tokenizer(d/'base').apply_chat_template(MSGS, tokenize=False)     # the base's own differs
    assert HFPredictor(d/'base', adapter=adapter).tok.apply_chat_template(MSGS, tokenize=False) == expected
    merged = merge_adapter(d/'base', adapter, d/'merged')
    assert load_tokenizer(merged).apply_chat_template(MSGS, tokenize=False) == expected

def test_gguf_and_modelfile_carry_the_training_template(trained):
    import gguf
    from llmforge.models import load_tokenizer
    from llmforge.quantizers.pipeline import to_gguf
    from llmforge.quantizers.ollama import modelfile
    d, adapter, expected = trained
    res = to_gguf(d/'base', d/'tuned.gguf', 'Q8_0', adapter=adapter, verify=False)
    f = gguf.GGUFReader(str(res.path)).fields['tokenizer.chat_template']
    assert bytes(f.parts[-1]).decode() == load_tokenizer(adapter).chat_template
    mf = modelfile(res.path).read_text()
    assert 'SmolLM' not in mf and '<|im_start|>' in mf

def test_template_check_reads_what_was_shipped(trained):
    "`llmforge template check` accepts a GGUF and a Modelfile: the tuned files pass, a GGUF from the bare base fails"
    import subprocess, sys
    from llmforge.quantizers.pipeline import to_gguf
    from llmforge.quantizers.ollama import modelfile
    from llmforge.templates import record_template
    from llmforge.models import load_tokenizer
    d, adapter, expected = trained
    rec = record_template(load_tokenizer(adapter), d/'template.json', 1)
    tuned = to_gguf(d/'base', d/'check'/'tuned.gguf', 'Q8_0', adapter=adapter, verify=False).path
    mf = modelfile(tuned)
    bare = to_gguf(d/'base', d/'bare'/'bare.gguf', 'Q8_0', verify=False).path    # the base's own (SmolLM-like) template
    run = lambda m: subprocess.run([sys.executable, '-m', 'llmforge', 'template', 'check', str(d/'template.json'), '--model', str(m)],
                                   capture_output=True, text=True, timeout=120)
    for m in (tuned, mf):
        r = run(m)
        assert r.returncode == 0 and rec['fingerprint'] in r.stdout, r.stderr
    r = run(bare)
    assert r.returncode == 1 and 'is not the one used in training' in r.stderr and 'Traceback' not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
