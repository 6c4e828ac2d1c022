"""Training throughput: llmforge's SFT loop against TRL's SFTTrainer (unpacked, and with packing), same data and LoRA.

    python benchmarks/train_throughput.py                                           # tiny model, 40 steps of 4
    python benchmarks/train_throughput.py --steps 20
    python benchmarks/train_throughput.py --model smollm2-135m --steps 10           # random init, SmolLM2-135M's shape
    python benchmarks/train_throughput.py --model smollm2-135m-instruct --steps 30  # the real SmolLM2-135M-Instruct
    python benchmarks/train_throughput.py --trl gradient_checkpointing=false        # override a TRL setting (repeatable)

Models: `tiny` (the offline tiny model), `smollm2-135m` (random init in SmolLM2-135M's shape, from `smollm2_shaped`;
seeded) or `smollm2-135m-instruct` (the real weights through `load_model`, float32, with its tokenizer given llmforge's
stage-1 ChatML template by `set_template(tok, 1)`, as training does).

Data: the bundled customer-support, code-review and medical-coding chat examples (90, some multi-turn, about 60 to 700
tokens). Every 6th is held out (15, fixed). The training set is the first steps x batch of the others in a seeded order
(cycled when that is more than there are), and every trainer trains one epoch on exactly that set, so all of them see
the same examples: unpacked that is `--steps` optimizer steps of `--batch` examples; packed, fewer steps of `--batch`
packed rows (each trainer's own packing decides how many).

The same for every trainer: LoRA (r 16, alpha 32, dropout 0, all linear layers), batch (no accumulation), learning rate
(cosine schedule, no warmup), max sequence length, seed, compute precision (bf16 autocast where llmforge's amp='auto'
picks it) and loss on the assistant turns only (TRL: `assistant_only_loss=True` with a chat template that renders the
same text plus `{% generation %}` marks; TRL's default would train on every token). Everything else in TRL is its
default (gradient checkpointing on, fused AdamW, best-fit-decreasing padding-free packing, ...); the run prints them.

Each trainer runs in a fresh child process. Measured: tokens/s of the training loop (non-padding tokens fed to the
model, counted from the data each trainer consumed, over llmforge's loop time from its summary or TRL's train_runtime),
the whole call's seconds (data preparation and saving included), peak memory (the child's ru_maxrss: libraries, model
and training together) and held-out loss (`llmforge.train.heldout_loss`, mean answer-token cross-entropy of each
final model on the same held-out examples; also of the untrained model). Prints the ratios beside the goals (tokens/s
>= 1.5x TRL unpacked and >= 2x TRL packed, held-out loss within 1%). TRL needs `pip install trl`; without it only
llmforge's figures print. Nothing is asserted.
"""
import argparse, copy, json, random, resource, subprocess, sys, tempfile, time, warnings
from pathlib import Path

warnings.filterwarnings('ignore')
ROOT = Path(__file__).resolve().parent.parent
MODELS = {'tiny': 'the tiny model', 'smollm2-135m': 'random-init SmolLM2-135M shape',
          'smollm2-135m-instruct': 'SmolLM2-135M-Instruct (real weights)'}
TRAINERS = ('llmforge', 'llmforge packing', 'TRL', 'TRL packing')
# llmforge's stage-1 ChatML, plus the marks TRL's assistant_only_loss needs: the same text, the same trained tokens
GENERATION_CHATML = ("{%- for m in messages %}{%- if m['role'] == 'assistant' %}{{- '<|im_start|>assistant\\n' }}"
                     "{% generation %}{{- m['content'] + '<|im_end|>' }}{% endgeneration %}{{- '\\n' }}"
                     "{%- else %}{{- '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>' + '\\n' }}{%- endif %}"
                     "{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}")

def make_model(a):
    "The benchmark's model and tokenizer, the same (seeded) in every child"
    if a.model == 'tiny':
        from llmforge.models import tiny_model
        return tiny_model()
    from llmforge.models import load_model
    m, t = load_model(a.model_dir if a.model == 'smollm2-135m' else a.model, dtype='float32', device='cpu')
    if a.model == 'smollm2-135m-instruct':
        from llmforge.templates import set_template
        set_template(t, 1)
    return m, t

def datasets(steps:int, bs:int)->tuple:
    "(training examples, held-out examples): every 6th example held out; steps x bs of the rest, seeded order, cycled"
    from llmforge.core import read_examples
    pool = []
    for p in ('customer-support/data/examples.jsonl', 'code-review/data/examples.jsonl', 'medical-coding/stage1.jsonl'):
        pool += list(read_examples(ROOT/'llmforge'/'example_projects'/p))
    held = pool[::6]
    rest = [e for i, e in enumerate(pool) if i % 6]
    random.Random(0).shuffle(rest)
    return [rest[i % len(rest)] for i in range(steps * bs)], held

def run_llmforge(m, t, train, a, packing:bool, tmp:Path)->dict:
    from llmforge.configs import LoraConfig, OptimConfig
    from llmforge.train import encode_chat, train_sft
    enc = [encode_chat(t, e.messages, a.max_len)['input_ids'] for e in train]
    pad = t.pad_token_id if t.pad_token_id is not None else t.eos_token_id
    t0 = time.perf_counter()
    r = train_sft(m, t, train, tmp/'run', progress=False, lora=LoraConfig(dropout=0.0),
                  training=OptimConfig(epochs=1, batch_size=a.bs, learning_rate=a.lr, warmup_ratio=0, max_seq_len=a.max_len,
                                       packing=packing, seed=42))
    call = time.perf_counter() - t0
    loop = sum(sum(i != pad for i in ids) for ids in enc) / r['tokens_per_s']   # the summary's rate counts ids != pad
    return {'steps': r['steps'], 'tokens': sum(map(len, enc)), 'loop_s': loop, 'call_s': call, 'final_loss': r['final_loss'],
            'compute': r['compute'], 'model': r['model']}

def run_trl(m, t, train, a, packing:bool, tmp:Path)->dict:
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from trl import SFTConfig, SFTTrainer
    from llmforge.train import autocast_dtype
    t.chat_template = GENERATION_CHATML
    ds = Dataset.from_list([{'messages': [mm.to_dict() for mm in e.messages]} for e in train])
    kw = dict(output_dir=str(tmp/'run'), num_train_epochs=1, per_device_train_batch_size=a.bs, gradient_accumulation_steps=1,
              learning_rate=a.lr, lr_scheduler_type='cosine', warmup_steps=0, max_length=a.max_len, packing=packing,
              assistant_only_loss=True, bf16=autocast_dtype(m) == torch.bfloat16, seed=42, use_cpu=True,
              logging_steps=1, save_strategy='no', report_to=[], disable_tqdm=True)
    kw.update(a.trl_overrides)
    cfg = SFTConfig(**kw)
    t0 = time.perf_counter()
    tr = SFTTrainer(model=m, args=cfg, train_dataset=ds, processing_class=t,
                    peft_config=LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules='all-linear', task_type='CAUSAL_LM'))
    seen, collate = {'tokens': 0}, tr.data_collator
    def counting(batch):
        out = collate(batch)   # padding-free rows carry no attention mask and no padding
        seen['tokens'] += int(out['attention_mask'].sum()) if 'attention_mask' in out else int(out['input_ids'].numel())
        return out
    tr.data_collator = counting
    res = tr.train()
    call = time.perf_counter() - t0
    losses = [h['loss'] for h in tr.state.log_history if 'loss' in h]
    keys = ('gradient_checkpointing', 'optim', 'packing_strategy', 'bf16', 'dataloader_num_workers')
    settings = {k: str(getattr(cfg, k, None)).removeprefix('OptimizerNames.') for k in keys} | {'padding_free': tr.padding_free}
    return {'steps': tr.state.global_step, 'tokens': seen['tokens'], 'loop_s': res.metrics['train_runtime'], 'call_s': call,
            'final_loss': losses[-1] if losses else float('nan'), 'settings': settings,
            'model': tr.model}

def child(a):
    "One trainer (or the untrained model) in this fresh process; prints a RESULT line of JSON"
    import torch
    from llmforge.train import heldout_loss
    torch.set_num_threads(a.threads)
    train, held = datasets(a.steps, a.bs)
    m, t = make_model(a)
    ref_tok = copy.deepcopy(t)   # the held-out measure renders with llmforge's template, whatever a trainer did to its own
    tmp = Path(tempfile.mkdtemp(prefix='bench-train-'))
    trainer = run_llmforge if a.child.startswith('llmforge') else run_trl
    r = {} if a.child == 'untrained' else trainer(m, t, train, a, a.child.endswith('packing'), tmp)
    r['heldout'] = heldout_loss(r.pop('model', m), ref_tok, held, max_len=a.max_len)
    r['peak_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    import shutil; shutil.rmtree(tmp, ignore_errors=True)
    print('RESULT ' + json.dumps(r))

def spawn(name:str, argv:list)->dict:
    p = subprocess.run([sys.executable, __file__, *argv, '--child', name], capture_output=True, text=True)
    res = [l[7:] for l in p.stdout.splitlines() if l.startswith('RESULT ')]
    if p.returncode or not res: return {'error': ((p.stderr or p.stdout).strip().splitlines() or ['no output'])[-1][:300]}
    return json.loads(res[-1])

def _value(v:str):
    try: return json.loads(v)
    except ValueError: return v

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--model', default='tiny', choices=list(MODELS))
    ap.add_argument('--steps', type=int, default=40, help='unpacked optimizer steps; the training set is steps x batch examples')
    ap.add_argument('--bs', '--batch', dest='bs', type=int, default=4)
    ap.add_argument('--lr', type=float, default=None, help='default 3e-3 (1e-3 for the real weights)')
    ap.add_argument('--max-len', dest='max_len', type=int, default=1024)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--trainers', default=','.join(TRAINERS), help='comma-separated subset of: ' + ', '.join(TRAINERS))
    ap.add_argument('--trl', action='append', default=[], metavar='KEY=VALUE', help='override an SFTConfig field (repeatable)')
    ap.add_argument('--child', help=argparse.SUPPRESS); ap.add_argument('--model-dir', dest='model_dir', help=argparse.SUPPRESS)
    a = ap.parse_args()
    a.lr = a.lr or (1e-3 if a.model == 'smollm2-135m-instruct' else 3e-3)
    a.trl_overrides = {k: _value(v) for k, v in (s.split('=', 1) for s in a.trl)}
    if a.child: return child(a)

    argv = sys.argv[1:]
    if a.model == 'smollm2-135m':   # built once here, loaded by every child
        from llmforge.models import quiet_libraries
        from llmforge.quantizers.verify import smollm2_shaped
        with quiet_libraries(): folder = smollm2_shaped(Path(tempfile.mkdtemp()) / 'smollm2-135m', dtype='float32')
        argv += ['--model-dir', str(folder)]
    elif a.model == 'smollm2-135m-instruct':
        from llmforge.models import resolve_model
        resolve_model(a.model)      # materialised once before the children race for it
    names = [n.strip() for n in a.trainers.split(',') if n.strip()]
    try: import trl  # noqa: F401
    except ImportError:
        print('TRL not installed (pip install trl); llmforge figures only'); names = [n for n in names if not n.startswith('TRL')]
    train, held = datasets(a.steps, a.bs)
    rows = {'untrained': spawn('untrained', argv)}
    for n in names: rows[n] = spawn(n, argv)
    comp = next((r['compute'] for r in rows.values() if 'compute' in r), {})
    print(f'{MODELS[a.model]} on CPU ({a.threads} threads), autocast {comp.get("autocast")}, logits at {comp.get("logits", "?")}')
    print(f'{len(train)} training examples (one epoch), batch {a.bs}, lr {a.lr:g} cosine, max length {a.max_len}, '
          f'LoRA r16 all-linear; {len(held)} held-out examples')
    print(f'{"trainer":17} {"steps":>5} {"tokens":>7} {"loop s":>7} {"tokens/s":>9} {"call s":>7} {"peak MB":>8} '
          f'{"train loss":>10} {"held-out":>9}')
    for n, r in rows.items():
        if 'error' in r: print(f'{n:17} FAILED: {r["error"]}'); continue
        if n == 'untrained':
            print(f'{n:17} {"":>5} {"":>7} {"":>7} {"":>9} {"":>7} {r["peak_mb"]:8.0f} {"":>10} {r["heldout"]:9.4f}'); continue
        print(f'{n:17} {r["steps"]:5d} {r["tokens"]:7d} {r["loop_s"]:7.1f} {r["tokens"]/r["loop_s"]:9.0f} {r["call_s"]:7.1f} '
              f'{r["peak_mb"]:8.0f} {r["final_loss"]:10.4f} {r["heldout"]:9.4f}')
    ok = lambda n: n in rows and 'error' not in rows[n]
    for lf, tr, goal in (('llmforge', 'TRL', 1.5), ('llmforge packing', 'TRL packing', 2.0)):
        if not (ok(lf) and ok(tr)): continue
        x, y = rows[lf], rows[tr]
        speed = (x['tokens'] / x['loop_s']) / (y['tokens'] / y['loop_s'])
        base = rows['untrained'].get('peak_mb', 0)
        print(f'{lf} / {tr}: tokens/s {speed:.2f}x (goal >= {goal}x), held-out loss {100*(x["heldout"]/y["heldout"] - 1):+.2f}% '
              f'(goal within 1%), peak memory {x["peak_mb"]/y["peak_mb"]:.2f}x ({x["peak_mb"] - base:.0f} MB vs '
              f'{y["peak_mb"] - base:.0f} MB above the untrained child)')
    for n, r in rows.items():
        if 'settings' in r: print(f'{n} settings in effect: ' + ', '.join(f'{k}={v}' for k, v in r['settings'].items()))

if __name__ == '__main__': main()
