"""Prompt compressor cost: end-to-end latency of one ~500-token prompt (tokenize, forward, aggregate, threshold,
rebuild; p50/p95) on 2 CPU threads for fp32 and int8 and for 6 and 3 encoder layers; throughput for a batch of 64;
and the equivalence harness's agreement of int8 against fp32 on a target model. Goal: p50 < 50 ms, p95 < 100 ms,
agreement within 2 points of fp32. Prints figures, asserts nothing timed."""
import argparse, os, re, statistics, tempfile, time
from pathlib import Path
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import torch
from llmforge.core import read_examples
from llmforge.compress.labels import align_labels
from llmforge.compress.model import Compressor, load_classifier, load_compressor
from llmforge.compress.train import train_compressor, evaluate_compressor

ROOT = Path(__file__).resolve().parent.parent
PROMPTS = [e.messages[0].content for e in read_examples(ROOT/'examples'/'medical-coding'/'stage1.jsonl')]
PROMPTS += [e.messages[-2].content for e in read_examples(ROOT/'examples'/'customer-support'/'data'/'examples.jsonl')]
FILLER = set('a an the is are was were be been of to in on at for with and or but that this it its by as from please '
             'could would you your i my me just really very so also there their they have has had'.split())

# A question with a short answer that the prompt decides: free-form answers of a small model never repeat word for word
# (agreement 0% with or without compression), so "same answer" would measure nothing
TOPIC = ('Read the message and answer with one word only, the topic it is about: refund, billing, account, bug, '
         'feature, privacy, or health.')

def pct(xs, q):
    "The q-th percentile of xs (nearest rank)"
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q / 100 * (len(xs) - 1)))]

def prompt_of(cp, n=500):
    "A prompt of about n classifier tokens, from the bundled prompts"
    out,i = '',0
    while len(cp.encoder.encode(out, add_special_tokens=False).ids) < n:
        out,i = (out + '\n\n' if out else '') + PROMPTS[i % len(PROMPTS)],i + 1
    return out

def latency(cp, text, runs):
    "Wall ms of `runs` sequential compressions of `text` (after 3 warm-up runs)"
    for _ in range(3): cp.compress(text, rate=0.5)
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        cp.compress(text, rate=0.5)
        ts.append((time.perf_counter() - t) * 1e3)
    return ts

def main(runs=40, threads=2, target='smollm2', held=24, agreement=True):
    torch.set_num_threads(threads)
    folder = Path(tempfile.mkdtemp())
    items = [align_labels(p, ' '.join(w for w in p.split() if re.sub(r'\W', '', w.lower()) not in FILLER))
             for p in PROMPTS]
    print(f'{threads} threads; load average {os.getloadavg()[0]:.1f}; torch {torch.__version__}')
    print(f"{'model':<26} {'tokens':>6} {'p50 ms':>8} {'p95 ms':>8} {'batch 64 prompts/s':>19}")
    made = {}
    for layers,chunk in ((6, 512), (6, 256), (3, 256)):
        for q in (False, True):
            cp = Compressor(load_classifier(layers=layers), quantize=q, chunk_tokens=chunk)
            text = prompt_of(cp)
            ts = latency(cp, text, runs)
            batch = PROMPTS[:64]
            t = time.perf_counter()
            cp.compress_batch(batch, rate=0.5)
            tput = len(batch) / (time.perf_counter() - t)
            name = f'MiniLM {layers}L {"int8" if q else "fp32"} chunk {chunk}'
            n = len(cp.encoder.encode(text, add_special_tokens=False).ids)
            print(f'{name:<26} {n:>6} {pct(ts, 50):8.1f} {pct(ts, 95):8.1f} {tput:19.1f}')
    if not agreement: return
    res = train_compressor(items[:-held], folder/'c3', steps=30, layers=3, lr=3e-4)
    print(f'trained 3-layer compressor on {len(items) - held} prompts: loss {res["first_loss"]:.3f} -> '
          f'{res["final_loss"]:.3f} in {res["seconds"]} s')
    from llmforge.evaluation import HFPredictor
    from llmforge.generate.equivalence import Embedder
    if target == 'tiny':
        from llmforge.models import tiny_model
        pred = HFPredictor(*tiny_model(), max_new_tokens=16, name='tiny')
    else: pred = HFPredictor('smollm2-135m-instruct', max_new_tokens=6)
    for q in (False, True):
        ev = evaluate_compressor(load_compressor(folder/'c3', quantize=q), items[-held:], [pred], rate=0.5,
                                 embedder=Embedder('tokens'), system=TOPIC)
        s = ev['equivalence'][pred.name]
        print(f'{"int8" if q else "fp32"}: label F1 {ev["labels"]["f1"]:.3f}, rate {ev["rate"]:.3f}, on {pred.name}: '
              f'same answer (normalized) {s["normalized"]:.0%}, equivalent {s["equivalent"]:.0%}, mean answer similarity '
              f'{s["similarity"]:.3f} over {held} prompts')

if __name__ == '__main__':
    P = argparse.ArgumentParser(description=__doc__)
    P.add_argument('--runs', type=int, default=40)
    P.add_argument('--threads', type=int, default=2)
    P.add_argument('--target', choices=['smollm2', 'tiny'], default='smollm2')
    P.add_argument('--no-agreement', action='store_true', help='latency and throughput only')
    a = P.parse_args()
    main(a.runs, a.threads, a.target, agreement=not a.no_agreement)
