"""AdapterPool (llmforge.agents.pool) on the tiny model with real peft adapters on disk: LRU eviction under a byte
budget and a count cap, pins, loads the memory monitor refuses, the active adapter's eviction, switching identical
to peft's `set_adapter` without walking the model, mixed batches, and adapters that do not fit the base."""
import copy, json, shutil
import pytest

torch = pytest.importorskip('torch')
pytest.importorskip('peft')
from llmforge.core import LLMForgeError
from llmforge.models import tiny_model, quiet_libraries
from llmforge.agents.pool import (AdapterPool, ResourceMonitor, adapter_bytes, lora_bytes, lora_layers,
                                  random_adapter)

NAMES = [f'a{i}' for i in range(6)]

@pytest.fixture(scope='module')
def tiny():
    model,tok = tiny_model()
    return model.eval()

@pytest.fixture(scope='module')
def adapters(tiny, tmp_path_factory):
    root = tmp_path_factory.mktemp('adapters')
    return {n: random_adapter(tiny, root/n, seed=i) for i,n in enumerate(NAMES)}

@pytest.fixture
def base(tiny):
    "A fresh copy of the tiny model: the pool adds LoRA layers to the model it is given"
    return copy.deepcopy(tiny)

X = torch.tensor([[5, 17, 99, 3, 250, 42, 7, 1000]])
SIZE = 262144   # one r=8 all-linear adapter on the tiny model, in float32

def logits(model, x=X):
    with torch.no_grad(): return model(input_ids=x).logits

def pool_of(base, adapters, n=len(NAMES), **kw):
    pool = AdapterPool(base, **kw)
    for name in NAMES[:n]: pool.register(name, adapters[name])
    return pool

def alone(tiny, folder):
    "The logits of one adapter loaded alone by peft on a fresh copy of the base: the reference"
    from peft import PeftModel
    with quiet_libraries(): m = PeftModel.from_pretrained(copy.deepcopy(tiny), str(folder))
    return logits(m.eval())

def test_sizes(adapters, base):
    assert adapter_bytes(adapters['a0']) == SIZE
    pool = pool_of(base, adapters).activate('a0')
    assert pool.resident == {'a0': SIZE}
    assert lora_bytes(lora_layers(pool.model), 'a0') == SIZE

def test_half_precision_base_keeps_float32_adapters(tiny, adapters):
    "The estimate counts 4 bytes an element because peft upcasts adapters on a half-precision base: check it does"
    pool = pool_of(copy.deepcopy(tiny).to(torch.bfloat16), adapters).activate('a1')
    assert pool.resident == {'a1': adapter_bytes(adapters['a1'])}

def test_lru_eviction_order_under_a_byte_budget(base, adapters):
    pool = pool_of(base, adapters, budget_bytes=3 * SIZE)
    for n in ['a0', 'a1', 'a2', 'a0']: pool.activate(n)
    assert list(pool.resident) == ['a1', 'a2', 'a0']          # least recently used first
    pool.activate('a3')
    assert list(pool.resident) == ['a2', 'a0', 'a3']          # a1 went, the least recently used
    pool.load('a4')                                            # a prefetch counts as a use too
    assert list(pool.resident) == ['a0', 'a3', 'a4'] and pool.active == 'a3'
    s = pool.stats()
    assert (s['loads'], s['hits'], s['evictions'], s['resident_bytes']) == (5, 1, 2, 3 * SIZE)
    assert s['hit_rate'] == pytest.approx(1 / 6)

def test_count_cap(base, adapters):
    pool = pool_of(base, adapters, budget_bytes=100 * SIZE, max_resident=2)
    for n in ['a0', 'a1', 'a2']: pool.activate(n)
    assert list(pool.resident) == ['a1', 'a2']

def test_pinned_adapters_stay(base, adapters):
    pool = pool_of(base, adapters, budget_bytes=2 * SIZE)
    pool.pin('a0')
    for n in ['a1', 'a2', 'a3']: pool.activate(n)
    assert list(pool.resident) == ['a0', 'a3']                # a0 is the least recently used, and stays
    with pytest.raises(LLMForgeError, match=r"pool.unpin\('a0'\) first"): pool.evict('a0')
    pool.pin('a3')
    with pytest.raises(LLMForgeError, match=r"no room for adapter 'a4' .*\['a0', 'a3'\] are pinned"):
        pool.activate('a4')
    assert list(pool.resident) == ['a0', 'a3'] and pool.active == 'a3'   # the refused load changed nothing
    pool.unpin('a0').activate('a4')
    assert list(pool.resident) == ['a3', 'a4']

def test_register_pin(base, adapters):
    pool = AdapterPool(base, budget_bytes=SIZE).register('a0', adapters['a0'], pin=True)
    assert pool.resident == {'a0': SIZE} and pool.pinned == {'a0'} and pool.active is None

def test_adapter_bigger_than_the_budget(base, adapters):
    pool = pool_of(base, adapters, budget_bytes=SIZE - 1)
    with pytest.raises(LLMForgeError, match="needs 256.0 KiB, more than the pool's whole budget_bytes"):
        pool.activate('a0')

def test_monitor_refusal_changes_nothing(base, adapters):
    pool = pool_of(base, adapters, budget_bytes=SIZE)
    pool.activate('a0')
    pool.monitor = ResourceMonitor(reserve_bytes=2**60)
    with pytest.raises(LLMForgeError, match=r"not enough memory for adapter 'a1' \(~0 B\) on cpu"):
        pool.activate('a1')   # net of a0, which it would evict, the load adds nothing: still refused by the reserve
    assert pool.resident == {'a0': SIZE} and pool.active == 'a0'
    assert pool.stats()['evictions'] == 0

def test_monitor_proc_and_psutil_agree():
    pytest.importorskip('psutil')
    a,b = ResourceMonitor(use_psutil=False).ram(),ResourceMonitor().ram()
    assert a['total'] == b['total'] and abs(a['available'] - b['available']) < 256 * 2**20
    assert abs(a['rss'] - b['rss']) < 64 * 2**20
    assert ResourceMonitor().available('cpu') > 0

class _no_warning:
    "Fail if the block warns (peft warns once per layer when it activates another adapter)"
    def __enter__(self):
        import warnings
        self.w = warnings.catch_warnings(record=True)
        self.log = self.w.__enter__()
        warnings.simplefilter('always')
    def __exit__(self, *exc):
        self.w.__exit__(*exc)
        assert not [str(w.message) for w in self.log]

def test_evicting_the_active_adapter_leaves_the_base(tiny, base, adapters):
    ref = logits(tiny)
    pool = pool_of(base, adapters, budget_bytes=2 * SIZE)
    pool.activate('a0').activate('a1')
    with _no_warning():
        pool.evict('a1')                                       # peft alone would quietly switch to a0
    assert pool.active is None and torch.equal(logits(pool.model), ref)
    pool.activate('a0')
    pool.load('a2')
    pool.load('a3')                                            # the budget pushes out a0, the active one
    assert pool.active is None and list(pool.resident) == ['a2', 'a3']
    assert torch.equal(logits(pool.model), ref)
    pool.evict('a2').evict('a3')                               # nothing left in peft at all
    assert pool.resident == {} and torch.equal(logits(pool.model), ref)
    pool.activate('a4')                                        # and loading again works
    assert torch.equal(logits(pool.model), alone(tiny, adapters['a4']))

def test_switch_matches_set_adapter_and_none_matches_the_base(tiny, base, adapters):
    ref = logits(tiny)
    pool = pool_of(base, adapters)
    for n in NAMES: pool.load(n)
    seen = []
    for n in NAMES + NAMES[::-1]:
        pool.activate(n)
        fast = logits(pool.model)
        pool.model.set_adapter(n)
        assert torch.equal(fast, logits(pool.model)), n
        seen.append(fast)
    assert all(not torch.equal(seen[0], s) for s in seen[1:len(NAMES)])   # every adapter changes the output
    assert torch.equal(seen[2], alone(tiny, adapters['a2']))
    pool.activate(None)
    assert torch.equal(logits(pool.model), ref)
    assert torch.equal(pool.forward(input_ids=X, adapter=None).logits, ref)

def test_activate_does_not_walk_the_model(base, adapters, monkeypatch):
    pool = pool_of(base, adapters)
    for n in NAMES: pool.load(n)
    def walk(*a, **k): raise AssertionError('walked the model')
    monkeypatch.setattr(torch.nn.Module, 'modules', walk)
    monkeypatch.setattr(torch.nn.Module, 'named_modules', walk)
    for n in NAMES + [None, 'a0']: pool.activate(n)
    assert pool.active == 'a0'

def test_mixed_batch_rows_match_single_rows(base, adapters):
    pool = pool_of(base, adapters, budget_bytes=3 * SIZE)
    rows = ['a0', 'a1', None, 'a2', 'a0']
    xs = X.repeat(len(rows), 1)
    gen = dict(max_new_tokens=6, do_sample=False)
    mixed = pool.generate(input_ids=xs, attention_mask=torch.ones_like(xs), adapter=rows, **gen)
    assert pool.active is None and list(pool.resident) == ['a0', 'a1', 'a2']
    mixed_logits = pool.forward(input_ids=xs, adapter=rows).logits
    for i,n in enumerate(rows):
        single = pool.generate(input_ids=X, attention_mask=torch.ones_like(X), adapter=n, **gen)
        assert torch.equal(mixed[i], single[0]), (i, n)
        torch.testing.assert_close(mixed_logits[i], pool.forward(input_ids=X).logits[0], rtol=0, atol=1e-5)
    assert not torch.equal(mixed[0], mixed[1])
    with pytest.raises(LLMForgeError, match='no room'):     # four adapters in one batch, room for three
        pool.forward(input_ids=X.repeat(4, 1), adapter=['a0', 'a1', 'a2', 'a3'])
    with pytest.raises(LLMForgeError, match='names 2 adapters .* the batch has 5 rows'):
        pool.forward(input_ids=xs, adapter=['a0', 'a1'])

def test_adapter_for_another_model(tmp_path, tiny, base, adapters):
    other,_ = tiny_model(hidden_size=512, intermediate_size=512)
    folder = random_adapter(other, tmp_path/'wide')
    pool = pool_of(base, adapters)
    pool.activate('a0')
    pool.register('wide', folder)
    with pytest.raises(LLMForgeError, match=rf"{tmp_path/'wide'}: could not load adapter 'wide' onto this base"):
        pool.activate('wide')
    assert pool.active == 'a0' and list(pool.resident) == ['a0']
    assert torch.equal(logits(pool.model), alone(tiny, adapters['a0']))

def test_register_checks_the_folder(tmp_path, base, adapters):
    pool = AdapterPool(base)
    with pytest.raises(LLMForgeError, match='no adapter_config.json'): pool.register('x', tmp_path)
    for key,value,msg in [('peft_type', 'IA3', "peft_type 'IA3'"), ('modules_to_save', ['lm_head'], 'modules_to_save')]:
        d = tmp_path/key
        shutil.copytree(adapters['a0'], d)
        cfg = json.loads((d/'adapter_config.json').read_text())
        (d/'adapter_config.json').write_text(json.dumps(cfg | {key: value}))
        with pytest.raises(LLMForgeError, match=msg): pool.register('x', d)
    for bad in ['', 'a.b', '__base__']:
        with pytest.raises(LLMForgeError, match='without dots'): pool.register(bad, adapters['a0'])
    pool.register('a0', adapters['a0']).activate('a0')
    with pytest.raises(LLMForgeError, match='without adapters'): AdapterPool(pool.model)

def test_reregistering_a_name_loads_the_new_folder(tiny, base, adapters):
    pool = pool_of(base, adapters, n=1).activate('a0')
    pool.register('a0', adapters['a5'])
    assert pool.resident == {} and pool.active is None
    pool.activate('a0')
    assert torch.equal(logits(pool.model), alone(tiny, adapters['a5']))
