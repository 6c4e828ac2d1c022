"The `llmforge` command's contract: exit codes, one-line errors, --json, interactive flows, nothing lost."
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest
from llmforge.project import Project

CLI = [sys.executable, '-m', 'llmforge']
EXAMPLES = Path(__file__).resolve().parent.parent/'examples'

def llmforge(*args, stdin='', env=None, cwd=None):
    "Run the real command in a subprocess"
    return subprocess.run(CLI + [str(a) for a in args], input=stdin, capture_output=True, text=True, timeout=60,
                          env={**os.environ, 'NO_COLOR': '1', **(env or {})}, cwd=cwd)

def one_line_error(r, *contains):
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and 'Traceback' not in r.stderr, r.stderr
    for c in contains: assert c in r.stderr, (c, r.stderr)

@pytest.fixture
def proj(tmp_path):
    r = llmforge('init', tmp_path/'p', '--yes', '--system-prompt', 'Be kind.')
    assert r.returncode == 0, r.stderr
    return tmp_path/'p'

def add_qa(proj, n, prefix='q'):
    p = Project(proj)
    p.add_many([{'messages': [{'role': 'user', 'content': f'{prefix} {i}'}, {'role': 'assistant', 'content': f'answer {i}'}]} for i in range(n)])

# --- usage and help ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('cmd', ['init', 'add', 'rate', 'stats', 'split', 'format', 'export'])
def test_help_for_every_command(cmd):
    r = llmforge(cmd, '--help')
    assert r.returncode == 0 and f'usage: llmforge {"format" if cmd == "export" else cmd}' in r.stdout and 'exit codes' in r.stdout

def test_usage_errors_exit_2(proj):
    assert llmforge().returncode == 2
    assert llmforge('frobnicate').returncode == 2
    r = llmforge('add', '-p', proj, '--rating', '11', '--input', 'x', '--output', 'y')
    assert r.returncode == 2 and 'expected a whole number 1-10' in r.stderr
    assert llmforge('format', '-p', proj, '--to', 'csv').returncode == 2

def test_version():
    r = llmforge('--version')
    assert r.returncode == 0 and r.stdout.startswith('llmforge ')

def test_help_imports_nothing_heavy():
    code = 'import sys, llmforge.cli; sys.argv=["llmforge","--help"]\ntry: llmforge.cli.main()\nexcept SystemExit: pass\nprint(sorted(m for m in ("torch","transformers","datasets","numpy","pandas","filelock") if m in sys.modules))'
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert r.stdout.strip().splitlines()[-1] == '[]', r.stdout

def test_not_a_project_is_one_line(tmp_path):
    for cmd in ('stats', 'rate', 'split', 'format', 'add'):
        one_line_error(llmforge(cmd, '-p', tmp_path), 'is not an llmforge project', 'llmforge init')

# --- init ----------------------------------------------------------------------------------------------------------

def test_init_interactive(tmp_path):
    r = llmforge('init', tmp_path/'x', stdin='My bot\nacme\nopenai\nmy-base\nBe brief.\n')
    assert r.returncode == 0, r.stderr
    assert 'choose one of' in r.stdout  # 'acme' is re-asked
    cfg = json.loads((tmp_path/'x'/'llmforge.json').read_text())
    assert (cfg['name'], cfg['provider'], cfg['base_model'], cfg['system_prompt']) == ('My bot', 'openai', 'my-base', 'Be brief.')
    for f in ('examples', 'train', 'val'): assert (tmp_path/'x'/'data'/f'{f}.jsonl').exists()

def test_init_refuses_existing_project(proj):
    before = (proj/'llmforge.json').read_bytes()
    one_line_error(llmforge('init', proj, '--yes', '--name', 'other'), 'already holds a project')
    assert (proj/'llmforge.json').read_bytes() == before

def test_init_no_stdin_takes_defaults(tmp_path):
    r = llmforge('init', tmp_path/'d')
    assert r.returncode == 0
    assert json.loads((tmp_path/'d'/'llmforge.json').read_text())['provider'] == 'together'

def test_config_has_no_secrets(tmp_path, proj):
    cfg = json.loads((proj/'llmforge.json').read_text())
    cfg['api_key'] = 'sk-123'
    (proj/'llmforge.json').write_text(json.dumps(cfg))
    one_line_error(llmforge('stats', '-p', proj), 'llmforge.json: api_key: secrets do not belong')

# --- add -----------------------------------------------------------------------------------------------------------

def test_add_pasted(proj):
    r = llmforge('add', '-p', proj, '--rating', '7', stdin='How do I\nreset it?\n.\nClick Reset.\n')
    assert r.returncode == 0 and 'Added example' in r.stdout
    (ex,) = Project(proj).examples
    assert (ex.prompt, ex.response, ex.rating, ex.source) == ('How do I\nreset it?', 'Click Reset.', 7, 'cli')
    assert ex.created_at and ex.updated_at

def test_add_pasted_empty_is_refused(proj):
    one_line_error(llmforge('add', '-p', proj, stdin='.\n.\n'), 'must both be non-empty')
    assert len(Project(proj)) == 0

def test_add_files(proj, tmp_path):
    (tmp_path/'a.txt').write_text('\ufeffWhat is 2+2?\r\n', encoding='utf-8')
    (tmp_path/'b.txt').write_text('4', encoding='utf-8')
    r = llmforge('add', '-p', proj, '--input', tmp_path/'a.txt', '--output', tmp_path/'b.txt', '--json')
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d['messages'][0]['content'].strip() == 'What is 2+2?' and d['source'] == 'file'
    one_line_error(llmforge('add', '-p', proj, '--input', tmp_path/'a.txt'), 'needs both --input FILE and --output FILE')
    one_line_error(llmforge('add', '-p', proj, '--input', tmp_path/'nope.txt', '--output', tmp_path/'b.txt'), 'nope.txt: file not found')
    (tmp_path/'bad.txt').write_bytes(b'caf\xe9')
    one_line_error(llmforge('add', '-p', proj, '--input', tmp_path/'bad.txt', '--output', tmp_path/'b.txt'), 'bad.txt', 'invalid UTF-8')
    assert len(Project(proj)) == 1

def test_add_messages_file(proj, tmp_path):
    conv = [{'role': 'user', 'content': 'Hi'}, {'role': 'assistant', 'content': 'Hello!'},
            {'role': 'user', 'content': 'Bye'}, {'role': 'assistant', 'content': 'Goodbye!'}]
    (tmp_path/'conv.json').write_text(json.dumps(conv))
    (tmp_path/'wrapped.json').write_text(json.dumps({'messages': conv[:2]}))
    assert llmforge('add', '-p', proj, '--messages', tmp_path/'conv.json').returncode == 0
    assert llmforge('add', '-p', proj, '--messages', tmp_path/'wrapped.json', '--system', 'Be terse.').returncode == 0
    exs = sorted(Project(proj).examples, key=lambda e: e.turns)
    assert [e.turns for e in exs] == [1, 2] and exs[0].system == 'Be terse.'
    (tmp_path/'bad.json').write_text('[{"role": "user", "content": "Hi"},\n {"role": "assistant", "content": ""}]')
    one_line_error(llmforge('add', '-p', proj, '--messages', tmp_path/'bad.json'), 'bad.json', 'messages[1].content: empty content')
    (tmp_path/'broken.json').write_text('[{"role": "user",\n')
    one_line_error(llmforge('add', '-p', proj, '--messages', tmp_path/'broken.json'), 'broken.json:2: invalid JSON')
    assert len(Project(proj)) == 2

def test_add_jsonl_import(proj, tmp_path):
    lines = [{'messages': [{'role': 'user', 'content': f'q{i}'}, {'role': 'assistant', 'content': f'a{i}'}]} for i in range(5)]
    f = tmp_path/'in.jsonl'
    f.write_text('\n'.join(json.dumps(l) for l in lines) + '\n')
    r = llmforge('add', '-p', proj, '--jsonl', f, '--json')
    assert r.returncode == 0 and json.loads(r.stdout)['added'] == 5
    r = llmforge('add', '-p', proj, '--jsonl', f, '--json')
    assert json.loads(r.stdout) == {'added': 0, 'duplicates': 5, 'renamed': 0, 'unsplit': 0, 'problems': []}
    assert all(e.source == 'import:in.jsonl' for e in Project(proj))

def test_add_jsonl_bad_line_changes_nothing(proj, tmp_path):
    add_qa(proj, 3)
    before = (proj/'data'/'examples.jsonl').read_bytes()
    f = tmp_path/'bad.jsonl'
    f.write_text('{"messages":[{"role":"user","content":"x"},{"role":"assistant","content":"y"}]}\n{"messages": [}\n')
    one_line_error(llmforge('add', '-p', proj, '--jsonl', f), f'{f}:2: invalid JSON')
    assert (proj/'data'/'examples.jsonl').read_bytes() == before
    r = llmforge('add', '-p', proj, '--jsonl', f, '--skip-invalid')
    assert r.returncode == 1 and 'added 1' in r.stdout and f'{f}:2' in r.stdout
    assert len(Project(proj)) == 4

# --- rate ----------------------------------------------------------------------------------------------------------

def test_rate_session(proj):
    add_qa(proj, 4)
    ids = [e.id for e in Project(proj)]
    # rate 1st 9; 'x' is no choice; skip 2nd; back; rewrite 2nd then rate 8; 3rd 3; quit before the 4th
    r = llmforge('rate', '-p', proj, stdin='9\nx\ns\nb\nr\nA much better answer.\n.\n8\n3\nq\n')
    assert r.returncode == 0, r.stderr
    assert "'x' is not a choice" in r.stdout and 'Rated 3 (1 rewritten), skipped 0; 1 unrated example left.' in r.stdout
    p = Project(proj)
    assert [p[i].rating for i in ids] == [9, 8, 3, None]
    assert (p[ids[1]].response, p[ids[1]].original[-1].content) == ('A much better answer.', 'answer 1')
    assert 'SYSTEM (project)' in r.stdout and 'Be kind.' in r.stdout
    # --min 8 re-reviews the one rated 3 only
    r = llmforge('rate', '-p', proj, '--min', '8', stdin='7\n')
    assert 'To review: 1 example rated below 8.' in r.stdout and Project(proj)[ids[2]].rating == 7

def test_rate_end_of_input_keeps_ratings(proj):
    add_qa(proj, 3)
    r = llmforge('rate', '-p', proj, stdin='10\n')
    assert r.returncode == 0 and '2 unrated examples left' in r.stdout
    assert sorted(e.rating or 0 for e in Project(proj)) == [0, 0, 10]

def test_rate_rewrite_in_editor(proj, tmp_path):
    add_qa(proj, 1)
    ed = tmp_path/'ed.py'
    ed.write_text('import sys\nopen(sys.argv[1], "w").write("Edited answer.\\n")\n')
    r = llmforge('rate', '-p', proj, stdin='e\n9\n', env={'EDITOR': f'{sys.executable} {ed}'})
    assert r.returncode == 0, r.stderr
    (ex,) = Project(proj).examples
    assert (ex.response, ex.rating, ex.original[-1].content) == ('Edited answer.', 9, 'answer 0')

def test_rate_interrupt_keeps_what_was_saved(proj):
    add_qa(proj, 3)
    # a shell's background job starts with SIGINT ignored, and Python then installs no KeyboardInterrupt handler: restore
    # the default in the child so the test means the same however the suite was launched
    p = subprocess.Popen(CLI + ['rate', '-p', str(proj)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    p.stdin.write('6\n'); p.stdin.flush()
    deadline = time.time() + 20
    while time.time() < deadline and sum(e.rating is not None for e in Project(proj)) < 1: time.sleep(0.05)
    time.sleep(0.2)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=20)
    assert p.returncode == 130 and 'interrupted' in err and 'Traceback' not in err
    assert sorted(e.rating or 0 for e in Project(proj)) == [0, 0, 6]

# --- stats, split, format ------------------------------------------------------------------------------------------

def test_stats(proj):
    add_qa(proj, 5)
    p = Project(proj)
    for e, r in zip(p.examples, [9, 8, 8, 2]): p.rate(e.id, r)
    d = json.loads(llmforge('stats', '-p', proj, '--json').stdout)
    assert (d['total'], d['rated'], d['unrated'], d['above_threshold']) == (5, 4, 1, 3)
    assert d['histogram']['8'] == 2 and d['splits'] == {'train': 0, 'val': 0, 'unsplit': 5}
    assert json.loads(llmforge('stats', '-p', proj, '--json', '--threshold', '9').stdout)['above_threshold'] == 1
    out = llmforge('stats', '-p', proj).stdout
    assert '5 examples: 4 rated, 1 unrated' in out and '█' in out

def test_split_locks_val(proj):
    add_qa(proj, 20)
    r = json.loads(llmforge('split', '-p', proj, '--json').stdout)
    assert (r['train'], r['val']) == (16, 4)
    val = {e.id for e in Project(proj) if e.split == 'val'}
    add_qa(proj, 10, prefix='new')
    r = json.loads(llmforge('split', '-p', proj, '--json').stdout)
    assert (r['new_train'], r['new_val'], r['moved']) == (8, 2, 0)
    assert val <= {e.id for e in Project(proj) if e.split == 'val'}
    before = (proj/'data'/'examples.jsonl').read_bytes()
    one_line_error(llmforge('split', '-p', proj, '--reshuffle', stdin='n\n'), 'reshuffle cancelled')
    one_line_error(llmforge('split', '-p', proj, '--reshuffle'), 'reshuffle cancelled')  # no stdin: no
    assert (proj/'data'/'examples.jsonl').read_bytes() == before
    r = json.loads(llmforge('split', '-p', proj, '--reshuffle', '--yes', '--seed', '3', '--json').stdout)
    assert (r['train'], r['val']) == (24, 6)
    one_line_error(llmforge('split', '-p', proj, '--ratio', '1.5'), 'between 0 and 1')

@pytest.mark.parametrize('fmt', ['openai', 'together'])
def test_format(proj, tmp_path, fmt):
    add_qa(proj, 10)
    p = Project(proj)
    for i, e in enumerate(p.examples): p.rate(e.id, 9 if i < 8 else 4)
    r = llmforge('format', '-p', proj, '--to', fmt, '--json')
    assert json.loads(r.stdout)['unsplit'] == 8 and json.loads(r.stdout)['train'] == 0
    llmforge('split', '-p', proj)
    r = json.loads(llmforge('export', '-p', proj, '--to', fmt, '--out', tmp_path/'out', '--json').stdout)
    assert r['train'] + r['val'] == 8 and r['unsplit'] == 0
    rows = [json.loads(l) for s in ('train', 'val') for l in (tmp_path/'out'/f'{s}.jsonl').read_text().splitlines()]
    assert len(rows) == 8 and all(list(row) == ['messages'] for row in rows)
    assert all(row['messages'][0] == {'role': 'system', 'content': 'Be kind.'} for row in rows)

def test_format_rejects_what_the_provider_would(proj):
    Project(proj).add([{'role': 'user', 'content': 'run'}, {'role': 'tool', 'content': '42'}, {'role': 'assistant', 'content': 'It is 42.'}], rating=9)
    llmforge('split', '-p', proj, '--ratio', '0.5')
    one_line_error(llmforge('format', '-p', proj, '--to', 'together'), "cannot be exported as together", 'a tool message needs the tool_call_id')
    assert llmforge('format', '-p', proj, '--to', 'openai').returncode == 0

def test_bundled_examples_are_valid(tmp_path):
    for name in ('customer-support', 'code-review'):
        d = json.loads(llmforge('stats', '-p', EXAMPLES/name, '--json').stdout)
        assert d['total'] == 20 and d['unrated'] == 0 and d['rewritten'] >= 1 and d['multi_turn'] >= 1
        r = llmforge('format', '-p', EXAMPLES/name, '--out', tmp_path/name, '--json')
        assert r.returncode == 0 and json.loads(r.stdout)['train'] > 0

def test_format_hf_dataset(proj, tmp_path):
    add_qa(proj, 10)
    p = Project(proj)
    for e in p.examples: p.rate(e.id, 8)
    llmforge('split', '-p', proj)
    r = llmforge('format', '-p', proj, '--to', 'hf', '--out', tmp_path/'ds', '--json')
    assert r.returncode == 0, r.stderr
    from datasets import load_from_disk
    ds = load_from_disk(str(tmp_path/'ds'))
    assert (ds['train'].num_rows, ds['validation'].num_rows) == (8, 2)
    assert ds['train'][0]['messages'][0] == {'role': 'system', 'content': 'Be kind.'}

# --- validate, codes, config, doctor -------------------------------------------------------------------------------

def _chat(q, a): return json.dumps({'messages': [{'role': 'user', 'content': q}, {'role': 'assistant', 'content': a}]})

def test_validate_file_exit_codes_and_json(tmp_path):
    good = tmp_path/'good.jsonl'
    good.write_text('\n'.join(_chat(f'Question {i} about exporting notes to PDF files?', f'Answer {i}.') for i in range(5)) + '\n')
    r = llmforge('validate', good)
    assert r.returncode == 0 and '5 records, 0 errors' in r.stdout
    bad = tmp_path/'bad.jsonl'
    bad.write_text(_chat('hi', 'there') + '\n{"messages": 3}\n' + _chat('Call me at (617) 555-0148 please', 'ok') + '\n')
    r = llmforge('validate', bad, '--json')
    d = json.loads(r.stdout)
    assert r.returncode == 1 and d['counts'] == {'schema': 1, 'phi': 1} and d['records'] == 3
    assert d['findings']['schema'][0]['line'] == 2

def test_validate_leakage_between_files(tmp_path):
    (tmp_path/'train.jsonl').write_text(_chat('How do I reset my password for the app?', 'Settings > Account.') + '\n')
    (tmp_path/'val.jsonl').write_text(_chat('how do I reset my password for the app', 'Use the link.') + '\n')
    r = llmforge('validate', tmp_path/'train.jsonl', '--val', tmp_path/'val.jsonl', '--json')
    assert r.returncode == 1 and json.loads(r.stdout)['counts'] == {'leakage': 1}

def test_validate_tokens_with_a_local_model_folder(tmp_path):
    from llmforge.templates import tiny_tokenizer
    tiny_tokenizer(path=tmp_path/'tok')
    f = tmp_path/'d.jsonl'
    f.write_text(_chat('short question here', 'short answer') + '\n' + _chat('a much longer question ' * 20, 'and a long answer ' * 20) + '\n')
    r = llmforge('validate', f, '--model', tmp_path/'tok', '--max-tokens', '60', '--json', env={'HF_HUB_OFFLINE': '1'})
    d = json.loads(r.stdout)
    assert r.returncode == 1 and d['counts'] == {'tokens': 1} and len(d['tokens']) == 2
    one_line_error(llmforge('validate', f, '--model', tmp_path/'nope', env={'HF_HUB_OFFLINE': '1'}), 'cannot load the tokenizer')

def test_validate_project_and_plot(proj, tmp_path):
    add_qa(proj, 6)
    r = llmforge('validate', proj, '--plot', tmp_path/'r.png')
    assert r.returncode == 0 and (tmp_path/'r.png').stat().st_size > 5000

def test_codes_validate():
    r = llmforge('codes', 'validate', 'E11.9', '99213', 'A0428', '--json')
    assert r.returncode == 0 and [d['status'] for d in json.loads(r.stdout)] == ['valid'] * 3
    r = llmforge('codes', 'validate', 'E11.99', 'E11')
    assert r.returncode == 1 and 'invalid' in r.stdout and 'not billable' in r.stdout
    assert llmforge('codes').returncode == 2

def test_config_validate(tmp_path):
    (tmp_path/'t.jsonl').write_text('')
    (tmp_path/'ok.yaml').write_text('kind: train\nstage: 2\nbase_model: m\ndata: t.jsonl\nspecial_tokens: ["<think>", "</think>"]\n')
    r = llmforge('config', 'validate', tmp_path/'ok.yaml', '--json')
    assert r.returncode == 0 and json.loads(r.stdout)[str(tmp_path/'ok.yaml')]['training']['learning_rate'] == 2e-4
    (tmp_path/'bad.yaml').write_text('kind: train\nstage: 2\nbase_model: m\ndata: t.jsonl\ntraining: {lr: 1e-4}\nlora: {r: 0}\n')
    r = llmforge('config', 'validate', tmp_path/'bad.yaml')
    assert r.returncode == 1 and 'training.lr: unknown key' in r.stderr and 'Traceback' not in r.stderr
    one_line_error(llmforge('config', 'validate', tmp_path/'missing.yaml'), 'missing.yaml: file not found')

def test_doctor():
    r = llmforge('doctor', '--offline', '--json', env={'OPENAI_API_KEY': 'sk-secret-123'})
    checks = {c['name']: c for c in json.loads(r.stdout)}
    assert checks['OPENAI_API_KEY']['detail'] == 'set' and 'sk-secret-123' not in r.stdout
    assert checks['python']['status'] == 'ok' and 'disk' in checks and 'accelerator' in checks

def test_train_dry_run_and_run(tmp_path, proj):
    import shutil
    from llmforge.models import tiny_model
    tiny_model(tmp_path/'base')
    shutil.copy(EXAMPLES/'medical-coding'/'stage1.jsonl', tmp_path/'s1.jsonl')
    (tmp_path/'t.yaml').write_text('kind: train\nstage: 1\nbase_model: base\ndata: s1.jsonl\noutput_dir: out\n'
                                   'training: {batch_size: 4, learning_rate: 0.003, max_seq_len: 512, max_steps: 3}\n')
    r = llmforge('train', tmp_path/'t.yaml', '--dry-run', '--json', env={'HF_HUB_OFFLINE': '1'})
    assert r.returncode == 0, r.stderr[-1500:]
    d = json.loads(r.stdout)
    assert d['dry_run'] and d['steps'] == 1 and d['examples'] == 50 and not (tmp_path/'out'/'adapter').exists()
    r = llmforge('train', tmp_path/'t.yaml', '-p', proj, '--json', env={'HF_HUB_OFFLINE': '1'})
    assert r.returncode == 0 and json.loads(r.stdout)['run'] == 'run-001' and (tmp_path/'out'/'adapter').exists()
    (tmp_path/'bad.yaml').write_text('kind: train\nstage: 1\nbase_model: base\ndata: missing.jsonl\n')
    one_line_error(llmforge('train', tmp_path/'bad.yaml', '--dry-run'), 'data: file not found')

def test_user_errors_in_validate_and_eval_are_one_line(tmp_path, proj):
    (tmp_path/'t.jsonl').write_text('')
    (tmp_path/'train.yaml').write_text('kind: train\nstage: 1\nbase_model: m\ndata: t.jsonl\n')
    one_line_error(llmforge('validate', tmp_path/'train.yaml'), 'validate takes a data config')
    (tmp_path/'d.jsonl').write_text(_chat('Question one about exporting?', 'ICD10: E11.9') + '\n')
    one_line_error(llmforge('eval', '-p', proj, '--data', tmp_path/'d.jsonl', '--baseline', 'keyword'), 'baselines learn from training examples')
