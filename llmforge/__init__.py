"""From a pile of chat examples to a fine-tuned, evaluated, quantized model: curate, validate, generate, train, evaluate

Modules:

- `llmforge.cli.base`: What every command of `llmforge` shares: reading what a person types, showing examples, the `IO` streams, adding a subcommand, and turning errors into exit codes
- `llmforge.cli.evals`: `llmforge eval` (a model or baseline on the validation split, scored, or judged blind against another) and `llmforge evals` (saved evaluations: list, compare, report)
- `llmforge.compress.ab`: An A/B test of compression settings: the same prompts through a target model uncompressed and at several rates, agreement and tokens saved with intervals, and paired comparisons between the arms
- `llmforge.compress.labels`: Keep/drop labels per word, three ways: from a teacher's compressed versions, from the target model's loss, or from a labelled JSONL
- `llmforge.compress.model`: The keep/drop token classifier on an encoder, the `Compressor` that loads once and compresses prompts and batches, int8 on CPU, and its HTTP endpoint
- `llmforge.compress.train`: Train the keep/drop classifier on labelled prompts, save it, record the run, and evaluate it on held-out prompts: label F1, and whether the compressed prompts get the same answers
- `llmforge.example_projects.medical-coding.make_quickstart_data`: Build `llmforge/data/quickstart.jsonl`, the medical-coding data that `llmforge quickstart` trains on
- `llmforge.example_projects.memory-store.memory_store`: A conversation memory kept compressed: each past turn is stored at a fraction of its tokens by llmforge's prompt compressor, retrieved by word overlap or MinHash similarity, and expanded into the prompt for the next question.
- `llmforge.serve.ship`: The same roles served elsewhere: one Ollama Modelfile per role over a shared backbone GGUF with the role's GGUF LoRA, and the `vllm serve` command for vLLM's multi-LoRA serving"""

__version__ = "0.1.0"
