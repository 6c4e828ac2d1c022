"""`llmforge serve` as a process on 127.0.0.1, driven by OpenAI's own Python client: the tiny model and two random LoRA
adapters, whole and streamed answers, /v1/models, API keys, rate limits, malformed and oversized bodies, the refused
bind without keys, and SIGTERM during an answer."""
import json, os, signal, subprocess, sys, threading, time
from pathlib import Path
import pytest

pytest.importorskip('fastapi')
pytest.importorskip('uvicorn')
pytest.importorskip('peft')
openai = pytest.importorskip('openai')
import httpx

KEY,FLOOD_KEY = 'sk-team-alpha','sk-team-flood'
MAX_BODY = 65536
# `llmforge serve ...` through the CLI group's own `register`, so this runs whether or not GROUPS lists it yet
LAUNCH = ('import argparse, sys\n'
          'from llmforge.cli.base import dispatch\n'
          'from llmforge.cli import serve\n'
          "P = argparse.ArgumentParser(prog='llmforge')\n"
          "serve.register(P.add_subparsers(dest='command'))\n"
          "sys.exit(dispatch(P, ['serve'] + sys.argv[1:]))\n")
MSGS = [{'role': 'system', 'content': 'You write Python.'}, {'role': 'user', 'content': 'Write a function that adds.'}]

def env(keys:str=None)->dict:
    e = {k: v for k,v in os.environ.items() if k != 'LLMFORGE_API_KEYS'} | {'HF_HUB_OFFLINE': '1'}
    return e | ({'LLMFORGE_API_KEYS': keys} if keys else {})

class Server:
    "`llmforge serve` in a child process; its stdout lines are collected by a thread"
    def __init__(self, *args, keys:str=None):
        self.p = subprocess.Popen([sys.executable, '-c', LAUNCH, *map(str, args)], env=env(keys), text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines,self.ready = [],threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        if not self.ready.wait(120) or not self.lines or not self.lines[-1].startswith('serving '):
            self.p.kill()
            raise AssertionError(f'the server did not start: {self.lines} {self.p.stderr.read()[-2000:]}')
        self.url = self.lines[-1].rsplit(' at ', 1)[1]

    def _read(self):
        for line in self.p.stdout:
            self.lines.append(line.rstrip('\n'))
            if line.startswith('serving '): self.ready.set()
        self.ready.set()

    def client(self, key=KEY, **kw): return openai.OpenAI(base_url=self.url, api_key=key, max_retries=0, **kw)

    def stop(self)->int:
        if self.p.poll() is None: self.p.send_signal(signal.SIGTERM)
        try: return self.p.wait(60)
        finally:
            if self.p.poll() is None: self.p.kill()

@pytest.fixture(scope='module')
def folders(tmp_path_factory):
    "The tiny model's folder and two LoRA adapters on it with random B matrices, so each changes the answers"
    import torch
    from peft import LoraConfig, get_peft_model
    from llmforge.models import tiny_model, quiet_libraries
    root = tmp_path_factory.mktemp('serve')
    with quiet_libraries():
        tiny_model(root/'tiny')
        for i,(role,r) in enumerate([('coder', 4), ('reviewer', 8)]):
            m,_ = tiny_model()
            torch.manual_seed(i + 1)
            cfg = LoraConfig(r=r, lora_alpha=2 * r, target_modules=['q_proj', 'v_proj'], init_lora_weights=False)
            get_peft_model(m, cfg).save_pretrained(str(root/role))
    return root

@pytest.fixture(scope='module')
def server(folders):
    s = Server(folders/'tiny', '--port', 0, '--adapters', folders/'coder', folders/'reviewer', '--rate-limit', 6,
               '--burst', 30, '--max-body', MAX_BODY, keys=f'{KEY},{FLOOD_KEY}')
    yield s
    s.stop()

def ask(client, model, **kw):
    return client.chat.completions.create(model=model, messages=MSGS, **{'temperature': 0, 'max_tokens': 8} | kw)

def test_startup_lines(server):
    assert server.lines[0] == '2 API keys from LLMFORGE_API_KEYS: every request needs `Authorization: Bearer KEY`'
    assert server.lines[1].startswith('serving tiny, tiny:coder, tiny:reviewer at http://127.0.0.1:')

def test_models_lists_base_and_adapters(server):
    assert [m.id for m in server.client().models.list()] == ['tiny', 'tiny:coder', 'tiny:reviewer']

def test_adapters_change_answers_deterministically(server):
    c = server.client()
    models = ('tiny', 'tiny:coder', 'tiny:reviewer')
    texts = {m: [ask(c, m).choices[0].message.content for _ in range(2)] for m in models}
    assert all(a == b and a for a,b in texts.values()), texts                  # temperature 0: the same answer twice
    assert len({a for a,_ in texts.values()}) == 3, texts                      # each adapter answers differently
    r = ask(c, 'tiny:coder')
    assert (r.model, r.choices[0].finish_reason, r.usage.completion_tokens) == ('tiny:coder', 'length', 8)

def test_stream_reassembles_to_the_whole_answer(server):
    c = server.client()
    whole = ask(c, 'tiny:reviewer').choices[0].message.content
    chunks = list(ask(c, 'tiny:reviewer', stream=True, stream_options={'include_usage': True}))
    assert chunks[0].choices[0].delta.role == 'assistant'
    assert ''.join(ch.choices[0].delta.content or '' for ch in chunks if ch.choices) == whole
    assert [ch.choices[0].finish_reason for ch in chunks if ch.choices][-1] == 'length'
    assert chunks[-1].usage.completion_tokens == 8 and len({ch.id for ch in chunks}) == 1

def test_stop_sequence_cuts_whole_and_streamed_answers_alike(server):
    c = server.client()
    whole = ask(c, 'tiny').choices[0].message.content
    stop = whole.split()[1]
    cut = ask(c, 'tiny', stop=[stop])
    streamed = ''.join(ch.choices[0].delta.content or '' for ch in ask(c, 'tiny', stop=[stop], stream=True))
    assert cut.choices[0].message.content == streamed == whole[:whole.index(stop)]
    assert cut.choices[0].finish_reason == 'stop'

def test_wrong_and_missing_key_get_401(server):
    with pytest.raises(openai.AuthenticationError) as e: server.client('sk-wrong').models.list()
    assert e.value.status_code == 401 and e.value.body['code'] == 'invalid_api_key'
    r = httpx.post(f'{server.url}/chat/completions', json={'model': 'tiny', 'messages': MSGS})
    assert r.status_code == 401 and r.json()['error']['type'] == 'authentication_error'
    assert 'You did not provide an API key' in r.json()['error']['message']

def test_unknown_model_404(server):
    with pytest.raises(openai.NotFoundError) as e: ask(server.client(), 'tiny:tester')
    assert 'this server has: tiny, tiny:coder, tiny:reviewer' in e.value.body['message']

def test_flood_gets_429_with_retry_after(server):
    c = server.client(FLOOD_KEY)
    codes,retry = [],None
    for _ in range(45):
        r = httpx.get(f'{server.url}/models', headers={'Authorization': f'Bearer {FLOOD_KEY}'})
        codes.append(r.status_code)
        if r.status_code == 429: retry = r.headers['retry-after']
    assert codes[:30] == [200] * 30 and codes.count(429) >= 14, codes     # a burst of 30, then one per 10 s
    assert retry.isdigit() and int(retry) >= 1
    with pytest.raises(openai.RateLimitError) as e: c.models.list()
    assert e.value.body['code'] == 'rate_limit_exceeded'
    assert [m.id for m in server.client(KEY).models.list()][0] == 'tiny'     # the other key has its own bucket

def test_malformed_body_and_bad_fields_get_400(server):
    h = {'Authorization': f'Bearer {KEY}', 'Content-Type': 'application/json'}
    r = httpx.post(f'{server.url}/chat/completions', content=b'{"model": "tiny", "messages": [', headers=h)
    assert r.status_code == 400 and r.json()['error']['message'].startswith('The body is not valid JSON')
    with pytest.raises(openai.BadRequestError) as e:
        server.client().chat.completions.create(model='tiny', messages=[{'role': 'robot', 'content': 'hi'}])
    assert e.value.body['param'] == 'messages[0].role'
    with pytest.raises(openai.BadRequestError) as e: ask(server.client(), 'tiny', temperature=3)
    assert e.value.body['param'] == 'temperature'

def test_oversized_body_gets_413(server):
    body = json.dumps({'model': 'tiny', 'messages': [{'role': 'user', 'content': 'x' * (2 * MAX_BODY)}]})
    r = httpx.post(f'{server.url}/chat/completions', content=body, headers={'Authorization': f'Bearer {KEY}'})
    assert r.status_code == 413 and r.json()['error']['code'] == 'request_too_large'
    assert f'this server takes at most {MAX_BODY}' in r.json()['error']['message']

def test_refuses_a_public_bind_without_keys(folders):
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, '-c', LAUNCH, str(folders/'tiny'), '--host', '0.0.0.0', '--port', '0'],
                       env=env(), capture_output=True, text=True, timeout=120)
    assert p.returncode == 1 and p.stdout == '', (p.returncode, p.stdout, p.stderr)
    assert p.stderr.strip().splitlines() == [
        'llmforge serve: error: refusing to listen on 0.0.0.0 without API keys: set LLMFORGE_API_KEYS=KEY1,KEY2 '
        '(clients send `Authorization: Bearer KEY`), or keep the default --host 127.0.0.1']

def test_sigterm_finishes_the_answer_in_flight_and_exits_0(folders):
    s = Server(folders/'tiny', '--port', 0)   # no keys: loopback only; no adapters: peft is not even imported
    assert s.lines[0] == 'LLMFORGE_API_KEYS is not set: listening on 127.0.0.1 only, without authentication'
    chunks = []
    for ch in ask(s.client('unused'), 'tiny', max_tokens=32, stream=True, stream_options={'include_usage': True}):
        if len(chunks) == 2: s.p.send_signal(signal.SIGTERM)    # the answer is being generated
        chunks.append(ch)
    assert [ch.choices[0].finish_reason for ch in chunks if ch.choices][-1] == 'length'   # it was finished
    assert chunks[-1].usage.completion_tokens == 32
    assert s.p.wait(60) == 0
    assert s.lines[-1] == 'stopped'
