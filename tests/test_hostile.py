"""Tried as a hostile user would: kill -9 during a bulk import, a full disk, a deleted store, concurrent config writers,
a dry run next to a user's files, many ratings. Each test failed on the code before the fix it checks."""
import json, os, random, shutil, signal, subprocess, sys, time
from pathlib import Path
import pytest

from llmforge.project import Project

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, 'NO_COLOR': '1', 'HF_HUB_OFFLINE': '1'}

def llmforge(*args, timeout=300, **kw):
    return subprocess.run([sys.executable, '-m', 'llmforge', *map(str, args)], capture_output=True, text=True, timeout=timeout, env=ENV, **kw)

def one_line(r, code=1, *contains):
    assert r.returncode == code, (r.returncode, r.stdout[-500:], r.stderr[-1500:])
    assert 'Traceback' not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    for c in contains: assert c in r.stderr, (c, r.stderr)

def chat_lines(n:int, tag:str='q')->str:
    return ''.join(json.dumps({'messages': [{'role': 'user', 'content': f'{tag} {i}: ' + 'how do I sync my notes? ' * 3},
                                            {'role': 'assistant', 'content': f'answer {i}: ' + 'open Settings, then Sync. ' * 4}]}) + '\n'
                   for i in range(n))

@pytest.fixture
def proj(tmp_path):
    p = Project.init(tmp_path/'proj')
    p.add_many([{'messages': [{'role': 'user', 'content': f'seed {i}'}, {'role': 'assistant', 'content': f'seed answer {i}'}]} for i in range(5)])
    return p

# 1. a dry run deleted <output_dir>/dry-run, whatever was in it
def test_dry_run_writes_nothing_of_the_users(tmp_path):
    from llmforge.models import tiny_model
    tiny_model(tmp_path/'base')
    shutil.copy(ROOT/'examples'/'medical-coding'/'stage1.jsonl', tmp_path/'s1.jsonl')
    (tmp_path/'out'/'dry-run').mkdir(parents=True)
    (tmp_path/'out'/'dry-run'/'my-notes.txt').write_text('mine')
    (tmp_path/'t.yaml').write_text('kind: train\nstage: 1\nbase_model: base\ndata: s1.jsonl\noutput_dir: out\n'
                                   'training: {batch_size: 4, max_seq_len: 256, max_steps: 2}\n')
    r = llmforge('train', tmp_path/'t.yaml', '--dry-run', '--json')
    assert r.returncode == 0, r.stderr[-1000:]
    assert (tmp_path/'out'/'dry-run'/'my-notes.txt').read_text() == 'mine'
    assert sorted(p.name for p in (tmp_path/'out').iterdir()) == ['dry-run']

# 2. a bulk import killed half-way left thousands of examples and a cut-off line
def test_killed_import_is_all_or_nothing(proj, tmp_path):
    (tmp_path/'big.jsonl').write_text(chat_lines(20_000))
    before = {e.id for e in proj}
    rng, outcomes, t0 = random.Random(0), [], time.time()
    store = proj.path/'data'/'examples.jsonl'
    for trial in range(10):
        size0 = store.stat().st_size
        p = subprocess.Popen([sys.executable, '-m', 'llmforge', 'add', '--jsonl', str(tmp_path/'big.jsonl'), '-p', str(proj.path)],
                             env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if trial % 2:                               # at a random moment
            time.sleep(rng.uniform(0.3, 2.0))
        else:                                       # the moment the writing starts, plus up to 20 ms
            while p.poll() is None and store.stat().st_size == size0 and not any(store.parent.glob('.examples.jsonl.*.tmp')):
                time.sleep(0.0005)
            time.sleep(rng.uniform(0, 0.02))
        p.send_signal(signal.SIGKILL); p.wait()
        data = store.read_bytes()
        assert data.endswith(b'\n')                                   # no cut-off last line
        n = len(Project(proj.path))
        assert n in (len(before), len(before) + 20_000), n            # nothing or everything
        outcomes.append(n > len(before))
        if n > len(before): Project(proj.path).store.replace_all(lambda exs: [e for e in exs if e.id in before])
    assert time.time() - t0 < 60
    print(f'\nkilled imports: {sum(outcomes)} of {len(outcomes)} had committed, none half-way')

def _in_small_tmpfs(script:str, cwd:Path)->subprocess.CompletedProcess:
    "Run a shell script in a private mount namespace where `cwd`/disk is a 256 KiB tmpfs (root only)"
    return subprocess.run(['unshare', '-m', 'sh', '-c', f'mount -t tmpfs -o size=256k tmpfs disk && {script}'],
                          cwd=cwd, capture_output=True, text=True, timeout=120, env=ENV)

def test_full_disk_import_is_one_line_and_changes_nothing(tmp_path):
    probe = subprocess.run(['unshare', '-m', 'sh', '-c', f'mount -t tmpfs -o size=64k tmpfs {tmp_path}'], capture_output=True)
    if probe.returncode: pytest.skip('cannot mount a small tmpfs here (needs root and mount namespaces)')
    (tmp_path/'disk').mkdir()
    (tmp_path/'chats.jsonl').write_text(chat_lines(3000))     # about 550 kB: more than the disk holds
    py = sys.executable
    script = (f'{py} -m llmforge init disk/p --yes >/dev/null && {py} -m llmforge add --jsonl chats.jsonl -p disk/p; echo "rc=$?"; '
              f'{py} -c "from llmforge.project import Project; print(\'stored\', len(Project(\'disk/p\')))"')
    r = _in_small_tmpfs(script, tmp_path)
    err = [l for l in r.stderr.splitlines() if l.strip()]
    assert 'rc=1' in r.stdout and 'stored 0' in r.stdout, (r.stdout, r.stderr)
    assert len(err) == 1 and 'Traceback' not in r.stderr and 'nothing of these 3000 example(s) was stored' in err[0], r.stderr

# 3. a deleted store read as an empty project, and `format` then emptied train.jsonl/val.jsonl
def test_missing_store_is_an_error_and_exports_are_kept(proj):
    proj.split(); [proj.rate(e.id, 9) for e in proj]
    assert llmforge('format', '--to', 'openai', '-p', proj.path).returncode == 0
    kept = {f: (proj.path/'data'/f).read_bytes() for f in ('train.jsonl', 'val.jsonl')}
    (proj.path/'data'/'examples.jsonl').unlink()
    for cmd in (['format', '--to', 'openai'], ['stats'], ['split']):
        one_line(llmforge(*cmd, '-p', proj.path), 1, 'examples.jsonl: the example store is missing')
    assert {f: (proj.path/'data'/f).read_bytes() for f in kept} == kept

def test_export_never_replaces_records_with_nothing(proj):
    proj.split(); [proj.rate(e.id, 9) for e in proj]
    assert llmforge('format', '--to', 'openai', '-p', proj.path).returncode == 0
    train = (proj.path/'data'/'train.jsonl').read_bytes()
    one_line(llmforge('format', '--to', 'openai', '--threshold', '10', '-p', proj.path), 1, 'and this export has none for train', '--allow-empty')
    assert (proj.path/'data'/'train.jsonl').read_bytes() == train and train
    assert llmforge('format', '--to', 'openai', '--threshold', '10', '--allow-empty', '-p', proj.path).returncode == 0
    assert (proj.path/'data'/'train.jsonl').read_bytes() == b''

# 4. lost updates of llmforge.json: a run recorded from a stale config reverted a split, and two runs shared an id
def test_config_changes_are_never_lost(proj):
    from llmforge.train import record_run
    training = Project(proj.path)                     # a training run opens the project, then works for a while...
    assert llmforge('split', '--ratio', '0.7', '-p', proj.path).returncode == 0   # ...while the user splits
    other = Project(proj.path)                        # an overlapping second run
    ids = [p.add_run({'kind': 'sft', 'status': 'completed'})['id'] for p in (training, other)]
    cfg = Project(proj.path).config
    assert cfg.split['ratio'] == 0.7 and ids == ['run-001', 'run-002'] and [r['id'] for r in cfg.runs] == ids

def test_concurrent_runs_get_unique_ids(proj):
    code = f"from llmforge.project import Project; p = Project({str(proj.path)!r}); print(p.add_run({{'kind': 'sft'}})['id'])"
    ps = [subprocess.Popen([sys.executable, '-c', code], stdout=subprocess.PIPE, text=True, env=ENV) for _ in range(6)]
    got = sorted(p.communicate(timeout=60)[0].strip() for p in ps)
    assert got == [f'run-{i:03d}' for i in range(1, 7)] and len(Project(proj.path).config.runs) == 6

def test_run_paths_are_project_relative(proj, tmp_path):
    r = proj.add_run({'kind': 'sft', 'paths': {'output': proj.path/'runs'/'x'/'adapter', 'log': str(tmp_path/'elsewhere.json')}})
    assert r['paths'] == {'output': 'runs/x/adapter', 'log': str(tmp_path/'elsewhere.json')}
    assert proj.resolve(r['paths']['output']) == proj.path/'runs'/'x'/'adapter'

# 6. ratings never compacted the store; taken ids were renamed silently; a line's "split": "val" went straight into val
def test_many_ratings_compact_the_store(proj):
    ids = [e.id for e in proj]
    for i in range(1300): proj.rate(ids[i % len(ids)], 1 + i % 10)
    lines = (proj.path/'data'/'examples.jsonl').read_bytes().count(b'\n')
    assert lines <= 1000 + len(ids) and len(Project(proj.path)) == len(ids), lines
    assert Project(proj.path)[ids[0]].rating == 6          # its last rating: i = 1295, 1 + 1295 % 10

def test_import_reports_renamed_ids_and_keeps_val_locked(proj, tmp_path):
    e = next(iter(proj))
    line = {**e.to_dict(), 'messages': [{'role': 'user', 'content': 'new question'}, {'role': 'assistant', 'content': 'new answer'}], 'split': 'val'}
    (tmp_path/'in.jsonl').write_text(json.dumps(line) + '\n')
    r = llmforge('add', '--jsonl', tmp_path/'in.jsonl', '-p', proj.path, '--json')
    out = json.loads(r.stdout)
    assert r.returncode == 0 and out['added'] == 1 and out['renamed'] == 1 and out['unsplit'] == 1
    p = Project(proj.path)
    assert p[e.id].response == e.response and not any(x.split == 'val' for x in p)
    r = llmforge('add', '--jsonl', tmp_path/'in.jsonl', '-p', proj.path, '--keep-split', '--keep-duplicates')
    assert r.returncode == 0 and sum(x.split == 'val' for x in Project(proj.path)) == 1

# 10. a 50-byte GGUF claiming an array of 2^62 values hung `info` and `convert` (15.7 GB after 762 s)
def test_hostile_gguf_fails_at_once(tmp_path):
    import struct
    (tmp_path/'bomb.gguf').write_bytes(b'GGUF' + struct.pack('<IQQ', 3, 0, 1) + struct.pack('<Q', 4) + b'evil' + struct.pack('<IIQ', 9, 4, 2**62))
    for args in (['info', tmp_path/'bomb.gguf'], ['convert', tmp_path/'bomb.gguf', '--to', 'hf', '-o', tmp_path/'out']):
        t0 = time.time()
        one_line(llmforge(*args, timeout=30), 1, 'corrupt or truncated GGUF header')
        assert time.time() - t0 < 10 and not (tmp_path/'out').exists()

# 11. a YAML alias bomb made `config validate` climb past 2.4 GB
def test_yaml_alias_bomb_is_refused(tmp_path):
    lines = ['kind: data', 'stage: 1', 'train: t.jsonl', 'l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]']
    lines += [f'l{i}: &l{i} [' + ', '.join([f'*l{i-1}'] * 9) + ']' for i in range(1, 12)]
    (tmp_path/'bomb.yaml').write_text('\n'.join(lines) + '\n')
    t0 = time.time()
    one_line(llmforge('config', 'validate', tmp_path/'bomb.yaml', timeout=30), 1, 'aliases expand to more than 100,000 values')
    assert time.time() - t0 < 10

# 14. learning_rate: .inf passed validation and training saved 28/28 NaN tensors; --max-steps -5 trained nothing, exit 0
def test_values_that_would_train_garbage_are_refused(tmp_path):
    (tmp_path/'t.jsonl').write_text(chat_lines(4))
    base = 'kind: train\nstage: 1\nbase_model: m\ndata: t.jsonl\n'
    for extra, msg in (('training: {learning_rate: .inf}', 'training.learning_rate: must be a finite number'),
                       ('training: {max_grad_norm: .nan}', 'training.max_grad_norm: must be a finite number'),
                       ('lora: {r: 100000000}', 'lora.r: 100000000 is beyond any sensible run')):
        (tmp_path/'c.yaml').write_text(base + extra + '\n')
        one_line(llmforge('config', 'validate', tmp_path/'c.yaml'), 1, msg)
    (tmp_path/'c.yaml').write_text(base)
    one_line(llmforge('train', tmp_path/'c.yaml', '--max-steps', '-5'), 1, 'max steps must be at least 1, got -5')

def test_a_diverging_run_stops_and_saves_nothing(tmp_path):
    from llmforge.core import LLMForgeError
    from llmforge.models import tiny_model
    from llmforge.configs import OptimConfig
    from llmforge.train import train_sft
    model, tok = tiny_model()
    rows = [json.loads(l)['messages'] for l in chat_lines(16).splitlines()]
    with pytest.raises(LLMForgeError, match=r'training stopped at step \d+: the loss is nan; nothing was saved'):
        train_sft(model, tok, rows, tmp_path/'run', progress=False,
                  training=OptimConfig(learning_rate=1e30, max_grad_norm=0, max_steps=6, batch_size=4))
    assert not (tmp_path/'run'/'adapter').exists()

# 17. doctor warned that openai and trl were missing, though llmforge imports neither
def test_doctor_lists_only_what_llmforge_uses():
    names = {c['name'] for c in json.loads(llmforge('doctor', '--offline', '--json').stdout)}
    assert 'trl' not in names and 'openai' not in names and 'peft' in names

# 7. `eval --endpoint URL` and `generate --base-url URL` sent $OPENAI_API_KEY to any server, in plain HTTP
def test_keys_go_only_where_they_belong(tmp_path):
    from llmforge.generate.server import FakeAPI
    p = Project.init(tmp_path/'p', domain='medical'); p.import_jsonl(ROOT/'examples'/'medical-coding'/'stage1.jsonl'); p.split()
    api = FakeAPI().start()
    env = {**ENV, 'OPENAI_API_KEY': 'sk-must-not-leave', 'MY_SERVER_KEY': 'k-paired'}
    run = lambda *a: subprocess.run([sys.executable, '-m', 'llmforge', *map(str, a)], capture_output=True, text=True, timeout=120, env=env)
    try:
        r = run('eval', '-p', p.path, '--endpoint', api.url + '/v1', '--limit', '2', '--n-boot', '20')
        assert r.returncode == 0, r.stderr
        r = run('generate', '-p', p.path, '--recipe', 'medical-stage1', '--count', '1', '--model', 'gpt-x', '--backend', 'openai',
                '--base-url', api.url + '/v1', '--price', '0,0', '--quiet')
        assert api.keys and not any(k and 'sk-must-not-leave' in k for k in api.keys), api.keys      # never sent to a stranger
        n = len(api.keys)
        r = run('eval', '-p', p.path, '--endpoint', api.url + '/v1', '--limit', '1', '--n-boot', '20', '--api-key-env', 'MY_SERVER_KEY')
        assert r.returncode == 0 and api.keys[n:] and all(k == 'Bearer k-paired' for k in api.keys[n:]), (r.stderr, api.keys[n:])
    finally: api.stop()
    r = run('eval', '-p', p.path, '--endpoint', 'http://example.invalid:9/v1', '--limit', '1', '--api-key-env', 'MY_SERVER_KEY')
    one_line(r, 1, 'refusing to send $MY_SERVER_KEY to http://example.invalid:9/v1 over plain HTTP')

# 9. `generate --dry-run` with the Anthropic backend called the API to count tokens, and failed offline
def test_dry_run_works_offline(tmp_path):
    Project.init(tmp_path/'p', domain='medical')
    env = {**ENV, 'ANTHROPIC_API_KEY': 'k', 'ANTHROPIC_BASE_URL': 'http://127.0.0.1:9'}    # nothing listens there
    r = subprocess.run([sys.executable, '-m', 'llmforge', 'generate', '-p', str(tmp_path/'p'), '--recipe', 'medical-stage1', '--count', '3',
                        '--model', 'claude-haiku-4-5', '--dry-run', '--json'], capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    est = json.loads(r.stdout)['estimate']
    assert est['requests'] == 3 and not est['exact'] and est['input_tokens'] > 0

# 8. keys nested under split or runs[] in llmforge.json were accepted and printed by `status --json`
def test_nested_secrets_in_the_config_are_refused_and_never_printed(proj):
    cfg = json.loads((proj.path/'llmforge.json').read_text())
    for where in ('split', 'runs'):
        bad = json.loads(json.dumps(cfg))
        if where == 'split': bad['split']['token'] = 'sk-nested-secret'
        else: bad['runs'] = [{'id': 'run-001', 'hosted': {'api_key': 'sk-nested-secret'}}]
        (proj.path/'llmforge.json').write_text(json.dumps(bad))
        for cmd in (['status', '--json', '--all'], ['stats', '--json']):
            r = llmforge(*cmd, '-p', proj.path)
            one_line(r, 1, 'secrets do not belong in the project config')
            assert 'sk-nested-secret' not in r.stdout + r.stderr

# 16. `eval --save` outside a project exited 0 and saved nothing
def test_eval_save_outside_a_project_says_so(tmp_path):
    data = ROOT/'examples'/'medical-coding'/'stage1.jsonl'
    r = llmforge('eval', '--data', data, '--train', data, '--baseline', 'keyword', '--save', '-p', tmp_path, cwd=tmp_path)
    one_line(r, 1, '--save keeps the evaluation in a project')

# 21. saved evaluations overwrote each other: the base and the base with an adapter had the same name
def test_saved_evaluations_never_overwrite_and_name_the_adapter(proj):
    from llmforge.evaluation import system_name
    assert system_name('models/tiny', 'runs/run-003/adapter') == 'tiny+run-003' and system_name('models/tiny') == 'tiny'
    p = Project.init(proj.path.parent/'med', domain='medical')
    p.import_jsonl(ROOT/'examples'/'medical-coding'/'stage1.jsonl'); p.split()
    saved = [json.loads(llmforge('eval', '-p', p.path, '--baseline', 'keyword', '--save', '--json', '--n-boot', '20').stdout)['saved'] for _ in range(2)]
    assert len(set(saved)) == 2 and all(Path(s).exists() for s in saved) and Path(saved[1]).name.startswith('eval-keyword-2-')

# 13. a 1 GB sparse file given to `validate` was refused, but only after taking 2.1-3.1 GB of memory
def test_validate_memory_is_bounded_by_the_line_length(tmp_path):
    big = tmp_path/'sparse.jsonl'
    with open(big, 'wb') as f: f.truncate(1 << 30)                     # 1 GB of NUL bytes, no newline
    code = (f"import resource, subprocess, sys; r = subprocess.run([sys.executable, '-m', 'llmforge', 'validate', {str(big)!r}], capture_output=True, text=True); "
            "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024); print(r.stderr + r.stdout, file=sys.stderr)")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120, env=ENV)
    rc, peak_mb = map(int, r.stdout.split())
    assert rc == 1 and 'more than a record may be' in r.stderr and 'Traceback' not in r.stderr, r.stderr[-800:]
    assert peak_mb < 500, peak_mb                                       # bounded by MAX_LINE, not by the file

# 15. tracebacks instead of one line: a corpus of hostile inputs through the CLI; any traceback fails the test
def _corpus(tmp_path:Path)->list:
    import struct
    d = tmp_path/'corpus'; d.mkdir()
    msgs = [{'role': 'user', 'content': 'café'}, {'role': 'assistant', 'content': 'b'}]
    (d/'array.jsonl').write_text(json.dumps([{'messages': msgs}]))
    (d/'utf16.jsonl').write_bytes(json.dumps({'messages': msgs}).encode('utf-16'))
    (d/'cp1252.jsonl').write_bytes(json.dumps({'messages': msgs}, ensure_ascii=False).encode('cp1252'))
    (d/'bignum.jsonl').write_text('{"messages": ' + json.dumps(msgs) + ', "rating": ' + '9' * 5001 + '}\n')
    (d/'m-list').mkdir(); (d/'m-list'/'config.json').write_text('[]')
    (d/'m-dir').mkdir(); (d/'m-dir'/'config.json').mkdir()
    (d/'m-st').mkdir()                            # safetensors whose header points past the end of the file
    (d/'m-st'/'config.json').write_text(json.dumps({'architectures': ['LlamaForCausalLM'], 'hidden_size': 256, 'num_attention_heads': 4,
                                                     'num_hidden_layers': 1, 'intermediate_size': 512, 'vocab_size': 8}))
    hdr = json.dumps({'model.embed_tokens.weight': {'dtype': 'F32', 'shape': [8, 256], 'data_offsets': [0, 10**9]}}).encode()
    (d/'m-st'/'model.safetensors').write_bytes(struct.pack('<Q', len(hdr)) + hdr + b'\0' * 64)
    Project.init(d/'p')
    return [['validate', d/'array.jsonl'], ['validate', d/'utf16.jsonl'], ['validate', d/'cp1252.jsonl'], ['validate', d/'bignum.jsonl'],
            ['add', '-p', d/'p', '--jsonl', d/'bignum.jsonl'], ['add', '-p', d/'p', '--jsonl', d/'utf16.jsonl'],
            ['info', d/'m-list'], ['info', d/'m-dir'], ['convert', d/'m-list', '--to', 'gguf', '-o', d/'z.gguf'],
            ['quantize', d/'m-list', '--format', 'gguf', '--type', 'Q8_0', '-o', d/'x.gguf'], ['quantize', d/'m-dir', '-o', d/'y.gguf'],
            ['quantize', d/'m-st', '--format', 'gguf', '--type', 'F16', '-o', d/'st.gguf'], ['validate', d/'p', '--model', d/'m-list'],
            ['config', 'validate', d], ['stats', '-p', d/'array.jsonl'], ['format', '-p', d/'p', '--out', d/'array.jsonl']]

def test_hostile_inputs_give_one_line_never_a_traceback(tmp_path):
    for args in _corpus(tmp_path):
        r = llmforge(*args, timeout=120)
        assert r.returncode in (1, 2, 3, 4, 5) and 'Traceback' not in r.stderr, (args, r.returncode, r.stderr[-1500:])
        err = r.stderr.strip().splitlines()          # validate's report goes to stdout; anything on stderr is llmforge's one line
        assert (not err and r.stdout.strip()) or err[-1].startswith('llmforge '), (args, r.stderr[-500:])
    assert not (tmp_path/'corpus'/'st.gguf').exists()      # no partial output left behind

def test_a_closed_pipe_is_not_an_error(tmp_path):
    p = Project.init(tmp_path/'p'); p.add(input='q', output='a')
    r = subprocess.run(f'{sys.executable} -m llmforge stats -p {p.path} | head -c 1', shell=True, capture_output=True, text=True, env=ENV, timeout=60)
    assert 'Traceback' not in r.stderr and 'BrokenPipe' not in r.stderr, r.stderr

def test_read_only_and_full_disk_projects_are_one_line(tmp_path):
    probe = subprocess.run(['unshare', '-m', 'sh', '-c', f'mount -t tmpfs -o size=64k tmpfs {tmp_path}'], capture_output=True)
    if probe.returncode: pytest.skip('cannot mount a tmpfs here (needs root and mount namespaces)')
    (tmp_path/'disk').mkdir()
    py = f'{sys.executable} -m llmforge'
    script = (f'{py} init disk/p --yes >/dev/null && {py} add -p disk/p --input /etc/hostname --output /etc/hostname >/dev/null && '
              f'mount -o remount,ro disk && '
              f'{py} add -p disk/p --input /etc/hostname --output /etc/os-release; echo "rc=$?"; {py} split -p disk/p; echo "rc=$?"; '
              f'{py} format -p disk/p; echo "rc=$?"')
    r = _in_small_tmpfs(script, tmp_path)
    assert r.stdout.count('rc=1') == 3 and 'Traceback' not in r.stderr, (r.stdout, r.stderr[-2000:])
    errs = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(errs) == 3 and all(l.startswith('llmforge ') and 'Read-only file system' in l for l in errs), errs

# 19. `preprocess` let PHI through when content was OpenAI's list-of-parts form (exit 0); as a string it was scrubbed
def test_preprocess_scrubs_every_content_form(tmp_path):
    text = 'Mr. John Carter, DOB 03/04/1950, seen for type 2 diabetes without complications today.'
    rows = [{'messages': [{'role': 'user', 'content': text}, {'role': 'assistant', 'content': 'ICD10: E11.9'}]},
            {'messages': [{'role': 'user', 'content': [{'type': 'text', 'text': text}]}, {'role': 'assistant', 'content': 'ICD10: E11.9'}]}]
    (tmp_path/'raw.jsonl').write_text(''.join(json.dumps(r) + '\n' for r in rows))
    r = llmforge('preprocess', tmp_path/'raw.jsonl', tmp_path/'clean.jsonl')
    assert r.returncode == 0, r.stderr
    out = (tmp_path/'clean.jsonl').read_text()
    assert 'John' not in out and '1950' not in out and out.count('[NAME]') == 2, out

# 18. `validate` passed what `add` refused: `name`, `tool_calls`, a weight on a user message, `weight: 0.5`
@pytest.mark.parametrize('bad', [{'role': 'user', 'content': 'hi', 'name': 'bob'}, {'role': 'user', 'content': 'hi', 'weight': 1},
                                 {'role': 'user', 'content': 'hi', 'tool_calls': []}, {'role': 'user', 'content': 'hi', 'x': 1}])
def test_validate_and_add_agree(proj, tmp_path, bad):
    rec = {'messages': [bad, {'role': 'assistant', 'content': 'hello there', 'weight': 0.5 if 'x' in bad else 1}]}
    (tmp_path/'one.jsonl').write_text(json.dumps(rec) + '\n')
    a = llmforge('add', '-p', proj.path, '--jsonl', tmp_path/'one.jsonl')
    v = llmforge('validate', tmp_path/'one.jsonl', '--json')
    assert a.returncode == 1 and v.returncode == 1, (a.stderr, v.stdout[-500:])
    said = a.stderr.strip().split('messages[0]', 1)[1]                   # add's words for the problem...
    assert said.split(' (allowed')[0] in v.stdout, (said, v.stdout[-800:])  # ...are validate's

# 12. a chat template with nested loops hung `validate --model` (> 30 s) and `eval --model` (> 90 s)
@pytest.mark.parametrize('cmd', ['validate', 'eval'])
def test_a_hostile_chat_template_is_refused_in_bounded_time(tmp_path, cmd):
    from llmforge.models import tiny_model
    tiny_model(tmp_path/'m')
    (tmp_path/'m'/'chat_template.jinja').write_text('{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}')
    p = Project.init(tmp_path/'p'); p.import_jsonl(ROOT/'examples'/'medical-coding'/'stage1.jsonl'); p.split()
    args = ['validate', p.path, '--model', tmp_path/'m'] if cmd == 'validate' else ['eval', '-p', p.path, '--model', tmp_path/'m', '--limit', '2']
    t0 = time.time()
    one_line(llmforge(*args, timeout=60), 1, 'did not render a three-message conversation within 5 s')
    assert time.time() - t0 < 20

# 20. the generation gate let in what `validate` rejects, placeholders, and narratives that give their answer away
def test_generation_gate_is_the_validator_plus_recipe_checks(tmp_path):
    from llmforge.generate.teachers import OpenAICompatibleTeacher
    from llmforge.generate.server import FakeAPI, recipe_answer
    from llmforge.generate.recipes import generate
    from llmforge.validators import validate_project
    bad = iter(['{{Your response}}', 'leak', 'ICEP: 082506'] * 10)
    def responder(system, messages):
        d = json.loads(recipe_answer(system, messages)); kind = next(bad)
        if kind == 'leak': d['narrative'] += f" [Code: {d['code']}] [Description: as documented]"
        else: d['code'] = kind
        return json.dumps(d)
    api = FakeAPI(responder).start()
    try:
        p = Project.init(tmp_path/'p', domain='medical')
        r = generate(p, 'medical-stage1', OpenAICompatibleTeacher('local', base_url=api.url + '/v1'), count=6, seed=1, retries=0)
        assert r.added == 0 and r.rejected == 6, r.to_dict()
        assert api.json_mode and all(api.json_mode)                                   # asked for JSON output
        est = generate(p, 'medical-stage1', OpenAICompatibleTeacher('local', base_url=api.url + '/v1'), count=3, seed=2, dry_run=True, retries=2,
                       prices={'local': (1.0, 2.0)}).estimate
        assert est['cost_max'] > 0 and est['cost_max_with_reasks'] == round(est['cost_max'] * 3, 6)
    finally: api.stop()
    assert validate_project(Project(p.path)).ok

def test_from_seeds_in_a_medical_project_asks_for_clinical_examples(tmp_path):
    from llmforge.generate.recipes import get_recipe, MEDICAL_ANGLES, ANGLES
    p = Project.init(tmp_path/'p', domain='medical'); p.import_jsonl(ROOT/'examples'/'medical-coding'/'stage1.jsonl')
    for e in p: p.rate(e.id, 9)
    texts = [it.request.messages[0]['content'] for it in get_recipe('from-seeds').items(8, project=Project(p.path))]
    assert all(any(a in t for a in MEDICAL_ANGLES) for t in texts) and not any(a in t for t in texts for a in ANGLES)
