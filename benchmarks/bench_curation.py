"""Curation benchmark: `llmforge stats`, rating one example at a time, and CLI startup on a large project.

Run from the repository root:

    python benchmarks/bench_curation.py                  # 100,000 examples, 1,000 ratings (about 1-3 minutes)
    python benchmarks/bench_curation.py --n 2000 --rates 100   # smoke test: a few seconds
    python benchmarks/bench_curation.py --profile        # also cProfile `Project(dir).stats()` in-process

What it measures (it prints figures and ratios, and asserts only correctness such as counts):

1. building a project of N realistic examples with `Project.init` and `Project.add_many` (store size, build time);
2. `llmforge stats -p DIR` and `llmforge stats --json` as real subprocesses, wall clock, best and median (target < 2 s),
   with a breakdown (import, load, compute) measured in a fresh process;
3. 1,000 `Project.rate(id, rating)` calls in a row in one process (target < 10 s), checked from a fresh `Project(dir)`;
4. the naive baseline: rewriting the whole examples file atomically (`llmforge.core.write_jsonl`) for every rating,
   measured on the same examples and extrapolated to the same number of ratings;
5. `llmforge --help` startup (target < 0.3 s) against a bare `python -c pass`, and whether importing
   `llmforge.cli` pulls in torch or transformers (or other heavy packages);
6. the peak resident memory of the `llmforge stats` child processes.

Standard library plus llmforge only.
"""
from __future__ import annotations
import argparse, cProfile, io, json, os, pstats, random, resource, shutil, statistics, subprocess, sys, sysconfig
import tempfile, time
from pathlib import Path

from llmforge.core import write_jsonl
from llmforge.project import Project

STATS_TARGET_S = 2.0
RATE_TARGET_S = 10.0     # for 1,000 ratings; scaled when --rates differs
HELP_TARGET_S = 0.3
HEAVY = ('torch', 'transformers', 'datasets', 'numpy', 'pandas', 'pyarrow', 'fastcore', 'filelock')

# ---------------------------------------------------------------------------------------------------------------
# Realistic text: sentences drawn from a technical vocabulary, with some code, lists and non-ASCII characters

_WORDS = '''the a an of to in for on with by from as at into about over after before between through during without
model data training example answer question prompt user assistant token tokens batch epoch learning rate loss
gradient layer attention weight weights bias value function method class file files folder path line lines error
errors output input result results test tests check value values list dict string number integer float memory
speed time request response server client cache database query table index column row record records schema field
python javascript rust shell command terminal script package library module version release update install
configure config setting settings option options flag parameter parameters argument arguments default environment
is are was were be been can could should would will may might must does do did has have had returns gives takes
uses keeps writes reads runs builds loads saves sends opens closes fails works needs makes shows finds fixes
simple small large fast slow new old first last next previous correct wrong empty full valid invalid local remote
because when if then else while so but and or not also only still just already usually often always never
you your we our it its this that these those there here which what how why where who
customer order invoice payment account refund shipping address email password login session report summary
café naïve résumé über façade coöperate — “quoted” ’s 日本語 données'''.split()

_CODE = ['```python\ndef total(items):\n    return sum(i.price * i.qty for i in items)\n```',
         '```bash\npip install -e . && pytest -q\n```',
         '```json\n{"id": 42, "status": "shipped", "items": [1, 2, 3]}\n```',
         '```sql\nSELECT id, email FROM users WHERE created_at > now() - interval \'7 days\';\n```',
         '```js\nconst res = await fetch(url, {method: "POST", body: JSON.stringify(data)});\n```']

def make_corpus(rng:random.Random, n:int=4000)->list[str]:
    "A pool of sentences (and a few code blocks and list items) to build texts from"
    out = []
    for _ in range(n):
        k = rng.randint(6, 24)
        words = rng.choices(_WORDS, k=k)
        s = ' '.join(words)
        s = s[0].upper() + s[1:] + rng.choice('....?!:')
        if rng.random() < 0.08: s = '- ' + s
        out.append(s)
    out += _CODE * 20
    return out

def make_text(rng:random.Random, corpus:list[str], lo:int, hi:int)->str:
    "Text of a length drawn uniformly from [lo, hi] characters, cut at a word boundary"
    target = rng.randint(lo, hi)
    parts,n = [],0
    while n < target:
        s = rng.choice(corpus)
        parts.append(s); n += len(s) + 1
    text = ''
    for s in parts: text += ('\n\n' if s.startswith(('```', '- ')) or rng.random() < 0.15 else ' ') + s
    text = text.strip()
    if len(text) > hi:
        cut = text.rfind(' ', lo, hi)
        text = text[:cut if cut > 0 else hi].rstrip()
    return text

def make_example(rng:random.Random, corpus:list[str], i:int)->dict:
    "One example dict for `Project.add_many`: ~10% two exchanges, ~60% rated 1-10"
    msgs = []
    for _ in range(2 if rng.random() < 0.10 else 1):
        msgs.append({'role':'user', 'content':f'[{i}] ' + make_text(rng, corpus, 100-len(str(i))-3, 600-len(str(i))-3)})
        msgs.append({'role':'assistant', 'content':make_text(rng, corpus, 200, 1200)})
    d = {'messages':msgs, 'source':rng.choice(('api', 'cli', 'import:support_chats.jsonl'))}
    if rng.random() < 0.60: d['rating'] = rng.randint(1, 10)
    if rng.random() < 0.30: d['metadata'] = {'topic':rng.choice(('billing', 'shipping', 'code', 'account')), 'ticket':i}
    return d

# ---------------------------------------------------------------------------------------------------------------
# Helpers

def fmt_s(s:float)->str: return f'{s*1000:.1f} ms' if s < 1 else f'{s:.2f} s'

def run_child(cmd:list[str], stdout_path:Path|None=None)->tuple[float,float,int,str]:
    "Run `cmd`; return (wall seconds, peak RSS in MB of that child via wait4, exit code, stdout)"
    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        _,status,ru = os.wait4(p.pid, 0)
        dt = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0); text = out.read().decode('utf-8', 'replace')
    return dt, ru.ru_maxrss/1024, p.returncode, text  # ru_maxrss is in KiB on Linux

def timed_runs(cmd:list[str], n:int)->tuple[list[float],list[float],str]:
    "Run `cmd` n times; fail loudly on a non-zero exit; return times, peak RSS per run, the last output"
    times,rss,text = [],[],''
    for _ in range(n):
        dt,mb,rc,text = run_child(cmd)
        if rc != 0: raise SystemExit(f'{" ".join(cmd)} exited {rc}:\n{text}')
        times.append(dt); rss.append(mb)
    return times, rss, text

def find_llmforge()->tuple[str,str|None]:
    "The installed console script next to this interpreter, and the one on PATH if it is a different file (a shim)"
    script = Path(sysconfig.get_path('scripts'))/'llmforge'
    on_path = shutil.which('llmforge')
    if not script.exists():
        if not on_path: raise SystemExit('the llmforge command is not installed: pip install -e .')
        return on_path, None
    return str(script), on_path if on_path and Path(on_path).resolve() != script.resolve() else None

rows = []   # (name, measured, target, ratio, note) for the summary table
def row(name, measured, target='', ratio='', note=''): rows.append((name, measured, target, ratio, note))
def verdict(x, target): return 'ok' if x < target else 'MISSED'

# ---------------------------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--n', type=int, default=100_000, help='examples in the project (default 100,000)')
    ap.add_argument('--rates', type=int, default=1000, help='ratings in a row (default 1,000)')
    ap.add_argument('--batch', type=int, default=10_000, help='examples per add_many call (default 10,000)')
    ap.add_argument('--stats-runs', type=int, default=5)
    ap.add_argument('--help-runs', type=int, default=10)
    ap.add_argument('--naive-runs', type=int, default=3)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--profile', action='store_true', help='cProfile Project(dir).stats() in-process and print the top functions')
    ap.add_argument('--keep', action='store_true', help='keep the temporary project folder')
    a = ap.parse_args()
    rate_target = RATE_TARGET_S * a.rates / 1000
    exe, shim = find_llmforge()
    t_all = time.perf_counter()
    print(f'llmforge benchmark: N={a.n:,} examples, {a.rates:,} ratings; python {sys.version.split()[0]} on {os.cpu_count()} CPU(s)')
    print(f'llmforge command: {exe}' + (f' (PATH has a different one: {shim})' if shim else ''))

    tmp = Path(tempfile.mkdtemp(prefix='llmforge-bench-'))
    try:
        d = tmp/'proj'
        # 1. Build --------------------------------------------------------------------------------------------
        print(f'\n[1] build: {a.n:,} examples via Project.add_many in batches of {a.batch:,}')
        rng = random.Random(a.seed)
        corpus = make_corpus(rng)
        t0 = time.perf_counter(); gen = 0.0
        p = Project.init(d, name='bench')
        n_rated = 0
        for start in range(0, a.n, a.batch):
            g0 = time.perf_counter()
            batch = [make_example(rng, corpus, i) for i in range(start, min(start+a.batch, a.n))]
            gen += time.perf_counter() - g0
            n_rated += sum('rating' in e for e in batch)
            p.add_many(batch)
        build = time.perf_counter() - t0
        store = d/'data'/'examples.jsonl'
        size_mb = store.stat().st_size / 2**20
        assert len(p) == a.n, (len(p), a.n)
        print(f'    store {store.stat().st_size:,} bytes = {size_mb:.1f} MB ({store.stat().st_size/a.n:,.0f} bytes/example)')
        print(f'    build {fmt_s(build)} total: generating texts {fmt_s(gen)}, llmforge {fmt_s(build-gen)} '
              f'({a.n/(build-gen):,.0f} examples/s); {n_rated:,} rated ({n_rated/a.n:.0%})')
        row('build (init + add_many)', fmt_s(build-gen), '', '', f'{size_mb:.1f} MB store; +{fmt_s(gen)} text generation')
        del p

        # 2. llmforge stats --------------------------------------------------------------------------------------
        print(f'\n[2] `llmforge stats -p DIR` as a subprocess, {a.stats_runs} runs each')
        stats_cmd = [exe, 'stats', '-p', str(d)]
        ts,rss_plain,out = timed_runs(stats_cmd, a.stats_runs)
        assert out.startswith(f'{a.n} examples: {n_rated} rated'), out[:200]
        tj,rss_json,out = timed_runs(stats_cmd + ['--json'], a.stats_runs)
        js = json.loads(out)
        assert js['total'] == a.n and js['rated'] == n_rated and sum(js['histogram'].values()) == n_rated, js
        children_maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # only stats children so far
        for name,t in (('stats', ts), ('stats --json', tj)):
            print(f'    {name:<13} best {fmt_s(min(t))}, median {fmt_s(statistics.median(t))}  '
                  f'(target < {STATS_TARGET_S:g} s: {verdict(min(t), STATS_TARGET_S)}, best/target {min(t)/STATS_TARGET_S:.2f})')
            row(f'llmforge {name} (best)', fmt_s(min(t)), f'< {STATS_TARGET_S:g} s', f'{min(t)/STATS_TARGET_S:.2f}x target',
                f'median {fmt_s(statistics.median(t))}; {verdict(min(t), STATS_TARGET_S)}')
        # where the time of one stats run goes, measured in a fresh process
        probe = ('import time,json,sys; t0=time.perf_counter(); from llmforge.project import Project; t1=time.perf_counter(); '
                 'p=Project(sys.argv[1]); n=len(p.store); t2=time.perf_counter(); st=p.stats(); t3=time.perf_counter(); '
                 's=str(st); t4=time.perf_counter(); print(json.dumps([t1-t0,t2-t1,t3-t2,t4-t3]))')
        _,_,rc,out = run_child([sys.executable, '-c', probe, str(d)])
        assert rc == 0, out
        imp,load,comp,render = json.loads(out.strip().splitlines()[-1])
        print(f'    breakdown (fresh process): import llmforge.project {fmt_s(imp)}, load+validate the store {fmt_s(load)} '
              f'({a.n/load:,.0f} examples/s, {size_mb/load:.0f} MB/s), stats() {fmt_s(comp)}, render {fmt_s(render)}')
        row('  stats: load+validate store', fmt_s(load), '', f'{load/min(ts):.0%} of stats', f'import {fmt_s(imp)}, compute {fmt_s(comp)}')
        # the floor under that load: reading the file and json.loads of each line, no validation, no objects
        t0 = time.perf_counter()
        nl = sum(1 for raw in store.read_bytes().split(b'\n') if raw.strip() and json.loads(raw) is not None)
        floor = time.perf_counter() - t0
        assert nl == a.n
        print(f'    floor (in-process): read + json.loads of every line only {fmt_s(floor)} = {floor/load:.0%} of load+validate; '
              f'the other {fmt_s(load-floor)} builds and validates Example/Message objects')
        row('  stats floor: read + json.loads only', fmt_s(floor), '', f'{floor/load:.0%} of load', 'no validation, no objects')

        # 6. (measured with 2) peak memory of the stats children ---------------------------------------------------
        print(f'    peak RSS of a stats child: {max(rss_plain):.0f} MB (plain), {max(rss_json):.0f} MB (--json); '
              f'getrusage(RUSAGE_CHILDREN).ru_maxrss = {children_maxrss:.0f} MB; store {size_mb:.0f} MB '
              f'-> {max(rss_plain+rss_json)/size_mb:.1f}x the file size')
        row('llmforge stats peak RSS', f'{max(rss_plain+rss_json):.0f} MB', '', f'{max(rss_plain+rss_json)/size_mb:.1f}x store size')

        if a.profile:
            print('\n    cProfile of Project(dir).stats() in-process (top 15 by own time):')
            pr = cProfile.Profile(); pr.enable()
            Project(d).stats()
            pr.disable()
            s = io.StringIO(); pstats.Stats(pr, stream=s).sort_stats('tottime').print_stats(15)
            print('\n'.join('      ' + l for l in s.getvalue().splitlines() if l.strip()))

        # 3. Rating in a row ---------------------------------------------------------------------------------------
        print(f'\n[3] Project.rate: {a.rates:,} ratings in a row in one process')
        t0 = time.perf_counter()
        p = Project(d)
        queue = p.queue()
        t_open = time.perf_counter() - t0
        assert len(queue) >= a.rates, f'only {len(queue)} unrated examples for {a.rates} ratings'
        todo = [(e.id, rng.randint(1, 10)) for e in queue[:a.rates]]
        per = []
        t0 = time.perf_counter()
        for id_,r in todo:
            t1 = time.perf_counter(); p.rate(id_, r); per.append(time.perf_counter() - t1)
        t_rate = time.perf_counter() - t0
        per.sort()
        print(f'    open project + queue(): {fmt_s(t_open)} ({len(queue):,} unrated)')
        print(f'    {a.rates:,} ratings: {fmt_s(t_rate)} total, {t_rate/a.rates*1000:.2f} ms/rating '
              f'(median {per[len(per)//2]*1000:.2f} ms, p99 {per[int(len(per)*0.99)-1]*1000:.2f} ms, max {per[-1]*1000:.2f} ms)'
              f'  (target < {rate_target:g} s: {verdict(t_rate, rate_target)}, {t_rate/rate_target:.3f}x target)')
        row(f'rate x{a.rates:,} in a row', fmt_s(t_rate), f'< {rate_target:g} s', f'{t_rate/rate_target:.3f}x target',
            f'{t_rate/a.rates*1000:.2f} ms/rating; {verdict(t_rate, rate_target)}')
        row('  open project + queue()', fmt_s(t_open), '', '', 'once, before the ratings')
        t0 = time.perf_counter()
        fresh = Project(d)
        want = dict(todo)
        got = {id_: fresh[id_].rating for id_ in want}
        assert got == want, 'ratings not visible from a fresh Project'
        st = fresh.stats()
        assert st.total == a.n and st.rated == n_rated + a.rates, (st.total, st.rated)
        print(f'    verified: all {a.rates:,} ratings visible from a fresh Project(dir) '
              f'({fmt_s(time.perf_counter()-t0)}); rated {n_rated:,} -> {st.rated:,}; '
              f'{fresh.store.superseded:,} superseded lines in the log')
        del fresh

        # 4. Naive baseline: atomically rewrite the whole file for each rating ---------------------------------------
        print(f'\n[4] naive baseline: rewrite all {a.n:,} examples atomically (write_jsonl) per rating, {a.naive_runs} runs')
        exs = list(p.store)   # a naive tool keeps every example in memory; only the rewrite is timed
        pos = {e.id:i for i,e in enumerate(exs)}
        naive_path = d/'data'/'naive_examples.jsonl'  # same folder and file system as the store
        nt = []
        for k in range(a.naive_runs):
            id_ = queue[a.rates + k].id if len(queue) > a.rates + k else exs[k].id
            t0 = time.perf_counter()
            i = pos[id_]; exs[i] = exs[i].updated(rating=rng.randint(1, 10))
            n = write_jsonl(naive_path, exs)
            nt.append(time.perf_counter() - t0)
            assert n == a.n
        naive_mb = naive_path.stat().st_size / 2**20
        naive_path.unlink()
        naive_each = statistics.median(nt); naive_total = naive_each * a.rates
        print(f'    one full rewrite ({naive_mb:.1f} MB): median {fmt_s(naive_each)}, best {fmt_s(min(nt))} '
              f'-> {a.rates:,} ratings ~ {fmt_s(naive_total)} (extrapolated)')
        print(f'    naive / ours = {naive_total/t_rate:,.0f}x ({fmt_s(naive_total)} vs {fmt_s(t_rate)}; '
              f'{naive_each*1000:.1f} vs {t_rate/a.rates*1000:.2f} ms per rating)')
        row(f'naive rewrite x{a.rates:,} (extrap.)', fmt_s(naive_total), '', f'{naive_total/t_rate:,.0f}x ours',
            f'{fmt_s(naive_each)} per full rewrite')
        del p, exs, queue
    finally:
        if a.keep: print(f'\nproject kept in {tmp}')
        else: shutil.rmtree(tmp, ignore_errors=True)

    # 5. Startup --------------------------------------------------------------------------------------------------
    print(f'\n[5] startup: `llmforge --help` vs `python -c pass`, {a.help_runs} runs each')
    th,_,out = timed_runs([exe, '--help'], a.help_runs)
    assert 'usage: llmforge' in out, out[:200]
    tp,_,_ = timed_runs([sys.executable, '-c', 'pass'], a.help_runs)
    timp,_,_ = timed_runs([sys.executable, '-c', 'import llmforge.cli'], a.help_runs)
    hb,pb,ib = min(th), min(tp), min(timp)
    print(f'    llmforge --help     best {fmt_s(hb)}, median {fmt_s(statistics.median(th))}  '
          f'(target < {HELP_TARGET_S:g} s: {verdict(hb, HELP_TARGET_S)}, {hb/HELP_TARGET_S:.2f}x target)')
    print(f'    python -c pass      best {fmt_s(pb)}, median {fmt_s(statistics.median(tp))}  -> --help / bare python = {hb/pb:.2f}x '
          f'({(hb-pb)*1000:+.1f} ms)')
    print(f'    import llmforge.cli best {fmt_s(ib)}, median {fmt_s(statistics.median(timp))}  ({(ib-pb)*1000:+.1f} ms over bare python; noise-level differences are expected)')
    row('llmforge --help (best)', fmt_s(hb), f'< {HELP_TARGET_S:g} s', f'{hb/HELP_TARGET_S:.2f}x target',
        f'median {fmt_s(statistics.median(th))}; {verdict(hb, HELP_TARGET_S)}')
    row('python -c pass (baseline)', fmt_s(pb), '', f'--help = {hb/pb:.2f}x this', f'median {fmt_s(statistics.median(tp))}')
    if shim:
        ts_,_,_ = timed_runs([shim, '--help'], a.help_runs)
        print(f'    via PATH ({shim}): best {fmt_s(min(ts_))}, median {fmt_s(statistics.median(ts_))} '
              f'(the wrapper adds {fmt_s(min(ts_)-hb)})')
        row('llmforge --help via PATH shim', fmt_s(min(ts_)), f'< {HELP_TARGET_S:g} s', f'{min(ts_)/HELP_TARGET_S:.2f}x target',
            f'{shim}; {verdict(min(ts_), HELP_TARGET_S)}')
    check = ('import sys, json; import llmforge.cli; m=set(sys.modules); '
             f'print(json.dumps({{"heavy":{{k:(k in m) for k in {list(HEAVY)!r}}}, "modules":len(m)}}))')
    _,_,rc,out = run_child([sys.executable, '-c', check])
    assert rc == 0, out
    mods = json.loads(out.strip().splitlines()[-1])
    loaded = [k for k,v in mods['heavy'].items() if v]
    _,_,rc,out = run_child([sys.executable, '-c', 'import sys; print(len(sys.modules))'])
    base_mods = int(out.strip())
    print(f'    import llmforge.cli: torch imported: {mods["heavy"]["torch"]}, transformers imported: {mods["heavy"]["transformers"]}; '
          f'of {", ".join(HEAVY)}: {", ".join(loaded) or "none"} loaded; {mods["modules"]} modules in sys.modules (bare python: {base_mods})')
    _,_,rc,out = run_child([sys.executable, '-X', 'importtime', '-c', 'import llmforge.cli'])
    imps = []
    for l in out.splitlines():
        if l.startswith('import time:') and '|' in l:
            parts = [x.strip() for x in l[len('import time:'):].split('|')]
            if parts[0].isdigit(): imps.append((int(parts[1]), parts[2]))
    top = sorted(imps, reverse=True)[:5]
    print('    -X importtime, largest cumulative: ' + ', '.join(f'{n.strip()} {us/1000:.1f} ms' for us,n in top))
    assert not mods['heavy']['torch'] and not mods['heavy']['transformers'], 'llmforge.cli imports torch/transformers'
    row('llmforge.cli imports torch/transformers', 'no' if not (mods['heavy']['torch'] or mods['heavy']['transformers']) else 'YES',
        'no', '', f'{mods["modules"]} modules vs {base_mods} bare')

    # Summary --------------------------------------------------------------------------------------------------------
    print(f'\nSummary (N={a.n:,}, {a.rates:,} ratings; benchmark ran {fmt_s(time.perf_counter()-t_all)})')
    head = ('name', 'measured', 'target', 'ratio', 'note')
    w = [max(len(str(r[i])) for r in rows+[head]) for i in range(5)]
    line = lambda r: '  '.join(str(x).ljust(w[i]) for i,x in enumerate(r)).rstrip()
    print(line(head)); print('  '.join('-'*x for x in w))
    for r in rows: print(line(r))

if __name__ == '__main__': main()
