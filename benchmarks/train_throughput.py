"""Training throughput: llmforge's SFT loop against TRL's SFTTrainer (defaults, and with packing), same data and LoRA.

    python benchmarks/train_throughput.py               # tiny model, 40 steps each
    python benchmarks/train_throughput.py --steps 20
    python benchmarks/train_throughput.py --model smollm2-135m --steps 10   # random init, SmolLM2-135M's shape

Same model (the tiny model, or a random-init model with SmolLM2-135M's shape from `smollm2_shaped`; seeded), same chat examples (the bundled customer-support, code-review and medical-coding examples,
whose lengths vary from about 60 to 700 tokens), same LoRA settings (r 16, all linear layers), batch size, learning
rate, sequence length and number of optimizer steps. Prints trained tokens per second (non-padding tokens seen by the
model, counted from the data each trainer consumed), the ratios, and the final training losses. TRL needs `pip install trl`;
without it only llmforge's figures print. Nothing timed is asserted.
"""
import argparse, json, time, warnings
from pathlib import Path
import torch

warnings.filterwarnings('ignore')
ROOT = Path(__file__).resolve().parent.parent
MODEL = 'tiny'
_SHAPED = None

def make_model():
    "The benchmark's model, the same (seeded) for every trainer"
    global _SHAPED
    if MODEL == 'tiny':
        from llmforge.models import tiny_model
        return tiny_model()
    from llmforge.models import load_model
    from llmforge.quantizers.verify import smollm2_shaped   # the same builder the GGUF tests and benchmark use
    if _SHAPED is None:
        import tempfile
        _SHAPED = smollm2_shaped(Path(tempfile.mkdtemp())/'smollm2-135m', dtype='float32')
    return load_model(_SHAPED, dtype='float32', device='cpu')

def examples():
    from llmforge.core import read_examples
    exs = []
    for p in ('customer-support/data/examples.jsonl', 'code-review/data/examples.jsonl', 'medical-coding/stage1.jsonl'):
        exs += list(read_examples(ROOT/'examples'/p))
    return exs

def run_llmforge(exs, steps, bs, lr, max_len, packing, tmp):
    from llmforge.trainers import SFTSettings, train_sft
    m, t = make_model()
    t0 = time.perf_counter()
    r = train_sft(m, t, exs, tmp/f'lf-{packing}', settings=SFTSettings(max_steps=steps, batch_size=bs, learning_rate=lr, warmup_ratio=0,
                  max_seq_len=max_len, packing=packing, progress=False, lora_dropout=0.0))
    dt = time.perf_counter() - t0
    return {'seconds': dt, 'tokens': r['tokens_per_s'] * dt, 'loss': r['final_loss']}

def run_trl(exs, steps, bs, lr, max_len, packing, tmp):
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import TrainerCallback
    from trl import SFTConfig, SFTTrainer
    m, t = make_model()
    ds = Dataset.from_list([{'messages': [mm.to_dict() for mm in e.messages]} for e in exs])
    seen = {'tokens': 0}
    class Count(TrainerCallback):
        def on_step_end(self, args, state, control, **kw): pass
    cfg = SFTConfig(output_dir=str(tmp/f'trl-{packing}'), max_steps=steps, per_device_train_batch_size=bs, learning_rate=lr, lr_scheduler_type='cosine',
                    warmup_steps=0, max_length=max_len, packing=packing, assistant_only_loss=False, logging_steps=1, save_strategy='no', report_to=[],
                    use_cpu=True, dataloader_num_workers=0, seed=42, bf16=False, fp16=False)
    tr = SFTTrainer(model=m, args=cfg, train_dataset=ds, processing_class=t,
                    peft_config=LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules='all-linear', task_type='CAUSAL_LM'))
    collate = tr.data_collator
    def counting(batch):
        out = collate(batch)
        seen['tokens'] += int(out['attention_mask'].sum()) if 'attention_mask' in out else int((out['input_ids'] != t.pad_token_id).sum())
        return out
    tr.data_collator = counting
    t0 = time.perf_counter(); tr.train(); dt = time.perf_counter() - t0
    losses = [h['loss'] for h in tr.state.log_history if 'loss' in h]
    return {'seconds': dt, 'tokens': seen['tokens'], 'loss': losses[-1] if losses else float('nan')}

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--steps', type=int, default=40); ap.add_argument('--bs', type=int, default=4)
    ap.add_argument('--lr', type=float, default=3e-3); ap.add_argument('--max-len', type=int, default=1024)
    ap.add_argument('--model', default='tiny', choices=['tiny', 'smollm2-135m'], help='tiny, or a random-init model of a real shape')
    args = ap.parse_args()
    global MODEL; MODEL = args.model
    torch.set_num_threads(2)
    import tempfile
    tmp = Path(tempfile.mkdtemp())
    exs = examples()
    rows = {}
    rows['llmforge'] = run_llmforge(exs, args.steps, args.bs, args.lr, args.max_len, False, tmp)
    rows['llmforge packing'] = run_llmforge(exs, args.steps, args.bs, args.lr, args.max_len, True, tmp)
    try:
        rows['TRL default'] = run_trl(exs, args.steps, args.bs, args.lr, args.max_len, False, tmp)
        rows['TRL packing'] = run_trl(exs, args.steps, args.bs, args.lr, args.max_len, True, tmp)
    except ImportError as e: print(f'TRL not installed ({e}); llmforge figures only')
    print(f'{len(exs)} examples, {args.steps} steps of batch {args.bs}, LoRA r16 all-linear, {args.model} model on CPU')
    for k, r in rows.items(): print(f'{k:18} {r["tokens"]/r["seconds"]:8.0f} tokens/s  {r["seconds"]:6.1f} s  final loss {r["loss"]:.3f}')
    if 'TRL default' in rows:
        tps = {k: r['tokens'] / r['seconds'] for k, r in rows.items()}
        print(f'llmforge / TRL default: {tps["llmforge"]/tps["TRL default"]:.2f}x; llmforge packing / TRL packing: {tps["llmforge packing"]/tps["TRL packing"]:.2f}x')

if __name__ == '__main__': main()
