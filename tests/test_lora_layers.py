"""`lora.last_layers` in a training config reaches the trainers: torch (peft's layers_to_transform through
`lora_targets`) and MLX (mlx-lm's num_layers); a nonsense value is a config error naming the key."""
import pytest, yaml
from llmforge.configs import load_config
from llmforge.core import LLMForgeError

def _cfg(tmp_path, lora:dict):
    (tmp_path/'data.yaml').write_text(yaml.safe_dump({'kind': 'data', 'stage': 1}))
    p = tmp_path/'train.yaml'
    p.write_text(yaml.safe_dump({'kind': 'train', 'stage': 1, 'base_model': 'smollm2-135m-instruct', 'data': 'data.yaml',
                                 'method': 'lora', 'objective': 'sft', 'lora': lora}))
    return p

def test_last_layers_reaches_the_trainers(tmp_path):
    pytest.importorskip('torch')
    from llmforge.train import lora_targets
    from llmforge.models import tiny_model
    l = load_config(_cfg(tmp_path, {'r': 8, 'last_layers': 1})).lora      # what train_sft, MLX and hosted jobs take
    assert l.last_layers == 1 and l.r == 8
    t = lora_targets(tiny_model()[0], l.target_modules, l.last_layers)
    assert t['layers_to_transform'] == [1] and 'q_proj' in t['target_modules'] and 'lm_head' not in t['target_modules']
    from llmforge.configs import OptimConfig
    from llmforge.train.mlx import mlx_lora_config
    assert mlx_lora_config(OptimConfig(), l, 'base', 'data', 'adapter', 10)[0]['num_layers'] == 1

def test_last_layers_must_be_positive(tmp_path):
    with pytest.raises(LLMForgeError, match='lora.last_layers'): load_config(_cfg(tmp_path, {'last_layers': 0}))
