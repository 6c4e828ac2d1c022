"""Validation throughput: N medical-coding examples streamed through every check except the tokenizer.

    python benchmarks/bench_validate.py                 # 100,000 examples (target: under 10 s), memory at 3 sizes
    python benchmarks/bench_validate.py --n 5000        # quick look

It writes a synthetic JSONL file of realistic stage-1 medical-coding examples (a clinical narrative of one to four
sentences with vitals, doses and the occasional identifier; an answer such as 'ICD10: E11.9 (...)'), runs
`llmforge.validators.validate_file(path, domain='medical')` on it in a fresh process, and prints wall time,
examples per second, and the peak resident memory of that process. It repeats this at N/4, N/2 and N, so memory that
grows with the file shows up. The baseline is the time to merely parse the same file with `json.loads`. Figures and
ratios only; nothing timed is asserted.
"""
import argparse, json, os, random, resource, subprocess, sys, tempfile, time
from pathlib import Path

SENT = ['{age}-year-old {sex} presents with {sym} for {dur}.', 'History of {hx}; takes {drug} {dose} mg {freq}.',
        'BP {sbp}/{dbp}, HR {hr}, SpO2 {spo2}% on room air, temp {temp} F.', 'Exam notable for {exam}.',
        'Labs: HbA1c {a1c}%, creatinine {cr} mg/dL.', 'Seen by Dr. {last} on {date}; MRN {mrn}.',
        'Plan: {plan}; follow up in {fu} weeks.', 'Denies {neg}. No known drug allergies.']
VOCAB = dict(sex=['man', 'woman'], sym=['chest pain on exertion', 'productive cough', 'right knee pain', 'polyuria and thirst',
             'shortness of breath', 'low back pain radiating to the left leg', 'palpitations', 'a rash on both forearms'],
             dur=['3 days', '2 weeks', 'several months', '48 hours'], hx=['type 2 diabetes', 'hypertension', 'COPD', 'asthma',
             'hyperlipidemia', 'atrial fibrillation', 'osteoarthritis'], drug=['metformin', 'lisinopril', 'atorvastatin',
             'albuterol', 'apixaban', 'meloxicam'], freq=['daily', 'twice daily', 'as needed'], exam=['bibasilar crackles',
             'an irregularly irregular rhythm', 'medial joint line tenderness', 'no focal deficits', 'wheezing'],
             plan=['start an inhaled steroid', 'order an echocardiogram', 'refer to physical therapy', 'titrate insulin'],
             neg=['fever', 'syncope', 'weight loss', 'hemoptysis'], last=['Okafor', 'Lindqvist', 'Moreau', 'Chen', 'Patel'])
ANSWERS = [('E11.9', 'Type 2 diabetes mellitus without complications'), ('I10', 'Essential (primary) hypertension'),
           ('J44.1', 'Chronic obstructive pulmonary disease with (acute) exacerbation'), ('M17.11', 'Unilateral primary osteoarthritis, right knee'),
           ('I48.91', 'Unspecified atrial fibrillation'), ('J45.909', 'Unspecified asthma, uncomplicated'), ('R07.9', 'Chest pain, unspecified')]

def example(rng, i):
    v = {k: rng.choice(x) for k, x in VOCAB.items()}
    v.update(age=rng.randint(18, 88), dose=rng.choice([5, 10, 20, 40, 500, 1000]), sbp=rng.randint(100, 170), dbp=rng.randint(60, 100),
             hr=rng.randint(55, 110), spo2=rng.randint(90, 100), temp=round(rng.uniform(97, 101), 1), a1c=round(rng.uniform(5, 11), 1),
             cr=round(rng.uniform(0.6, 2), 2), date=f'{rng.randint(1,12)}/{rng.randint(1,28)}/2024', mrn=rng.randint(10**6, 10**8),
             fu=rng.randint(1, 12))
    k = rng.randint(1, 4)
    text = ' '.join(s.format(**v) for s in [SENT[0]] + rng.sample(SENT[1:], k)) + f' Visit {i}.'
    code, desc = rng.choice(ANSWERS)
    return {'messages': [{'role': 'user', 'content': text}, {'role': 'assistant', 'content': f'ICD10: {code} ({desc})'}]}

def write(path, n, seed=0):
    rng = random.Random(seed)
    with open(path, 'w') as f:
        for i in range(n): f.write(json.dumps(example(rng, i)) + '\n')

CHILD = '''
import json, resource, sys, time
from llmforge.validators import validate_file
path, mode = sys.argv[1], sys.argv[2]
t = time.perf_counter()
if mode == 'parse':
    n = sum(1 for l in open(path, 'rb') if json.loads(l))
    out = {'records': n}
else:
    r = validate_file(path, domain='medical')
    out = {'records': r.records, 'errors': r.errors, 'warnings': r.warnings, 'counts': dict(r.counts)}
out['seconds'] = time.perf_counter() - t
out['peak_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
out['worker_peak_mb'] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps(out))
'''

def run(path, mode):
    r = subprocess.run([sys.executable, '-c', CHILD, str(path), mode], capture_output=True, text=True, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--n', type=int, default=100_000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    rows = []
    for n in (args.n // 4, args.n // 2, args.n):
        p = tmp/f'med-{n}.jsonl'
        write(p, n)
        base, res = run(p, 'parse'), run(p, 'validate')
        rows.append((n, p.stat().st_size / 1e6, base, res))
        print(f'{n:>8,} examples ({p.stat().st_size/1e6:.1f} MB): validate {res["seconds"]:.2f} s '
              f'({n/res["seconds"]:,.0f}/s), peak {res["peak_mb"]:.0f} MB (largest worker {res["worker_peak_mb"]:.0f} MB); json.loads alone {base["seconds"]:.2f} s '
              f'(validate/parse {res["seconds"]/base["seconds"]:.1f}x); findings {res["counts"]}')
    n, mb, base, res = rows[-1]
    print(f'\nSummary: {n:,} examples through every check but the tokenizer: {res["seconds"]:.2f} s (target < 10 s: '
          f'{"ok" if res["seconds"] < 10 else "MISSED"}, {res["seconds"]/10:.2f}x target)')
    print('peak memory by size (main process / largest worker): ' + ', '.join(f'{r[0]:,}: {r[3]["peak_mb"]:.0f}/{r[3]["worker_peak_mb"]:.0f} MB' for r in rows) +
          f' (file grew {rows[-1][1]/rows[0][1]:.1f}x, memory {rows[-1][3]["peak_mb"]/rows[0][3]["peak_mb"]:.2f}x)')
    for f in tmp.iterdir(): f.unlink()
    tmp.rmdir()

if __name__ == '__main__': main()
