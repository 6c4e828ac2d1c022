"""From a pile of chat examples to a fine-tuned, evaluated, quantized model: curate, validate, generate, train, evaluate

Modules:

- `llmforge.example_projects.medical-coding.make_quickstart_data`: Build `llmforge/data/quickstart.jsonl`, the medical-coding data that `llmforge quickstart` trains on"""

__version__ = "0.1.0"
