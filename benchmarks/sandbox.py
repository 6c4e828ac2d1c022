"Sandbox cost: per-run overhead of `print(1)` at each isolation level (p50/p99), and throughput with 2 workers"
import argparse, os, statistics, time
from llmforge.sandbox import isolation_levels, run, run_many

def pct(xs, q):
    "The q-th percentile of xs (nearest rank)"
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q / 100 * (len(xs) - 1)))]

def overhead(level, n):
    "Wall seconds of n sequential `print(1)` runs at `level`"
    times = []
    for _ in range(n):
        r = run('print(1)', isolation=level, allow_unsafe=True)
        assert r.stdout == '1\n', r
        times.append(r.wall_s)
    return times

def main(n=100, batch=200, workers=2):
    levels = isolation_levels()
    print(f'isolation levels here: {levels} (running as uid {os.geteuid()})')
    base = overhead('plain', n) if 'plain' in levels else None
    print(f"{'level':<8} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'x plain p50':>12}")
    for level in levels:
        ts = base if level == 'plain' else overhead(level, n)
        ratio = f'{pct(ts, 50) / pct(base, 50):.2f}' if base else '-'
        print(f'{level:<8} {pct(ts, 50)*1e3:8.1f} {pct(ts, 99)*1e3:8.1f} {statistics.mean(ts)*1e3:8.1f} {ratio:>12}')
    for level in levels:
        t = time.perf_counter()
        rs = run_many([dict(code='print(1)', isolation=level, allow_unsafe=True)] * batch, workers=workers)
        dt = time.perf_counter() - t
        ok = sum(r.stdout == '1\n' for r in rs)
        print(f'{level:<8} {batch} runs, {workers} workers: {batch / dt:6.1f} runs/s ({ok}/{batch} ok)')

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('-n', type=int, default=100, help='sequential runs per level for p50/p99')
    ap.add_argument('--batch', type=int, default=200, help='runs in the throughput test')
    ap.add_argument('--workers', type=int, default=2)
    a = ap.parse_args()
    main(a.n, a.batch, a.workers)
