"""A conversation memory kept compressed: each past turn is stored at a fraction of its tokens by llmforge's prompt
compressor, retrieved by word overlap or MinHash similarity, and expanded into the prompt for the next question.

Runs offline in seconds: `python examples/memory-store/memory_store.py` (add `--model FOLDER` to use a compressor you
trained; otherwise a one-layer MiniLM compressor is trained here on a filler-deleting teacher and cached)."""
import argparse, os, re, tempfile
from pathlib import Path
os.environ.setdefault('HF_HUB_OFFLINE', '1')
from llmforge.fingerprints import minhash, similarity, normalize_text
from llmforge.compress.labels import align_labels
from llmforge.compress.model import load_compressor
from llmforge.compress.train import train_compressor

CONVERSATION = [
    ('user', "Hi! I'm planning a trip to Lisbon with my partner from the 12th to the 19th of May, and we would really "
             "like to stay somewhere quiet but close to the tram lines."),
    ('assistant', 'For a quiet stay near the trams, look at Estrela or Graça: tram 28 passes through both, and the '
                  'streets are calmer than in Bairro Alto or the Baixa.'),
    ('user', 'My partner is vegetarian and I am allergic to peanuts, so restaurant suggestions need to take that '
             'into account, please.'),
    ('assistant', 'Noted: vegetarian options and no peanuts. Ao 26 Vegan Food Project and Jardim dos Sentidos are both '
                  'vegetarian; ask staff about peanut oil in sauces.'),
    ('user', 'Our budget for the hotel is about 150 euros a night, and we would prefer a room with a balcony if '
             'that is at all possible.'),
    ('assistant', 'At 150 euros a night in Estrela, small guesthouses with balconies are common; book early for '
                  'May, which is busy.'),
    ('user', 'We also want to take a day trip to Sintra on the 15th, ideally by train from Rossio station in the '
             'morning before the crowds arrive.'),
    ('assistant', 'Trains to Sintra leave Rossio every 20 minutes; take one before 8:30 and visit Pena Palace first, '
                  'with timed tickets bought online.'),
]
QUERIES = ['Which restaurants would suit us for dinner on our last evening?',
           'What time should we leave for Sintra, and from which station?',
           'Can you suggest a hotel in our budget?']
FILLER = set('a an the is are was were be been of to in on at for with and or but that this it its by as from please '
             'could would you your i my me just really very so also there their they have has had we our us if '
             'all about which into both'.split())

def teacher(text): return ' '.join(w for w in text.split() if re.sub(r'\W', '', w.lower()) not in FILLER)

def quick_compressor(folder:Path):
    "A one-layer MiniLM compressor trained on the filler-deleting teacher (about ten seconds, cached in `folder`)"
    if not (folder/'compressor.json').is_file():
        items = [align_labels(t, teacher(t)) for _,t in CONVERSATION] + [align_labels(q, teacher(q)) for q in QUERIES]
        train_compressor(items, folder, steps=15, layers=1, lr=5e-4)
    return load_compressor(folder)

def words(t:str)->set:
    "Content words, cut to their first five letters (a poor man's stemmer: restaurants ~ restaurant)"
    return {w[:5] for w in normalize_text(t).split() if w not in FILLER}

class MemoryStore:
    "Past turns, each kept only in compressed form, with what retrieval compares"
    def __init__(self, compressor, rate:float=0.5):
        self.cp,self.rate,self.turns = compressor,rate,[]
    def add(self, role:str, text:str):
        "Compress a turn and keep it (the original is not kept)"
        c = self.cp.compress(text, rate=self.rate)
        self.turns.append({'role': role, 'text': c.text, 'tokens': c.tokens, 'kept': c.kept,
                           'words': words(c.text), 'minhash': minhash(c.text)})
    def search(self, query:str, k:int=2, method:str='overlap')->list:
        "The k turns most like the query: by shared content words, or by MinHash similarity of word 3-grams"
        if method == 'minhash':
            q = minhash(self.cp.compress(query, rate=self.rate).text)   # like with like: both compressed
            score = lambda t: similarity(q, t['minhash']) if q and t['minhash'] else 0.0
        else:
            q = words(query)
            score = lambda t: len(q & t['words']) / max(1, len(q))
        return sorted(self.turns, key=score, reverse=True)[:k]
    def prompt(self, query:str, k:int=2, method:str='overlap')->str:
        "The next prompt: the retrieved turns, compressed, then the question"
        memory = '\n'.join(f'- {t["role"]}: {t["text"]}' for t in self.search(query, k, method))
        return f'Earlier in this conversation (compressed notes):\n{memory}\n\nQuestion: {query}'

def main(model=None, rate=0.5):
    cp = load_compressor(model) if model else quick_compressor(Path(tempfile.gettempdir())/'llmforge-memory-store-cmp')
    store = MemoryStore(cp, rate)
    for role,text in CONVERSATION: store.add(role, text)
    full,kept = sum(t['tokens'] for t in store.turns),sum(t['kept'] for t in store.turns)
    print(f'{len(store.turns)} turns stored at {kept}/{full} tokens ({kept/full:.0%}); first one:\n  '
          f'{CONVERSATION[0][1]}\n  -> {store.turns[0]["text"]}\n')
    for q in QUERIES:
        print(store.prompt(q), end='\n\n')
    q = 'We want to take a day trip to Sintra on the 16th, by train from Rossio station in the morning.'
    print('MinHash retrieval (near copies of word 3-grams) for:', q)
    for t in store.search(q, 1, 'minhash'): print(f'  {t["role"]}: {t["text"]}')
    return store

if __name__ == '__main__':
    P = argparse.ArgumentParser(description=__doc__)
    P.add_argument('--model', help='a compressor folder (default: train a quick one)')
    P.add_argument('--rate', type=float, default=0.5, help='share of each turn kept')
    a = P.parse_args()
    main(a.model, a.rate)
