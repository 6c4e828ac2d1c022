"Reliability: line-precise errors for malformed JSONL, durability under kill -9, and multi-process writers."
import json, random, signal, subprocess, sys, time
from pathlib import Path

import pytest

from llmforge.core import DataError, Example, read_examples
from llmforge.project import Project


# ---------------------------------------------------------------------------------------------------------------
# 1. Malformed JSONL corpus
# ---------------------------------------------------------------------------------------------------------------

_n = 0
def G(eol=b'\n')->bytes:
    "A good, distinct JSONL line (with its end of line)"
    global _n
    _n += 1
    d = {'messages': [{'role': 'user', 'content': f'good question {_n}'}, {'role': 'assistant', 'content': f'good answer {_n}'}]}
    return json.dumps(d).encode() + eol

def B(obj)->bytes:
    "A line from a JSON value (bad at the schema level, valid JSON)"
    return json.dumps(obj, ensure_ascii=False).encode() + b'\n'

U = {'role': 'user', 'content': 'hi'}
A = {'role': 'assistant', 'content': 'hello'}
S = {'role': 'system', 'content': 'be brief'}

def msgs(*ms, **kw): return {'messages': list(ms), **kw}

# (name, file bytes, line of the bad record, substring of the message)
CASES = [
    ('truncated_object',        G() + b'\n' + b'{"messages": [{"role": "user", "content": "hi"}\n' + G(),       3, 'invalid JSON'),
    ('trailing_comma_object',   G() + G() + b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x"}],}\n', 3, 'invalid JSON'),
    ('trailing_comma_array',    b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x"},]}\n' + G(), 1, 'invalid JSON'),
    ('unclosed_string',         G() + b'{"messages": [{"role": "user", "content": "hi}]}\n',                    2, 'invalid JSON'),
    ('json_array_not_object',   G() + b'\n\n' + B([U, A]) + G(),                                                 4, 'expected a JSON object with "messages", got array'),
    ('bare_string',             G() + B('just a string'),                                                        2, 'expected a JSON object with "messages", got string'),
    ('bare_number',             G() + G() + G() + B(42),                                                         4, 'expected a JSON object with "messages", got int'),
    ('missing_messages',        G() + B({'prompt': 'hi', 'completion': 'hello'}),                               2, 'missing "messages"'),
    ('messages_not_list',       G() + b'   \n' + B({'messages': {'role': 'user', 'content': 'hi'}}),            3, 'messages: must be a list of messages, got object'),
    ('messages_empty',          B({'messages': []}) + G(),                                                       1, 'messages: no messages'),
    ('message_not_object',      G() + B(msgs('hi', A)),                                                          2, 'messages[0]: expected an object with role and content, got string'),
    ('missing_role',            G() + B(msgs({'content': 'hi'}, A)),                                             2, "messages[0]: missing 'role'"),
    ('unknown_role',            G() + G() + B(msgs({'role': 'bot', 'content': 'hi'}, A)),                       3, "messages[0].role: unknown role 'bot'"),
    ('role_not_string',         G() + B(msgs({'role': 1, 'content': 'hi'}, A)),                                  2, 'messages[0].role: role must be a string, got int'),
    ('content_number',          G() + B(msgs(U, {'role': 'assistant', 'content': 42})),                          2, 'messages[1].content: content must be a string, got int'),
    ('content_null',            G() + B(msgs({'role': 'user', 'content': None}, A)),                             2, 'messages[0].content: content must be a string, got null'),
    ('content_empty',           G() + B(msgs(U, {'role': 'assistant', 'content': ''})),                          2, 'messages[1].content: empty content'),
    ('content_whitespace',      G() + B(msgs({'role': 'user', 'content': ' \n\t  '}, A)),                        2, 'messages[0].content: empty content'),
    ('last_not_assistant',      G() + b'\n' + B(msgs(U, A, U)),                                                  3, "messages[2].role: the last message must be the assistant's answer, got 'user'"),
    ('system_not_first',        G() + B(msgs(U, S, A)),                                                          2, 'messages[1].role: a system message may only come first'),
    ('no_user_message',         G() + B(msgs(S, A)),                                                             2, 'no user message before the answer'),
    ('rating_zero',             G() + B(msgs(U, A, rating=0)),                                                   2, 'rating: must be 1-10, got 0'),
    ('rating_eleven',           G() + B(msgs(U, A, rating=11)) + G(),                                            2, 'rating: must be 1-10, got 11'),
    ('rating_string',           G() + B(msgs(U, A, rating='9')),                                                 2, 'rating: must be int or null, got string'),
    ('rating_bool',             G() + B(msgs(U, A, rating=True)),                                                2, 'rating: must be int or null, got boolean'),
    ('rating_float',            G() + B(msgs(U, A, rating=8.5)),                                                 2, 'rating: must be int or null, got float'),
    ('split_test',              G() + B(msgs(U, A, split='test')),                                               2, "split: must be 'train', 'val' or null, got 'test'"),
    ('invalid_utf8',            G() + G() + b'{"messages": [{"role": "user", "content": "caf\xff"}, {"role": "assistant", "content": "x"}]}\n', 3, 'invalid UTF-8'),
    ('metadata_string',         G() + B(msgs(U, A, metadata='notes')),                                           2, 'metadata: must be an object, got string'),
    ('metadata_array',          G() + B(msgs(U, A, metadata=[1, 2])),                                            2, 'metadata: must be an object, got array'),
    ('metadata_empty_array',    G() + B(msgs(U, A, metadata=[])),                                                2, 'metadata: must be an object, got array'),
    ('metadata_false',          G() + B(msgs(U, A, metadata=False)),                                             2, 'metadata: must be an object, got boolean'),
    ('weight_on_user',          G() + B(msgs({'role': 'user', 'content': 'hi', 'weight': 1}, A)),                2, 'messages[0].weight: weight is only allowed on assistant messages'),
    ('weight_two',              G() + B(msgs(U, {'role': 'assistant', 'content': 'x', 'weight': 2})),            2, 'messages[1].weight: weight must be 0 or 1'),
    ('unknown_message_key',     G() + B(msgs({'role': 'user', 'text': 'hi'}, A)),                                2, "messages[0]: unknown key 'text'"),
    ('id_empty',                G() + B(msgs(U, A, id='  ')),                                                    2, 'id: must be a non-empty string'),
    ('bom_crlf_line3',          b'\xef\xbb\xbf' + G(b'\r\n') + G(b'\r\n') + B(msgs({'role': 'robot', 'content': 'hi'}, A)).replace(b'\n', b'\r\n') + G(b'\r\n'),
                                3, "messages[0].role: unknown role 'robot'"),
    ('bom_bad_first_line',      b'\xef\xbb\xbf' + B(msgs(U, A, rating=0)) + G(),                                 1, 'rating: must be 1-10, got 0'),
    ('bad_last_line_no_eol',    G() + G() + b'{"messages": [',                                                   3, 'invalid JSON'),
]
assert len(CASES) >= 18 and len({c[0] for c in CASES}) == len(CASES) and len({c[1] for c in CASES}) == len(CASES)


@pytest.fixture
def seeded(tmp_path):
    "A project with 3 good examples, and the exact bytes of its store"
    p = Project.init(tmp_path/'p')
    for i in range(3): p.add(input=f'seed question {i}', output=f'seed answer {i}')
    store = p.path/'data'/'examples.jsonl'
    return p, store, store.read_bytes()


@pytest.mark.parametrize('name,data,line,msg', CASES, ids=[c[0] for c in CASES])
def test_malformed_jsonl(seeded, tmp_path, name, data, line, msg): _check_malformed(seeded, tmp_path, name, data, line, msg)


def _check_malformed(seeded, tmp_path, name, data, line, msg):
    p, store, before = seeded
    assert len(Project(p.path)) == 3
    path = tmp_path/f'{name}.jsonl'
    path.write_bytes(data)

    # strict: one precise error, nothing stored
    with pytest.raises(DataError) as ei:
        p.import_jsonl(path)
    err = ei.value
    s = str(err)
    assert f'{path}:{line}:' in s, s
    assert msg in s, s
    assert err.line == line and str(err.path) == str(path)
    assert store.read_bytes() == before
    assert len(Project(p.path)) == 3

    # lenient: the good lines go in, exactly one problem is reported, at the right line
    n_lines = sum(1 for raw in data.split(b'\n') if raw.strip())
    n_good = n_lines - 1
    rep = p.import_jsonl(path, strict=False)
    assert len(rep.read.problems) == 1, str(rep)
    prob = rep.read.problems[0]
    assert prob.line == line and f'{path}:{line}:' in str(prob) and msg in str(prob), str(prob)
    assert rep.read.lines == n_lines and rep.read.records == n_good, str(rep.read)
    assert rep.added == n_good and rep.duplicates == 0, str(rep)
    fresh = Project(p.path)
    assert len(fresh) == 3 + n_good
    assert store.read_bytes().startswith(before)
    assert sum(e.source == f'import:{path.name}' for e in fresh) == n_good


# ---------------------------------------------------------------------------------------------------------------
# 2. kill -9 durability
# ---------------------------------------------------------------------------------------------------------------

ADDER = '''
import sys, random
from llmforge.project import Project
p = Project(sys.argv[1])
tag = sys.argv[2]
rnd = random.Random()
len(p)  # load the store before saying ready, so the kill delay is spent adding
print('ready', flush=True)
i = 0
while True:
    # mostly small answers, a few large ones (up to 200 kB) so that a kill can land inside a long write
    n = rnd.randint(1, 4000) if rnd.random() < 0.97 else rnd.randint(20_000, 200_000)
    ex = p.add(input=f'q {tag} {i} {rnd.random()}', output='a ' + 'x' * n)
    sys.stdout.write(ex.id + '\\n'); sys.stdout.flush()
    i += 1
'''

def _check_store(store:Path):
    "Ids of every complete line of the store (all must parse), and the torn last line (b'' if none)"
    data = store.read_bytes()
    end = data.rfind(b'\n') + 1
    ids = [e.id for e in read_examples(store, require_id=True, data=data[:end])]
    return ids, data[end:]


def test_kill9_durability(tmp_path):
    p = Project.init(tmp_path/'p')
    store = p.path/'data'/'examples.jsonl'
    script = tmp_path/'adder.py'
    script.write_text(ADDER)
    rng = random.Random(1234)
    confirmed = set()
    tails, natural, injected = set(), 0, 0  # every torn last line seen; how many came from a kill, how many we made
    t0 = time.time()
    runs = 50
    for run in range(runs):
        if run % 10 == 5:
            # also start some runs from the state a writer killed inside write() leaves: half a line, no newline
            _, tail = _check_store(store)
            if not tail:
                line = Example.new([U, {'role': 'assistant', 'content': f'injected before run {run}'}]).to_json().encode()
                with open(store, 'ab') as f: f.write(line[:len(line)//2])
                tails.add(line[:len(line)//2]); injected += 1
        out = tmp_path/f'out{run}.txt'
        with open(out, 'wb') as f:
            proc = subprocess.Popen([sys.executable, str(script), str(p.path), str(run)], stdout=f, stderr=subprocess.PIPE)
        # wait for the child to be inside its loop, so the delay measures time spent adding
        deadline = time.time() + 30
        while not out.read_bytes().startswith(b'ready\n'):
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.time() < deadline, 'child never became ready'
            time.sleep(0.002)
        time.sleep(rng.uniform(0.005, 0.3))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        err = proc.stderr.read().decode(); proc.stderr.close()
        assert proc.returncode == -signal.SIGKILL, err
        text = out.read_bytes().decode()
        printed = text.split('\n')[1:-1]  # after 'ready'; the last piece is '' or an incomplete id
        confirmed.update(printed)

        ids, tail = _check_store(store)    # every complete line parses
        if tail and tail not in tails: tails.add(tail); natural += 1
        fresh = Project(p.path)
        n = len(fresh)                     # no exception, torn tail ignored
        assert n == len(set(ids)) == len(ids)
        missing = confirmed - set(ids)
        assert not missing, f'run {run}: {len(missing)} acknowledged ids lost, e.g. {sorted(missing)[:3]}'
        assert all(i in fresh.store for i in printed)

    final = Project(p.path)
    ids, tail = _check_store(store)
    assert len(final) == len(set(ids)) == len(ids)
    assert confirmed <= set(ids)
    torn_file = store.with_name(store.name + '.torn')
    moved = torn_file.read_bytes() if torn_file.exists() else b''
    # every torn line but one still at the end was moved aside, whole, by the next writer
    for t in tails - {tail}: assert t + b'\n' in moved, t[:80]
    n_moved = moved.count(b'\n')
    print(f'\nkill -9: {runs} runs in {time.time()-t0:.1f}s, {len(confirmed)} ids confirmed, {len(ids)} examples stored; '
          f'torn tails: {natural} left by a kill, {injected} injected, {n_moved} line(s) in examples.jsonl.torn')


# ---------------------------------------------------------------------------------------------------------------
# 3. Concurrency
# ---------------------------------------------------------------------------------------------------------------

WORKER = '''
import sys, time, os, json
from pathlib import Path
from llmforge.project import Project
proj, start, role, tag, arg = sys.argv[1:6]
p = Project(proj)
len(p)
Path(start + '.' + tag).touch()  # ready
while not os.path.exists(start): time.sleep(0.001)
t = time.time()
if role == 'add':
    for i in range(int(arg)): p.add(input=f'{tag} question {i}', output=f'{tag} answer {i}')
else:
    for i, id in enumerate(json.loads(Path(arg).read_text())): p.rate(id, i % 10 + 1)
print(t, time.time())
'''

def _start(tmp_path, p, *jobs):
    script = tmp_path/'worker.py'
    script.write_text(WORKER)
    start = tmp_path/'start'
    procs = [subprocess.Popen([sys.executable, str(script), str(p.path), str(start), *job],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for job in jobs]
    deadline = time.time() + 60  # let both import and open the project, then release them together
    while not all(Path(f'{start}.{job[1]}').exists() for job in jobs):
        for proc in procs: assert proc.poll() is None, proc.communicate()[1]
        assert time.time() < deadline, 'workers never became ready'
        time.sleep(0.005)
    t = time.time()
    start.touch()
    spans = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        spans.append(tuple(map(float, out.split())))
    # the barrier worked: each process was still working when the other one started
    assert max(a for a, b in spans) < min(b for a, b in spans), spans
    return time.time() - t, [f'{b-a:.2f}s' for a, b in spans]


def _switches(store:Path, key)->int:
    "How often the writer changes between consecutive lines of the store (how finely the two processes interleaved)"
    tags = [key(json.loads(l)) for l in store.read_bytes().splitlines()]
    return sum(a != b for a, b in zip(tags, tags[1:]))


def test_two_processes_add(tmp_path):
    p = Project.init(tmp_path/'p')
    store = p.path/'data'/'examples.jsonl'
    wall, times = _start(tmp_path, p, ('add', 'A', '1000'), ('add', 'B', '1000'))
    fresh = Project(p.path)
    exs = list(fresh)
    assert len(fresh) == 2000
    assert len({e.id for e in exs}) == 2000
    prompts = [e.prompt for e in exs]
    expected = {f'{t} question {i}' for t in 'AB' for i in range(1000)}
    assert len(prompts) == len(set(prompts)) == 2000 and set(prompts) == expected
    assert {e.response for e in exs} == {f'{t} answer {i}' for t in 'AB' for i in range(1000)}
    data = store.read_bytes()
    assert data.endswith(b'\n') and data.count(b'\n') == 2000
    assert len(list(read_examples(store, require_id=True))) == 2000
    sw = _switches(store, lambda d: d['messages'][0]['content'][0])
    print(f'\n2 x 1000 concurrent adds: {wall:.2f}s wall, per process {times}, {sw} writer switches in the file')


def test_add_while_rating(tmp_path):
    p = Project.init(tmp_path/'p')
    pre = p.add_many([{'messages': [{'role': 'user', 'content': f'old question {i}'}, {'role': 'assistant', 'content': f'old answer {i}'}]}
                      for i in range(200)])
    ids = [e.id for e in pre]
    idfile = tmp_path/'ids.json'
    idfile.write_text(json.dumps(ids))
    wall, times = _start(tmp_path, p, ('add', 'N', '500'), ('rate', 'R', str(idfile)))
    fresh = Project(p.path)
    exs = {e.id: e for e in fresh}
    assert len(exs) == 700
    for i, id in enumerate(ids):
        e = exs[id]
        assert e.rating == i % 10 + 1 and e.version == 2, (id, e.rating, e.version)
        assert e.prompt == f'old question {i}' and e.response == f'old answer {i}'
    new = [e for e in exs.values() if e.id not in set(ids)]
    assert sorted(e.prompt for e in new) == sorted(f'N question {i}' for i in range(500))
    assert all(e.rating is None and e.version == 1 for e in new)
    store = p.path/'data'/'examples.jsonl'
    assert store.read_bytes().count(b'\n') == 900  # 200 + 500 + 200 new versions, no compaction below 1000 superseded
    sw = _switches(store, lambda d: d['version'])
    print(f'\n500 adds while 200 ratings: {wall:.2f}s wall, per process {times}, {sw} writer switches in the file')


# ---------------------------------------------------------------------------------------------------------------
# 4. Lines Python's json module accepts but that cannot be stored as standard JSON in UTF-8
# ---------------------------------------------------------------------------------------------------------------

UNSTORABLE_CASES = [
    # a JSON escape for a lone UTF-16 surrogate decodes to a str that cannot be encoded as UTF-8
    ('lone_surrogate_escape',   G() + b'{"messages": [{"role": "user", "content": "bad \\ud800 text"}, {"role": "assistant", "content": "x"}]}\n' + G(),
                                2, 'messages[0].content'),
    # deep nesting that the stdlib cannot decode or encode without running out of recursion
    ('deeply_nested_json',      G() + b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x"}], "metadata": {"a": '
                                + b'[' * 5000 + b']' * 5000 + b'}}\n', 2, 'nested too deeply'),
]

@pytest.mark.parametrize('name,data,line,msg', UNSTORABLE_CASES, ids=[c[0] for c in UNSTORABLE_CASES])
def test_malformed_jsonl_unstorable(seeded, tmp_path, name, data, line, msg): _check_malformed(seeded, tmp_path, name, data, line, msg)


def test_add_rejects_text_that_cannot_be_stored(tmp_path):
    "A lone surrogate in `Project.add` should be a DataError naming the field, like every other bad value"
    p = Project.init(tmp_path/'p')
    with pytest.raises(DataError, match=r'messages\[0\]\.content'):
        p.add(input='bad \ud800 text', output='x')
    assert len(Project(p.path)) == 0
