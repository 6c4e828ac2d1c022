"""Function-calling data end to end: stored, validated, counted, exported in OpenAI's and Together's formats, rendered
through a template that shows the tools and calls, and trained with loss on the assistant's tool-call turns."""
import json, os, subprocess, sys
from pathlib import Path
import pytest

from llmforge.core import Example, LLMForgeError
from llmforge.project import Project, check_openai_record, check_together_record

ENV = {**os.environ, 'NO_COLOR': '1', 'HF_HUB_OFFLINE': '1'}
WEATHER = [{'type': 'function', 'function': {'name': 'get_weather', 'description': 'Current weather in a city',
            'parameters': {'type': 'object', 'properties': {'city': {'type': 'string'}}, 'required': ['city']}}}]
CITIES = ['Lisbon', 'Oslo', 'Cairo', 'Lima', 'Hanoi', 'Quito', 'Perth', 'Tunis']

def record(i:int, city:str)->dict:
    call = {'id': f'call_{i}', 'type': 'function', 'function': {'name': 'get_weather', 'arguments': json.dumps({'city': city})}}
    return {'tools': WEATHER, 'messages': [
        {'role': 'user', 'content': f'Do I need an umbrella in {city} today?'},
        {'role': 'assistant', 'content': None, 'tool_calls': [call]},
        {'role': 'tool', 'tool_call_id': f'call_{i}', 'content': json.dumps({'sky': 'rain' if i % 2 else 'sun'})},
        {'role': 'assistant', 'content': f'{"Yes, it rains" if i % 2 else "No, it is sunny"} in {city}.'}]}

def llmforge(*a, **kw):
    return subprocess.run([sys.executable, '-m', 'llmforge', *map(str, a)], capture_output=True, text=True, timeout=300, env=ENV, **kw)

@pytest.fixture
def data(tmp_path):
    f = tmp_path/'fc.jsonl'
    f.write_text(''.join(json.dumps(record(i, c)) + '\n' for i,c in enumerate(CITIES)))
    return f

def test_stored_validated_counted_and_exported(data, tmp_path):
    p = Project.init(tmp_path/'p')
    assert llmforge('add', '-p', p.path, '--jsonl', data).returncode == 0
    assert llmforge('validate', data).returncode == 0
    st = json.loads(llmforge('stats', '-p', p.path, '--json').stdout)
    assert st['total'] == 8 and st['tool_calling'] == 8
    ex = next(iter(Project(p.path)))
    assert ex.tools == WEATHER and ex.messages[1].tool_calls[0]['function']['name'] == 'get_weather'
    for e in Project(p.path): Project(p.path).rate(e.id, 9)
    Project(p.path).split()
    for fmt, check in (('openai', check_openai_record), ('together', check_together_record)):
        r = llmforge('format', '-p', p.path, '--to', fmt, '--out', tmp_path/fmt)
        assert r.returncode == 0, r.stderr
        recs = [json.loads(l) for f in ('train', 'val') for l in (tmp_path/fmt/f'{f}.jsonl').read_text().splitlines()]
        assert len(recs) == 8
        for d in recs:
            check(d)
            assert d['tools'] == WEATHER and 'content' not in d['messages'][1] and d['messages'][1]['tool_calls']
            assert d['messages'][2] == {'role': 'tool', 'content': d['messages'][2]['content'], 'tool_call_id': d['messages'][1]['tool_calls'][0]['id']}

def test_bad_function_calling_lines_are_named_the_same_by_add_and_validate(tmp_path):
    bad = record(0, 'Oslo'); bad['messages'][2]['tool_call_id'] = 'call_9'
    (tmp_path/'bad.jsonl').write_text(json.dumps(bad) + '\n')
    p = Project.init(tmp_path/'p')
    a, v = llmforge('add', '-p', p.path, '--jsonl', tmp_path/'bad.jsonl'), llmforge('validate', tmp_path/'bad.jsonl')
    assert a.returncode == 1 and "bad.jsonl:1: messages[2].tool_call_id: answers tool call 'call_9'" in a.stderr, a.stderr
    assert v.returncode == 1 and "answers tool call 'call_9'" in v.stdout, v.stdout

def test_tool_calls_are_rendered_and_trained(data):
    from llmforge.templates import tiny_tokenizer, set_template
    from llmforge.train import encode_chat
    tok = tiny_tokenizer()
    ex = Example.from_dict(json.loads(data.read_text().splitlines()[1]))
    with pytest.raises(LLMForgeError, match='does not render tool calls'): encode_chat(tok, ex.messages, 512, ex.tools)   # plain ChatML drops them
    set_template(tok, 1, tools=True)
    enc = encode_chat(tok, ex.messages, 512, ex.tools)
    trained = tok.decode([t for t,l in zip(enc['input_ids'], enc['labels']) if l != -100])
    assert '<tool_call>' in trained and '"get_weather"' in trained and '"Oslo"' in trained and 'Yes, it rains in Oslo.' in trained
    assert 'rain"}' not in trained.split('</tool_call>')[1].split('Yes')[0]       # the tool's answer is context, not a target
    assert 'get_weather' in tok.decode(enc['input_ids']).split('<|im_start|>user')[0]   # the tools are shown to the model

def test_training_from_a_config_on_function_calling_data(data, tmp_path):
    from llmforge.models import tiny_model
    tiny_model(tmp_path/'base')
    (tmp_path/'t.yaml').write_text(f'kind: train\nstage: 1\nbase_model: base\ndata: {data}\noutput_dir: out\n'
                                   'training: {batch_size: 4, learning_rate: 0.003, max_seq_len: 512, max_steps: 3}\n')
    r = llmforge('train', tmp_path/'t.yaml', '--json')
    assert r.returncode == 0, r.stderr[-1500:]
    assert json.loads(r.stdout)['steps'] == 3 and (tmp_path/'out'/'adapter').exists()
    assert '<tool_call>' in json.loads((tmp_path/'out'/'adapter'/'tokenizer_config.json').read_text()).get('chat_template', '') or \
           '<tool_call>' in (tmp_path/'out'/'adapter'/'chat_template.jinja').read_text()     # the template travels with the adapter
