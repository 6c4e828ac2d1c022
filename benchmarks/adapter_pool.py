"""The adapter pool (`llmforge.agents.pool.AdapterPool`) against peft alone, on a 32-layer model of tiny width.

    python benchmarks/adapter_pool.py                       # 32 layers, 10 resident, 100 registered, 600 requests
    python benchmarks/adapter_pool.py --layers 16 --requests 200 --threads 4

The model: `LlamaForCausalLM` from a `LlamaConfig` with `--layers` decoder layers of hidden size `--hidden` (random,
seeded weights; the width keeps CPU runs short while the number of modules, which is what switching walks, is a real
model's). The adapters: r=`--rank` LoRA on every linear layer (7 a decoder layer: 224 LoRA layers at 32 layers), random
non-zero weights (`random_adapter` for the first; the others are copies of its file with new seeded values, which is
quicker than building each one through peft and loads the same way).

Measured:
1. switch latency, p50 and p99, with `--resident` adapters resident: `pool.activate(name)` against peft's
   `set_adapter(name)` on the same model, and a check that both give identical logits for every adapter, and that
   `activate(None)` gives the base model's logits;
2. cold load from disk (a miss): the pool's load (peft's `load_adapter` with `low_cpu_mem_usage=True`) against
   peft's default `load_adapter`, with the same adapters resident;
3. generation tokens/s for a batch of 4 rows (greedy, `--new-tokens` each): the base model, one adapter on every row,
   and a mixed batch of 4 adapters (one per row, peft's `adapter_names`);
4. bytes per resident adapter (estimated from the file, and measured) beside the base model's bytes;
5. `--adapters` registered under a budget of `--resident` adapters' bytes, on a seeded Zipf-like trace (request
   probability of the adapter of popularity rank k proportional to 1/k^`--zipf`): hit rate, loads, evictions, time
   spent loading, against the hit rate of the best fixed set of `--resident` adapters chosen with hindsight.
Timings depend on the machine and its load; nothing is asserted.
"""
import argparse, copy, random, shutil, statistics, sys, tempfile, time, warnings
from pathlib import Path

warnings.filterwarnings('ignore')
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

def pct(xs, q):
    "The q-th percentile of xs (nearest rank)"
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))]

def timed(f, n):
    "Seconds of each of n calls f(i)"
    out = []
    for i in range(n):
        t = time.perf_counter()
        f(i)
        out.append(time.perf_counter() - t)
    return out

def ms(xs): return f'p50 {statistics.median(xs) * 1e3:9.4f} ms   p99 {pct(xs, 99) * 1e3:9.4f} ms'

def make_model(a):
    from transformers import LlamaConfig, LlamaForCausalLM
    from llmforge.models import seeded_model
    cfg = LlamaConfig(vocab_size=2048, hidden_size=a.hidden, intermediate_size=2 * a.hidden,
                      num_hidden_layers=a.layers, num_attention_heads=4, num_key_value_heads=2,
                      max_position_embeddings=512, tie_word_embeddings=False, pad_token_id=0, eos_token_id=1,
                      bos_token_id=None)
    model = seeded_model(LlamaForCausalLM, cfg, a.seed).eval()
    model.generation_config.pad_token_id, model.generation_config.eos_token_id = 0, 1
    return model

def make_adapters(model, root:Path, n:int, rank:int, seed:int)->dict:
    "n adapter folders: the first through peft, the others with its config and new seeded weights of the same shapes"
    import torch
    from safetensors.torch import load_file, save_file
    from llmforge.agents.pool import random_adapter
    first = random_adapter(model, root/'agent000', seed=seed, r=rank)
    tensors = load_file(str(first/'adapter_model.safetensors'))
    out = {'agent000': first}
    g = torch.Generator().manual_seed(seed)
    for i in range(1, n):
        d = root/f'agent{i:03d}'
        d.mkdir()
        shutil.copy(first/'adapter_config.json', d/'adapter_config.json')
        save_file({k: torch.randn(v.shape, generator=g) * v.std() for k,v in tensors.items()},
                  str(d/'adapter_model.safetensors'))
        out[d.name] = d
    return out

def logits(model, x):
    import torch
    with torch.no_grad(): return model(input_ids=x).logits

def switching(a, model, folders):
    import torch
    from llmforge.agents.pool import AdapterPool
    names = list(folders)[:a.resident]
    x = torch.randint(2, 2048, (1, 16), generator=torch.Generator().manual_seed(a.seed))
    base_logits = logits(model, x)
    pool = AdapterPool(model, budget_bytes=10**12)
    for n in names: pool.register(n, folders[n]).load(n)
    rng = random.Random(a.seed)
    order = [rng.choice(names) for _ in range(2000)]
    fast = timed(lambda i: pool.activate(order[i]), len(order))
    slow = timed(lambda i: pool.model.set_adapter(order[i]), a.peft_switches)
    identical = True
    for n in names:
        pool.activate(n)
        ours = logits(pool.model, x)
        pool.model.set_adapter(n)
        identical &= torch.equal(ours, logits(pool.model, x))
    pool.activate(None)
    base_same = torch.equal(logits(pool.model, x), base_logits)
    from llmforge.agents.pool import lora_layers
    n_layers = len(lora_layers(pool.model))
    print(f'1. switching, {a.layers} layers, {len(names)} adapters resident ({n_layers} LoRA layers)')
    print(f'   pool.activate      {ms(fast)}   ({len(fast)} switches)')
    print(f'   peft set_adapter   {ms(slow)}   ({len(slow)} switches)')
    print(f'   ratio (p50)        {statistics.median(slow) / statistics.median(fast):,.0f}x')
    print(f'   logits identical to set_adapter for all {len(names)}: {identical}; activate(None) == base: {base_same}')
    return pool, x

def cold_loads(a, model, folders):
    "Seconds per load_adapter, the pool's way and peft's default, with --resident adapters already resident"
    from peft import PeftModel
    from llmforge.models import quiet_libraries
    names = list(folders)
    out = {}
    for low in (True, False):
        m = copy.deepcopy(model)
        with quiet_libraries():
            pm = PeftModel.from_pretrained(m, str(folders[names[0]]), adapter_name=names[0], low_cpu_mem_usage=low)
            for n in names[1:a.resident]: pm.load_adapter(str(folders[n]), adapter_name=n, low_cpu_mem_usage=low)
            extra = names[a.resident:a.resident + a.cold]
            ts = timed(lambda i: pm.load_adapter(str(folders[extra[i]]), adapter_name=extra[i], is_trainable=False,
                                                 low_cpu_mem_usage=low), len(extra))
            for n in extra: pm.delete_adapter(n)
        out[low] = ts
    print(f'2. cold load from disk, {a.resident} already resident ({a.cold} loads each)')
    print(f'   pool (low_cpu_mem_usage=True)   {ms(out[True])}')
    print(f'   peft load_adapter default       {ms(out[False])}')

def throughput(a, pool, x):
    import torch
    names = list(pool.resident)
    rows = [names[i % len(names)] for i in range(4)]   # 4 adapters, or all there are cycled over the 4 rows
    xs = x.repeat(4, 1)
    gen = dict(max_new_tokens=a.new_tokens, min_new_tokens=a.new_tokens, do_sample=False,
               attention_mask=torch.ones_like(xs))
    cases = {'base (no adapter)': None, f'one adapter ({names[0]})': names[0], f'mixed batch of {len(set(rows))} adapters': rows}
    print(f'3. generation, batch of 4 rows x {a.new_tokens} new tokens (greedy), best of 3')
    rates = {}
    for label,adapter in cases.items():
        pool.generate(input_ids=xs, adapter=adapter, **gen)   # warm up
        best = min(timed(lambda i: pool.generate(input_ids=xs, adapter=adapter, **gen), 3))
        rates[label] = 4 * a.new_tokens / best
    ref = rates['base (no adapter)']
    for label,r in rates.items(): print(f'   {label:28s} {r:8.0f} tokens/s   {r / ref:5.2f}x base')

def sizes(a, pool, model, folders):
    from llmforge.agents.pool import adapter_bytes, human_bytes
    n = next(iter(pool.resident))
    base_bytes = sum(p.numel() * p.element_size() for name,p in pool.model.named_parameters() if 'lora_' not in name)
    print(f'4. bytes per resident adapter (r={a.rank}, all linear layers, float32)')
    print(f'   estimated from the file  {adapter_bytes(folders[n]):,} B ({human_bytes(adapter_bytes(folders[n]))})')
    print(f'   measured once loaded     {pool.resident[n]:,} B; base model {human_bytes(base_bytes)}: '
          f'{pool.resident[n] / base_bytes:.1%} of it per adapter')
    return pool.resident[n]

def zipf_trace(a, model, folders, size):
    from llmforge.agents.pool import AdapterPool
    names = list(folders)
    rng = random.Random(a.seed)
    ranked = names[:]
    rng.shuffle(ranked)                                     # popularity rank -> adapter, unrelated to names
    weights = [1 / (k + 1) ** a.zipf for k in range(len(ranked))]
    trace = rng.choices(ranked, weights, k=a.requests)
    pool = AdapterPool(model, budget_bytes=a.resident * size)
    for n in names: pool.register(n, folders[n])
    loads = []
    t0 = time.perf_counter()
    for n in trace:
        miss = n not in pool.resident
        t = time.perf_counter()
        pool.activate(n)
        if miss: loads.append(time.perf_counter() - t)
    wall = time.perf_counter() - t0
    s = pool.stats()
    counts = {n: trace.count(n) for n in set(trace)}
    best_fixed = sum(sorted(counts.values(), reverse=True)[:a.resident]) / len(trace)
    print(f'5. {len(names)} registered, budget {a.resident} adapters ({a.resident * size:,} B), {len(trace)} requests, '
          f'Zipf s={a.zipf}, {len(counts)} distinct adapters requested')
    print(f'   hit rate {s["hit_rate"]:.1%} (best fixed set of {a.resident} with hindsight: {best_fixed:.1%}); '
          f'loads {s["loads"]}, evictions {s["evictions"]}, resident at the end {len(s["resident"])} '
          f'({s["resident_bytes"]:,} B <= budget: {s["resident_bytes"] <= a.resident * size})')
    print(f'   a miss (evict + load) {ms(loads)}; {s["load_s"]:.1f} s of {wall:.1f} s loading')

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--layers', type=int, default=32)
    p.add_argument('--hidden', type=int, default=64)
    p.add_argument('--rank', type=int, default=8)
    p.add_argument('--resident', type=int, default=10)
    p.add_argument('--adapters', type=int, default=100)
    p.add_argument('--requests', type=int, default=600)
    p.add_argument('--zipf', type=float, default=1.1)
    p.add_argument('--cold', type=int, default=5, help='cold loads timed per method')
    p.add_argument('--peft-switches', type=int, default=100)
    p.add_argument('--new-tokens', type=int, default=32)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--threads', type=int, default=1,
                   help="torch threads (on this project's shared 2-core machines, 2 threads ran 8x slower than 1)")
    a = p.parse_args()
    import torch
    torch.set_num_threads(a.threads)
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads; model: {a.layers} layers, hidden {a.hidden}')
    root = Path(tempfile.mkdtemp(prefix='adapter-pool-'))
    try:
        model = make_model(a)
        t = time.perf_counter()
        folders = make_adapters(model, root, a.adapters, a.rank, a.seed)
        print(f'   {a.adapters} adapters written in {time.perf_counter() - t:.1f} s')
        pool, x = switching(a, copy.deepcopy(model), folders)
        cold_loads(a, model, folders)
        throughput(a, pool, x)
        size = sizes(a, pool, model, folders)
        zipf_trace(a, copy.deepcopy(model), folders, size)
    finally: shutil.rmtree(root)

if __name__ == '__main__': main()
