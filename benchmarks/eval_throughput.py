"""Evaluation throughput: batched generation (HFPredictor) against a one-example-at-a-time `generate` loop.

    python benchmarks/eval_throughput.py                                # tiny model, 48 medical-coding prompts
    python benchmarks/eval_throughput.py --n 16                         # quicker
    python benchmarks/eval_throughput.py --model smollm2-135m-instruct  # the real SmolLM2-135M-Instruct weights
    python benchmarks/eval_throughput.py --no-gguf                      # without the GGUF child-process check below

Both run the same model over the same prompts with greedy decoding (batches of `--batch`, left-padded), and the script
counts how many answers are the same. `tiny`: the offline tiny model, untrained, so every answer runs to `--tokens` and
the work is the same for both. `smollm2-135m-instruct`: the real weights (`load_model`, float32) with llmforge's stage-1
ChatML template (`set_template(tok, 1)`, as training uses); answers end at `<|im_end|>`, so a batch runs as long as its
longest answer, and the printout gives the new tokens each side generated. On a real model, a few batched answers may
part from the unbatched ones where padding changes the float sums enough to flip a near-tied greedy choice.
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

ROOT = Path(__file__).resolve().parent.parent

def one_at_a_time(model, tok, prompts, max_new_tokens)->tuple:
    "(answers, new tokens generated) of a plain `generate` call per prompt"
    out, n = [], 0
    for p in prompts:
        ids = tok.apply_chat_template(p, add_generation_prompt=True, return_tensors='pt', return_dict=True)
        with torch.no_grad():
            g = model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tok.pad_token_id)
        new = g[0, ids['input_ids'].shape[1]:]
        out.append(tok.decode(new, skip_special_tokens=True)); n += len(new)
    return out, n

MODELS = {'tiny': 'tiny model (untrained)', 'smollm2-135m-instruct': 'SmolLM2-135M-Instruct (real weights, stage-1 ChatML)'}

def make_model(name:str)->tuple:
    if name == 'tiny': return tiny_model()
    from llmforge.models import load_model, quiet_libraries
    from llmforge.templates import set_template
    with quiet_libraries(): m, t = load_model(name, dtype='float32', device='cpu')
    return m, set_template(t, 1)

def main(args):
    torch.set_num_threads(2)
    exs = list(read_examples(ROOT/'llmforge'/'example_projects'/'medical-coding'/'stage1.jsonl'))[:args.n]
    prompts = [_prompt_messages(e) for e in exs]
    model, tok = make_model(args.model)
    model.eval()
    t = time.perf_counter(); single, n1 = one_at_a_time(model, tok, prompts, args.tokens); t1 = time.perf_counter() - t
    pred = HFPredictor(model, tok, max_new_tokens=args.tokens, batch_size=args.batch)
    t = time.perf_counter(); batched = pred.predict(prompts); t2 = time.perf_counter() - t
    n2 = sum(min(args.tokens, len(tok(b, add_special_tokens=False)['input_ids']) + 1) for b in batched)   # + its end token
    same = sum(a.strip() == b.strip() for a, b in zip(single, batched))
    print(f'{len(prompts)} prompts, at most {args.tokens} new tokens each, {MODELS[args.model]} on CPU')
    print(f'one at a time: {t1:.2f} s ({len(prompts)/t1:.2f} examples/s, {n1} new tokens)')
    print(f'batched ({args.batch}):   {t2:.2f} s ({len(prompts)/t2:.2f} examples/s, about {n2} new tokens in the answers)')
    print(f'ratio batched/one-at-a-time: {t1/t2:.2f}x (goal >= 3x); identical answers: {same}/{len(prompts)}')
    for a, b in [(a, b) for a, b in zip(single, batched) if a.strip() != b.strip()][:2]:
        print(f'  differs: one at a time {a.strip()[:70]!r}\n           batched     {b.strip()[:70]!r}')

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
    from llmforge.quantizers.pipeline import to_gguf
    from llmforge.quantizers.verify import GGUFPredictor
    work = Path(tempfile.mkdtemp(prefix='bench-eval-'))
    from llmforge.models import quiet_libraries
    with quiet_libraries(): tiny_model(work/'tiny')
    gguf = to_gguf(work/'tiny', work/'tiny-Q4_K_M.gguf', 'Q4_K_M', verify=False).path
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
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--model', default='tiny', choices=list(MODELS))
    ap.add_argument('--n', type=int, default=48); ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--tokens', type=int, default=32, help='max new tokens per answer')
    ap.add_argument('--no-gguf', dest='gguf', action='store_false', help="skip the GGUF child-process check")
    a = ap.parse_args()
    main(a)
    if a.gguf: child_overhead()
