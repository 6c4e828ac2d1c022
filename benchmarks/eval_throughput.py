"""Evaluation throughput: batched generation (HFPredictor) against a one-example-at-a-time `generate` loop.

    python benchmarks/eval_throughput.py            # tiny model, 48 prompts from the medical-coding example
    python benchmarks/eval_throughput.py --n 16     # quicker

Both run the same model (the offline tiny model, untrained, so every answer runs to max_new_tokens and the work is the
same for both) over the same prompts with greedy decoding, and the script checks that they produce the same answers.
Prints examples/s for each and the ratio (goal: at least 3x on CPU). Nothing timed is asserted.

Then, with llama-cpp-python installed, the price of crash isolation: the quickstart's GGUF evaluation (10 held-out
prompts, 24 new tokens, the tiny model as Q4_K_M) through `GGUFPredictor`, whose llama.cpp lives in a child process,
against the same calls on `llama_cpp.Llama` in this process; the child's one-time start is reported apart from the
evaluations that reuse it (goal: under 5% on a warm child), and both must give the same answers.
"""
import argparse, statistics, tempfile, time
from pathlib import Path
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

def in_process(path, prompts, max_new_tokens)->tuple:
    "The same evaluation as GGUFPredictor, with llama.cpp loaded into this process: (seconds, answers)"
    import llama_cpp
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    t = time.perf_counter()
    llm = llama_cpp.Llama(model_path=str(path), n_ctx=2048, logits_all=False, verbose=False, seed=0, n_threads=2)
    tmpl = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True).from_string(llm.metadata['tokenizer.chat_template'])
    out = []
    for m in prompts:
        ids = llm.tokenize(tmpl.render(messages=m, add_generation_prompt=True).encode(), add_bos=False, special=True)
        llm.reset(); out.append(llm.create_completion(ids, max_tokens=max_new_tokens, temperature=0.0)['choices'][0]['text'])
    llm.close()
    return time.perf_counter() - t,out

def child_overhead(reps:int=15):
    "Quickstart-sized GGUF evaluation in a child process (cold start, then warm) against in this process"
    from llmforge.llamacpp import llama_cpp_installed, shared_process
    if not llama_cpp_installed(): print('\nGGUF evaluation: llama-cpp-python is not installed, skipped'); return
    from importlib.resources import files
    from llmforge.quantizers.gguf import to_gguf
    from llmforge.quantizers.verify import GGUFPredictor
    work = Path(tempfile.mkdtemp(prefix='bench-eval-'))
    tiny_model(work/'tiny'); gguf = to_gguf(work/'tiny', work/'tiny-Q4_K_M.gguf', 'Q4_K_M', verify=False).path
    prompts = [_prompt_messages(e) for e in list(read_examples(files('llmforge').joinpath('data', 'quickstart.jsonl')))[:10]]
    def child()->tuple:
        t = time.perf_counter(); p = GGUFPredictor(gguf, max_new_tokens=24)
        try: out = p.predict(prompts)
        finally: p.close()
        return time.perf_counter() - t,out
    shared_process().close()                              # the quantizer above started it: measure a cold start
    cold,child_out = child()                              # starts this process's llama.cpp child
    warm,local = [],[]
    for _ in range(reps):                                 # interleaved, so drift in the machine's speed hits both alike
        warm.append(child()[0]); local.append(in_process(gguf, prompts, 24))
    w,l = statistics.median(warm),statistics.median(t for t,_ in local)
    print(f'\nGGUF evaluation, 10 quickstart prompts, 24 new tokens, tiny model Q4_K_M (median of {reps}, load included)')
    print(f'in this process (no isolation): {l*1000:7.1f} ms')
    print(f'child process, warm:            {w*1000:7.1f} ms  overhead {100*(w/l - 1):+.1f}% (goal < 5%)')
    print(f'child process, first use:       {cold*1000:7.1f} ms  (the child starts once per session: +{(cold - w)*1000:.0f} ms)')
    print(f'identical answers: {sum(a == b for a,b in zip(child_out, local[0][1]))}/{len(prompts)}')

if __name__ == '__main__':
    main()
    child_overhead()
