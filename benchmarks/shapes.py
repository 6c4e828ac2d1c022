"""Randomly initialised models with the shapes of real small models, built offline for benchmarks.

The weights are random, so losses mean little; the shapes (and so the compute and memory per token) are the real
models'. The tokenizer is llmforge's offline tiny tokenizer; the embedding matrix keeps the real vocabulary size, so
the output layer costs what it costs in the real model.
"""

SHAPES = {
    # HuggingFaceTB/SmolLM2-135M's config.json
    'smollm2-135m': dict(hidden_size=576, intermediate_size=1536, num_hidden_layers=30, num_attention_heads=9,
                         num_key_value_heads=3, vocab_size=49152, tie_word_embeddings=True, rope_theta=100000.0,
                         max_position_embeddings=8192, rms_norm_eps=1e-5),
}

def shaped_model(name:str='smollm2-135m', seed:int=0):
    "A random-init `LlamaForCausalLM` with the named shape and the tiny tokenizer; returns (model, tokenizer)"
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    from llmforge.templates import tiny_tokenizer
    tok = tiny_tokenizer()
    cfg = dict(SHAPES[name]); cfg['vocab_size'] = max(cfg['vocab_size'], len(tok))
    torch.manual_seed(seed)
    model = LlamaForCausalLM(LlamaConfig(**cfg, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, bos_token_id=None))
    model.generation_config.pad_token_id, model.generation_config.eos_token_id = tok.pad_token_id, tok.eos_token_id
    return model, tok
