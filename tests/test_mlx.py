"The MLX backend: `llmforge train` with backend mlx runs mlx-lm on the tiny model and records the run (skipped without mlx-lm)"
import io, json, shutil, time
from pathlib import Path
import pytest, yaml

pytest.importorskip('mlx_lm', reason="the MLX backend needs mlx-lm (pip install 'mlx[cpu]' mlx-lm on Linux)")
from llmforge.cli import run, IO
from llmforge.models import tiny_model
from llmforge.project import Project

EXAMPLES = Path(__file__).resolve().parent.parent/'examples'/'medical-coding'/'stage1.jsonl'

def test_train_command_with_mlx_backend(tmp_path):
    tiny_model(tmp_path/'base')
    shutil.copy(EXAMPLES, tmp_path/'stage1.jsonl')
    (tmp_path/'train.yaml').write_text(yaml.safe_dump({'kind': 'train', 'stage': 1, 'backend': 'mlx', 'base_model': 'base', 'data': 'stage1.jsonl',
        'output_dir': 'runs/mlx', 'lora': {'r': 8, 'alpha': 16, 'dropout': 0.0}, 'training': {'batch_size': 4, 'learning_rate': 5e-3, 'max_seq_len': 256, 'max_steps': 4}}))
    proj = Project.init(tmp_path/'proj')
    out,err = io.StringIO(),io.StringIO()
    t0 = time.perf_counter()
    rc = run(['train', str(tmp_path/'train.yaml'), '-p', str(proj.path), '--json'], IO(io.StringIO(), out, err))
    print(f'mlx run: {time.perf_counter() - t0:.1f} s')
    assert rc == 0, err.getvalue()
    rep = json.loads(out.getvalue())
    assert rep['backend'] == 'mlx' and rep['steps'] == 4 and rep['run'] == 'run-001'
    run_dir = tmp_path/'runs'/'mlx'
    s = json.loads((run_dir/'run.json').read_text())
    assert s['mlx_config']['lora_parameters'] == {'rank': 8, 'scale': 2.0, 'dropout': 0.0} and s['mlx_config']['iters'] == 4
    assert s['log'] and s['eval_loss'] < s['initial_eval_loss']   # it learned something in four iterations
    cfg = json.loads((run_dir/'adapter'/'adapter_config.json').read_text())
    assert cfg['peft_type'] == 'LORA' and cfg['r'] == 8 and cfg['lora_alpha'] == 16
    r = Project(proj.path).config.runs[-1]
    assert r['backend'] == 'mlx' and r['paths']['output'] == str(run_dir/'adapter') and (run_dir/'template.json').exists()
