"""From a pile of chat examples to a fine-tuned, evaluated, quantized model: curate, validate, generate, train, evaluate

Modules:

- `llmforge.cli.base`: What every command of `llmforge` shares: reading what a person types, showing examples, the `IO` streams, adding a subcommand, and turning errors into exit codes
- `llmforge.cli.evals`: `llmforge eval` (a model or baseline on the validation split, scored, or judged blind against another) and `llmforge evals` (saved evaluations: list, compare, report)
- `llmforge.example_projects.medical-coding.make_quickstart_data`: Build `llmforge/data/quickstart.jsonl`, the medical-coding data that `llmforge quickstart` trains on"""

__version__ = "0.1.0"
