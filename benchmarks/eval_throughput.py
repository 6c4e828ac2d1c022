"""Evaluation throughput: batched generation (HFPredictor) against a one-example-at-a-time `generate` loop.

    python benchmarks/eval_throughput.py            # tiny model, 48 prompts from the medical-coding example
    python benchmarks/eval_throughput.py --n 16     # quicker

Both run the same model (the offline tiny model, untrained, so every answer runs to max_new_tokens and the work is the
same for both) over the same prompts with greedy decoding, and the script checks that they produce the same answers.
Prints examples/s for each and the ratio (goal: at least 3x on CPU). Nothing timed is asserted.
"""
import argparse, time
import torch
from llmforge.core import read_examples
from llmforge.evaluation import HFPredictor, _prompt_messages
from llmforge.models import tiny_model

def one_at_a_time(model, tok, prompts, max_new_tokens):
    out = []
    for p in prompts:
        ids = tok.apply_chat_template(p, add_generation_prompt=True, return_tensors='pt', return_dict=True)
        with torch.no_grad():
            g = model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tok.pad_token_id)
        out.append(tok.decode(g[0, ids['input_ids'].shape[1]:], skip_special_tokens=True))
    return out

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--n', type=int, default=48); ap.add_argument('--batch', type=int, default=16); ap.add_argument('--tokens', type=int, default=32)
    args = ap.parse_args()
    torch.set_num_threads(2)
    exs = list(read_examples('examples/medical-coding/stage1.jsonl'))[:args.n]
    prompts = [_prompt_messages(e) for e in exs]
    model, tok = tiny_model()
    model.eval()
    t = time.perf_counter(); single = one_at_a_time(model, tok, prompts, args.tokens); t1 = time.perf_counter() - t
    pred = HFPredictor(model, tok, max_new_tokens=args.tokens, batch_size=args.batch)
    t = time.perf_counter(); batched = pred.predict(prompts); t2 = time.perf_counter() - t
    same = sum(a.strip() == b.strip() for a, b in zip(single, batched))
    print(f'{len(prompts)} prompts, {args.tokens} new tokens each, tiny model on CPU')
    print(f'one at a time: {t1:.2f} s ({len(prompts)/t1:.1f} examples/s)')
    print(f'batched ({args.batch}):   {t2:.2f} s ({len(prompts)/t2:.1f} examples/s)')
    print(f'ratio batched/one-at-a-time: {t1/t2:.1f}x (goal >= 3x); identical answers: {same}/{len(prompts)}')

if __name__ == '__main__': main()
