"train_sft under torchrun: two CPU processes on the gloo backend train the same LoRA as one process, and only rank 0 writes"
import json, os, subprocess, sys, textwrap, time
from pathlib import Path
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent/'examples'/'medical-coding'/'stage1.jsonl'

SCRIPT = textwrap.dedent('''
    import json, os, sys, torch
    from pathlib import Path
    import llmforge.train as T, llmforge.core as C
    from llmforge.configs import LoraConfig, OptimConfig
    from llmforge.core import read_examples
    from llmforge.models import tiny_model
    out = Path(sys.argv[1]); rank = int(os.environ.get('RANK', 0))
    writes = []
    real_write = C.atomic_write
    def spy(path, *a, **k): writes.append(str(path)); return real_write(path, *a, **k)
    C.atomic_write = spy  # what this process writes (run.json, through train.loop.save_run)
    exs = list(read_examples(sys.argv[2]))[:24]
    m,t = tiny_model()
    s = OptimConfig(max_steps=int(sys.argv[3]), batch_size=4, learning_rate=3e-3, warmup_ratio=0.0,
                    eval_steps=2, max_seq_len=256, amp='no')   # fp32: bf16 rounding differs per split
    r = T.train_sft(m, t, exs[:20], out/'run', val=exs[20:], training=s, lora=LoraConfig(dropout=0.0), progress=False)
    weights = {k: v.detach().clone() for k,v in r['model'].named_parameters() if v.requires_grad}
    torch.save(weights, out/f'weights-{rank}.pt')
    json.dump({'rank': rank, 'processes': r.get('processes', 1), 'steps': r['steps'], 'final_loss': r['final_loss'],
               'eval_loss': r['eval_loss'], 'writes': writes}, open(out/f'rank-{rank}.json', 'w'))
''')

def launch(tmp, nproc, steps):
    (tmp/'train.py').write_text(SCRIPT)
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', str(nproc),
           str(tmp/'train.py'), str(tmp), str(EXAMPLES), str(steps)]
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'HF_HUB_OFFLINE': '1', 'TOKENIZERS_PARALLELISM': 'false'}
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    return time.perf_counter() - t0

def test_two_processes_train_like_one(tmp_path):
    torch = pytest.importorskip('torch')
    if not torch.distributed.is_available(): pytest.skip('this torch build has no torch.distributed')
    two,one = tmp_path/'two',tmp_path/'one'
    two.mkdir(); one.mkdir()
    secs = launch(two, 2, 4)
    print(f'2-process run: {secs:.1f} s')
    ranks = [json.loads((two/f'rank-{r}.json').read_text()) for r in (0, 1)]
    assert [r['rank'] for r in ranks] == [0, 1] and all(r['processes'] == 2 and r['steps'] == 4 for r in ranks)  # both ran, as one job
    w0,w1 = (torch.load(two/f'weights-{r}.pt') for r in (0, 1))
    assert w0.keys() == w1.keys() and all(torch.equal(w0[k], w1[k]) for k in w0)  # gradients were synchronised
    assert ranks[0]['final_loss'] == ranks[1]['final_loss'] and ranks[0]['eval_loss'] == ranks[1]['eval_loss']
    # only rank 0 wrote run.json (through core.atomic_write; the adapter and plot are written beside it by save_run)
    assert ranks[0]['writes'] == [str(two/'run'/'run.json')] and ranks[1]['writes'] == []
    assert (two/'run'/'adapter'/'adapter_model.safetensors').exists() and (two/'run'/'loss.png').exists()
    # and the update is the one-process update: each process computed half of every batch
    launch(one, 1, 4)
    ref = torch.load(one/'weights-0.pt')
    lora_b = [k for k in ref if 'lora_B' in k]
    assert lora_b and any(ref[k].abs().max() > 0 for k in lora_b)  # it did train
    # Adam divides by the gradient's scale, so summation-order noise in tiny gradients shows at ~1e-4 of the update
    diff = max((w0[k] - ref[k]).abs().max().item() for k in ref)
    moved = max(ref[k].abs().max().item() for k in lora_b)
    print(f'largest weight difference to one process: {diff:.2e} (largest lora_B weight {moved:.2e})')
    assert diff < 0.02 * moved, (diff, moved)
    single = json.loads((one/'rank-0.json').read_text())
    assert abs(single['final_loss'] - ranks[0]['final_loss']) < 1e-4 and abs(single['eval_loss'] - ranks[0]['eval_loss']) < 1e-4
