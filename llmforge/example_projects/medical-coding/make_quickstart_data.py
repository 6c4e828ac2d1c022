"""Build `llmforge/data/quickstart.jsonl`, the medical-coding data that `llmforge quickstart` trains on

    python llmforge/example_projects/medical-coding/make_quickstart_data.py            # write the file
    python llmforge/example_projects/medical-coding/make_quickstart_data.py --check    # exit 1 if it is stale
    python llmforge/example_projects/medical-coding/make_quickstart_data.py --out x.jsonl

Everything here is synthetic. The narratives are assembled from short fragments written for this script (clinical
shorthand: pt, c/o, hx, PMH, SOB, DM2, s/p, w/, r/o, neg, f/u, b/l, ...); no text was copied from a real record, and
no name, date, record number, place or other identifier is ever produced (ages are 18-85). Nothing is downloaded.

What is sampled. Each code (in `quickstart_codes.json`, beside this script) carries four lists of fragments: `terms`
ways of naming the diagnosis, procedure or supply (abbreviations, lay and clinical synonyms, brand and generic drug
names; the code's official wording is avoided), `hpi` the history or indication, `obj` findings or details, and
`plan` the plan or what followed. Fragments in `obj` that start with `!` carry the fact that separates the code from
a related one (E11.9 vs E11.65: "no retinopathy" vs "A1c 10.8"; 94060 vs 94010: a bronchodilator was given); a
narrative of a code that has them carries exactly one, plus at most one plain supporting finding. A narrative is one
template of its kind (diagnosis, procedure, supply) filled with an age and sex, one naming of the coded item, a
history, its findings and a plan; 25-60 words. Some narratives also carry a distractor: another condition in the
background ("PMH HTN on lisinopril, HLD on atorvastatin") or a negated one ("denies CP or SOB"), chosen by tags so
that it does not clash with the coded item, which stays the reason for the visit, procedure or supply. The answer
names the code's description, then the code with its system label (`Type 2 diabetes mellitus without complications.
ICD10: E11.9`): a model that first puts the narrative in the code set's words maps those words to a code far faster
than it maps free text to a code (measured on SmolLM2-135M: 29% exact after 150 steps against 1% after 100 and 15%
after 200 with the code alone); the code is what is scored. The description is also kept in `metadata`. Every code is
checked with `llmforge.codes.validate` (billable ICD-10-CM codes from `simple-icd-10-cm`; CPT and HCPCS codes from
llmforge's own tables), every narrative with `llmforge.phi.find_phi` and a word count; the script stops at the first
failure.

How train and held-out differ. Codes are "seen" (50 ICD-10-CM, 25 CPT, 25 HCPCS) or "unseen" (15, 8, 7).
- train: 8 narratives per seen code, half of them with a distractor. The last fragment of each of a seen code's four
  lists, and a separate set of templates, never appear in training.
- val, heldout "seen_code": 1 narrative per seen code, built only from those held-out fragments and a held-out
  template, so it is new text for a known code (its held-out naming is a synonym, an abbreviation or a brand name the
  training narratives of that code do not use); 80% carry a distractor. A bag-of-words nearest neighbour
  (`llmforge.evaluation.KeywordMatch`) trained on train gets about a fifth of them right.
- val, heldout "unseen_code": 1 narrative per unseen code; these codes never appear in train. Several are siblings of
  seen codes (left knee vs right knee, spirometry without vs with bronchodilator), the rest are new conditions.
Each split is shuffled with a fixed seed; train lines come first. Running the script twice gives the same bytes.
"""
from __future__ import annotations
import argparse, json, random, re, sys
from pathlib import Path

SEED = 20240611
N_TRAIN = 8                      # training narratives per seen code
MIN_WORDS,MAX_WORDS = 25, 60     # narrative length in words
P_DISTRACTOR = {None: 0.5, 'seen_code': 0.8, 'unseen_code': 0.8}   # share of narratives with a distractor, per kind
PACKAGE = Path(__file__).resolve().parents[2]          # llmforge/, when this file sits in llmforge/example_projects
OUT = PACKAGE/'data'/'quickstart.jsonl'
LABEL = {'icd10cm': 'ICD10', 'cpt': 'CPT', 'hcpcs': 'HCPCS'}

CODES = Path(__file__).with_name('quickstart_codes.json')

# The codes and the distractors are data, in quickstart_codes.json beside this script:
# - `icd10cm`, `cpt`, `hcpcs`: each a list of `seen` codes and a list of `unseen` ones (never in train; ICD-10-CM lists
#   siblings of seen codes first, then new conditions). An ICD-10-CM narrative is the story of a visit ending in an
#   assessment; a CPT one a procedure, visit service, study or test that was done; a HCPCS Level II one a drug given,
#   an item supplied or a service provided.
# - each code: `code`, `specialty`, `tags` (space-separated) and its four lists of fragments `terms`, `hpi`, `obj`,
#   `plan`, the last of each held out; optionally `age` ([lo, hi], default 30-82), `sex` ('M' or 'F', default either)
#   and `kind` (what a HCPCS code is: 'drug', 'item' or 'service'; default 'item').
# - `distractors`: background history (`pmh`) and negated mentions (`neg`), each `[text, tags]` with the tags it must
#   not meet in the coded item.
def C(code, specialty, tags='', terms=(), hpi=(), obj=(), plan=(), age=(30, 82), sex=None, kind='item'):
    "One code and its fragments; the last of each of `terms`, `hpi`, `obj`, `plan` is held out"
    return dict(code=code, specialty=specialty, tags=set(tags.split()), terms=list(terms), hpi=list(hpi), obj=list(obj),
                plan=list(plan), age=tuple(age), sex=sex, kind=kind)

_TABLES = json.loads(CODES.read_text(encoding='utf-8'))
ICD_SEEN,ICD_UNSEEN = [[C(**d) for d in _TABLES['icd10cm'][k]] for k in ('seen', 'unseen')]
CPT_SEEN,CPT_UNSEEN = [[C(**d) for d in _TABLES['cpt'][k]] for k in ('seen', 'unseen')]
HCPCS_SEEN,HCPCS_UNSEEN = [[C(**d) for d in _TABLES['hcpcs'][k]] for k in ('seen', 'unseen')]
PMH,NEG = [[tuple(x) for x in _TABLES['distractors'][k]] for k in ('pmh', 'neg')]

def distractor(rng, item, sex, p:float)->str:
    "With probability `p`, a background or negated mention that does not clash with the coded item"
    if rng.random() >= p: return ''
    def ok(tags): return not set(tags.split()) & item['tags'] and ('M' not in tags.split() or sex == 'M')
    pmh,neg = [d for d,t in PMH if ok(t)],[d for d,t in NEG if ok(t)]
    r = rng.random()
    if r < 0.45: return rng.choice(pmh)
    if r < 0.8: return rng.choice(neg)
    return f'{rng.choice(pmh)}; {rng.choice(neg)}'

# ---------------------------------------------------------------------------------------------------------------
# Templates. {intro}: age and sex; {distp}: ' (distractor)' or ''; {dist}: 'Distractor.' or ''
TEMPLATES = {
    'icd10cm': dict(
        train=['{intro}{distp} {hpi}. {obj}. A/P: {term}; {plan}.',
               '{intro} {hpi}. {dist} {obj}. Dx {term}. {plan}.',
               'HPI: {intro} {hpi}. {obj}. {dist} Impression: {term}. Plan: {plan}.',
               '{intro}{distp}. {hpi}; {obj}. Assessment: {term}, {plan}.',
               'CC/HPI: {hpi}. {intro}. {obj}. {dist} A: {term}. P: {plan}.'],
        held=['Assessment - {term}. {intro}{distp} {hpi}; {obj}. Next: {plan}.',
              '{intro}: {hpi}. {dist} Findings: {obj}. Pt dx\'d w/ {term}; {plan}.',
              'Problem: {term}. S: {intro} {hpi}. O: {obj}. {dist} P: {plan}.']),
    'cpt': dict(
        train=['{intro}{distp} w/ {hpi}. {term} performed. {obj}. {plan}.',
               'Procedure: {term}. Indication: {hpi}. {intro}. {dist} {obj}; {plan}.',
               '{intro} underwent {term} for {hpi}. {obj}. {dist} {plan}.',
               'Indication: {hpi}. {intro}{distp}. {term} done today; {obj}. {plan}.',
               '{intro} w/ {hpi}. {dist} Today: {term}. {obj}, {plan}.'],
        held=['{term} completed on {a_intro} ({hpi}). {obj}. {dist} {plan}.',
              'Procedure note: {intro}{distp}, {hpi}. Performed {term}: {obj}. {plan}.',
              'Reason for service - {hpi}. {dist} {term} carried out in {a_intro}, {obj}. {plan}.']),
    'hcpcs': dict(
        train=['{intro}{distp} w/ {hpi}. {term} {verb}. {obj}. {plan}.',
               '{hpi}: {term} {verb}. {intro}. {dist} {obj}; {plan}.',
               '{intro} w/ {hpi}. {dist} {Verb} {term}; {obj}. {plan}.',
               'Reason: {hpi}. {intro}{distp}. {term} {verb} today, {obj}. {plan}.',
               'For {hpi}, {intro} received {term}. {obj}. {dist} {plan}.'],
        held=['{intro} ({hpi}) got {term} this visit. {dist} {obj}; {plan}.',
              'Item/med: {term}. Pt: {intro}{distp} w/ {hpi}. {obj}. {plan}.',
              'Need: {hpi}. {dist} {term} {verb} per order for {a_intro}, {obj}; {plan}.']),
}
VERBS = {'drug': ['given', 'administered'], 'item': ['dispensed', 'supplied', 'issued'], 'service': ['provided']}

def intro(rng, age:int, sex:str)->str:
    "'58 yo M', '58M', '58 y/o man', ..."
    mw,mf = ('man','male') if sex == 'M' else ('woman','female')
    return rng.choice([f'{age} yo {sex}', f'{age}{sex}', f'{age} y/o {mw}', f'{age}-year-old {mw}', f'{age} yo {mf}'])

def _cap(s:str)->str:
    "Upper-case the first letter of each sentence, leaving words such as eGFR or pH alone"
    def up(m):
        w = m.group(2)
        return m.group(1) + (w[0].upper() + w[1:] if w[0].islower() and not any(c.isupper() for c in w[1:]) else w)
    return re.sub(r'(^|[.?]\s+)([A-Za-z][\w/\'-]*)', up, s)

def tidy(s:str)->str:
    s = re.sub(r'\s+', ' ', s).strip()
    s = re.sub(r'\s+([.,;:])', r'\1', s)
    return _cap(s)

def render(rng, system, item, template, term, hpi, obj, plan, p_dist:float)->str:
    "Fill one template"
    lo,hi = item['age']
    sex = item['sex'] or rng.choice('MF')
    d = distractor(rng, item, sex, p_dist)
    verb = rng.choice(VERBS[item['kind']])
    who = intro(rng, rng.randint(lo, hi), sex)
    text = template.format(intro=who, a_intro=('an ' if re.match(r'8|1[18]\D', who) else 'a ') + who, hpi=hpi,
                           term=term, plan=plan,
                           obj=rng.choice([', ', '; ']).join(o.lstrip('!') for o in obj), verb=verb,
                           Verb=verb.capitalize(), distp=f' ({d})' if d else '', dist=f'{d}.' if d else '')
    return tidy(text)

def pick_obj(rng, pool:list, first:list=())->list:
    "One or two findings from `pool` (in their written order), at least one distinguishing if the code has any"
    keys = [o for o in pool if o.startswith('!')]
    out = list(first)
    if not any(o.startswith('!') for o in out) and keys: out.append(rng.choice(keys))
    if not out: out.append(rng.choice(pool))
    plain = [o for o in pool if not o.startswith('!') and o not in out]
    if plain and len(out) < 2 and rng.random() < 0.6:   # a supporting finding, never a second distinguishing one
        out.append(rng.choice(plain))
    order = {o:i for i,o in enumerate(pool)}
    return sorted(out, key=lambda o: order.get(o, len(pool)))

def shingles(s:str)->set:
    w = re.findall(r'[a-z0-9]+', s.lower())
    return {tuple(w[i:i+3]) for i in range(len(w)-2)}

def jaccard(a:set, b:set)->float: return len(a & b) / max(1, len(a | b))

def words(s:str)->int: return len(s.split())

def narratives(rng, system, item, n:int, heldout:str|None=None, avoid=())->list[str]:
    "`n` narratives of one code: training fragments and templates, or (heldout) the held-out ones"
    tpl = TEMPLATES[system]['held' if heldout else 'train']
    T,H,O,P = item['terms'],item['hpi'],item['obj'],item['plan']
    if heldout == 'seen_code': T,H,P = T[-1:],H[-1:],P[-1:]        # the held-out phrasing, history and plan
    elif not heldout: T,H,O,P = T[:-1],H[:-1],O[:-1],P[:-1]        # everything but them
    T,H,P,tpl = [rng.sample(x, len(x)) for x in (T,H,P,tpl)]        # rotate through every phrasing and template
    out,seen = [],[shingles(a) for a in avoid]
    for i in range(n):
        for attempt in range(200):
            j = i + attempt
            obj = [O[-1]] if heldout == 'seen_code' else pick_obj(rng, O)   # seen_code: the held-out finding alone
            text = render(rng, system, item, tpl[j % len(tpl)], T[j % len(T)], H[(j + i//len(H)) % len(H)], obj,
                          P[j % len(P)], P_DISTRACTOR[heldout])
            sh = shingles(text)
            if MIN_WORDS <= words(text) <= MAX_WORDS and all(jaccard(sh, s) < 0.5 for s in seen): break
        else: raise SystemExit(f"{item['code']}: cannot build narrative {i+1} of {n} within {MIN_WORDS}-{MAX_WORDS}"
                               ' words that differs from the others; add fragments')
        out.append(text); seen.append(sh)
    return out

# ---------------------------------------------------------------------------------------------------------------
def check_codes(items)->dict:
    "{code: description} for every code; stops at the first code llmforge does not accept as a known, billable code"
    from llmforge.codes import validate
    out = {}
    for system,item in items:
        r = validate(item['code'], system)
        if not (r.is_valid and r.known and r.billable is not False and r.normalized == item['code']):
            raise SystemExit(f"{item['code']} ({system}) is not a known billable code: {r.error or r.status}")
        if item['code'] in out: raise SystemExit(f"{item['code']} is listed twice")
        out[item['code']] = r.description
    return out

def check_records(records):
    "Every narrative free of PHI, ASCII, in length; every answer parses back to its code"
    from llmforge.codes import find_codes
    from llmforge.phi import find_phi
    for r in records:
        text,answer,m = r['messages'][0]['content'],r['messages'][1]['content'],r['metadata']
        if find_codes(answer) != [(m['code_type'], m['code'])]: raise SystemExit(f'{answer!r} does not parse back')
        spans = find_phi(text)
        if spans: raise SystemExit(f'{m["code"]}: PHI-like text {[text[s.start:s.end] for s in spans]} in {text!r}')
        if not text.isascii() or not MIN_WORDS <= words(text) <= MAX_WORDS: raise SystemExit(f'bad narrative: {text!r}')

def build(seed:int=SEED)->list[dict]:
    "All records, train first, then val"
    seen = [('icd10cm', c) for c in ICD_SEEN] + [('cpt', c) for c in CPT_SEEN] + [('hcpcs', c) for c in HCPCS_SEEN]
    unseen = ([('icd10cm', c) for c in ICD_UNSEEN] + [('cpt', c) for c in CPT_UNSEEN]
              + [('hcpcs', c) for c in HCPCS_UNSEEN])
    desc = check_codes(seen + unseen)
    rng = random.Random(seed)
    def rec(system, item, text, split, heldout):
        meta = {'code_type': system, 'code': item['code'], 'description': desc[item['code']],
                'specialty': item['specialty'], 'heldout': heldout}
        answer = f"{short(desc[item['code']])}. {LABEL[system]}: {item['code']}"
        return {'messages': [{'role': 'user', 'content': text}, {'role': 'assistant', 'content': answer}],
                'split': split, 'metadata': meta}
    train,val = [],[]
    for system,item in seen:
        texts = narratives(rng, system, item, N_TRAIN)
        train += [rec(system, item, t, 'train', None) for t in texts]
        held = narratives(rng, system, item, 1, 'seen_code', avoid=texts)
        val += [rec(system, item, t, 'val', 'seen_code') for t in held]
    for system,item in unseen:
        val += [rec(system, item, t, 'val', 'unseen_code') for t in narratives(rng, system, item, 1, 'unseen_code')]
    rng.shuffle(train); rng.shuffle(val)
    records = train + val
    check_records(records)
    return records

def short(description:str)->str:
    "The description as the answer names it: its first clause (before a ';'), without a final period"
    return description.split(';')[0].strip().rstrip('.')

def to_jsonl(records)->bytes: return ''.join(json.dumps(r, ensure_ascii=False) + '\n' for r in records).encode('utf-8')

def main(argv=None)->int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', type=Path, default=OUT, help=f'where to write (default: {OUT})')
    ap.add_argument('--check', action='store_true', help='rebuild in memory; exit 1 if --out differs')
    args = ap.parse_args(argv)
    if args.out == OUT and not (PACKAGE/'__init__.py').exists():
        raise SystemExit(f'{__file__} is not inside the llmforge package (a copied example?): give --out PATH')
    data = to_jsonl(build())
    if args.check:
        ok = args.out.exists() and args.out.read_bytes() == data
        print(f'{args.out}: ' + ('up to date' if ok else 'differs from the script output; rerun without --check'))
        return 0 if ok else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    n = data.count(b'\n')
    print(f'wrote {n} records to {args.out}')
    return 0

if __name__ == '__main__': sys.exit(main())
