"""The agents' orchestrator end to end: a scripted policy through success, a review rejection then success, tool
errors, a timeout, running out of turns and a rollback to the last approved step; the token budget of briefings; the
loop switching a real AdapterPool; and the plumbing with the real SmolLM2 (its GGUF, through llama.cpp)."""
import json, os, random, time
import pytest
from llmforge.agents.loop import ContextWindow, Orchestrator, ScriptedPolicy, default_roles
from llmforge.agents.tools import Workspace
from llmforge.templates import tiny_tokenizer

os.environ.setdefault('HF_HUB_OFFLINE', '1')
CALC = 'def add(a, b):\n    return a + b\n'
TEST = 'from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n'

def call(tool, **args): return f'Thought: go.\nAction: {tool}\nAction Input: {json.dumps(args)}'
def json_call(tool, **args): return '```json\n' + json.dumps({'tool': tool, 'arguments': args}) + '\n```'

class FakePool:
    "Stands in for an AdapterPool: records what it is asked to activate"
    def __init__(self): self.calls, self.active = [], None
    def activate(self, name):
        self.calls.append(name)
        self.active = name
        return self

@pytest.fixture
def ws(tmp_path): return Workspace(tmp_path/'ws')

@pytest.fixture(scope='module')
def tok(): return tiny_tokenizer()

@pytest.fixture(scope='module')
def tiny():
    from llmforge.models import tiny_model
    return tiny_model()

def test_success_plan_route_tools_review(ws, tok, capsys):
    pool = FakePool()
    script = {'planner': ['Final Answer:\n1. [coder] Write add(a, b) in calc.py\n2. [coder] Check add with a test'],
              'coder': [json_call('write_file', path='calc.py', content=CALC), 'Final Answer: written'],
              'tester': [call('write_file', path='test_calc.py', content=TEST), call('run_tests'), 'Final Answer: ok'],
              'reviewer': [call('lint'), 'Final Answer: Verdict: approve', call('run_tests', path='test_calc.py'),
                           'Final Answer: LGTM, it passes']}
    roles = default_roles({'coder': 'coder-lora', 'tester': 'tester-lora', 'reviewer': 'reviewer-lora'})
    policy = ScriptedPolicy(script)
    trace = Orchestrator(policy, ws, roles, activate=pool, window=ContextWindow(tok, 1024)).run('add with a test')
    assert trace.status == 'done', str(trace)
    assert (ws.root/'calc.py').read_text() == CALC and (ws.root/'test_calc.py').read_text() == TEST
    assert [e.role for e in trace.of('route')] == ['coder', 'tester']           # rule 'test' beat the planner
    assert trace.of('route')[1].observation == "rule: 'test' -> tester"
    assert pool.calls == [None, 'coder-lora', 'reviewer-lora', 'tester-lora', 'reviewer-lora']
    runs = [e.observation for e in trace.of('turn') if e.tool == 'run_tests']
    assert all(r.startswith('exit 0') and 'PASS' in r for r in runs), runs
    assert trace.of('turn')[3].observation == 'ruff: no problems found'
    assert policy.left() == {} and trace.turns == 10
    assert '+def add(a, b):' in trace.diff and '| review | reviewer |' in trace._repr_markdown_()
    trace.show()                                                                  # no IPython here: the full text
    assert 'observation: ruff: no problems found' in capsys.readouterr().out

def test_rejection_then_success_carries_the_critique(ws):
    seen = []
    def retry(msgs):
        seen.append(msgs[1]['content'])
        return call('write_file', path='calc.py', content=CALC)
    script = {'coder': [call('write_file', path='calc.py', content=CALC.replace('+', '*')), 'Final Answer: done',
                        retry, 'Final Answer: fixed'],
              'reviewer': ['Final Answer: Verdict: reject. add(2, 3) is 6; it must be 5.', 'Final Answer: approved']}
    trace = Orchestrator(ScriptedPolicy(script), ws, planner=None).run('Write add in calc.py')
    assert trace.status == 'done'
    assert [e.verdict for e in trace.of('review')] == ['reject', 'approve']
    assert 'add(2, 3) is 6; it must be 5.' in seen[0]
    assert (ws.root/'calc.py').read_text() == CALC

def test_tool_errors_are_observations_and_nothing_leaks(ws, tmp_path):
    secret = tmp_path/'secret.txt'
    secret.write_text('TOKEN')
    (ws.root/'link').symlink_to(tmp_path)
    script = {'coder': [call('read_file', path=str(secret)), call('read_file', path='link/secret.txt'),
                        call('write_file', path='../evil.py', content='x'), call('write_file', path='a.py'),
                        'Action: read_file\nAction Input: {"path": }', call('rm_rf', path='.'),
                        call('run_tests'), call('write_file', path='a.py', content='x = 1\n'), 'Final Answer: done']}
    trace = Orchestrator(ScriptedPolicy(script), ws, planner=None, reviewer=None).run('Make a.py')
    obs = [e.observation for e in trace.of('turn')]
    assert trace.status == 'done'
    assert "is absolute" in obs[0] and 'symlink leading outside' in obs[1] and "uses '..'" in obs[2]
    assert "'content' is a required property" in obs[3]
    assert 'is not a JSON object' in obs[4]
    assert "cannot call 'rm_rf'" in obs[5] and "cannot call 'run_tests'" in obs[6]
    assert not any('TOKEN' in o for o in obs)
    assert not (tmp_path/'evil.py').exists() and (ws.root/'a.py').read_text() == 'x = 1\n'

def test_arguments_checked_without_jsonschema_too(ws, monkeypatch):
    import llmforge.agents.tools as tools
    write = tools.workspace_tools(ws)['write_file']
    for checker in ('jsonschema', 'builtin'):
        monkeypatch.setattr(tools, 'schema_checker', lambda: checker)
        for bad, says in [({'path': 'a.py'}, "'content' is a required property"), ({'path': ['a'], 'content': ''},
                          "is not of type 'string'"), ({'path': 'a', 'content': '', 'x': 1}, "'x'")]:
            with pytest.raises(tools.ToolError, match=says): write(bad)
    assert ws.snapshot() == {}

def test_timeout_ends_the_task_and_rolls_back(ws):
    (ws.root/'calc.py').write_text(CALC)
    def slow(msgs):
        time.sleep(0.4)
        return call('write_file', path='calc.py', content='broken')
    t = time.monotonic()
    trace = Orchestrator(ScriptedPolicy({'coder': [slow] * 10}), ws, planner=None, timeout=1).run('Rewrite calc.py')
    assert trace.status == 'timeout' and time.monotonic() - t < 2
    assert trace.of('turn')[-1].observation == 'not run: the task ran past 1 s'
    assert (ws.root/'calc.py').read_text() == CALC
    assert trace.events[-1].text == 'the task ran past 1 s'

def test_out_of_turns(ws):
    trace = Orchestrator(ScriptedPolicy({'planner': ['1. [coder] write x'], 'coder': [call('list_files')] * 9}),
                         ws, max_turns=4).run('Loop forever')
    assert (trace.status, trace.turns) == ('out of turns', 4)

def test_rollback_keeps_the_last_approved_step(ws):
    (ws.root/'old.py').write_text('old\n')
    step2 = [call('write_file', path='calc.py', content='def add(a, b):\n    return 0\n'),
             call('write_file', path='pkg/new/mod.py', content='x = 1\n'),
             call('write_file', path='old.py', content=''),
             'Final Answer: done']
    script = {'planner': ['1. [coder] write add\n2. [debugger] fix the failing add'],
              'coder': [call('write_file', path='calc.py', content=CALC), 'Final Answer: done'],
              'debugger': step2 * 2,
              'reviewer': ['Final Answer: Verdict: approve'] + ['Final Answer: Verdict: reject. add returns 0'] * 2}
    trace = Orchestrator(ScriptedPolicy(script), ws).run('add, then break it')
    assert trace.status == 'rejected'
    assert [e.verdict for e in trace.of('review')] == ['approve', 'reject', 'reject']
    assert trace.of('rollback')[0].text == 'calc.py, old.py, pkg/new/mod.py'
    assert ws.snapshot() == {'calc.py': CALC.encode(), 'old.py': b'old\n'}       # step 1's state, no empty pkg/
    assert not (ws.root/'pkg').exists()

def test_briefings_never_exceed_the_token_budget(tok):
    rng = random.Random(1)
    words = 'def return é 數 {"a": 1} \n\n    Observation: Action: ```'.split(' ') + ['x' * 40]
    text = lambda n: ' '.join(rng.choice(words) for _ in range(rng.randrange(n + 1)))
    for i in range(150):
        w = ContextWindow(tok if i % 2 else None, budget=rng.choice([64, 65, 128, 500, 2000]))
        hist = [(text(400), text(800)) for _ in range(rng.randrange(10))]
        msgs = w.messages(text(1500), text(1500), hist, {f'f{k}.py': text(900) for k in range(rng.randrange(5))})
        assert w.tokens(msgs) <= w.budget, (i, w.budget, w.tokens(msgs))
        assert [m['role'] for m in msgs[:2]] == ['system', 'user']
        assert [m['role'] for m in msgs[2:]] == ['assistant', 'user'] * ((len(msgs) - 2) // 2)

def check_plumbing(trace, budget, timeout, max_turns):
    "What holds whatever a real model says: its words in every turn, briefings within budget, budgets obeyed"
    print(trace)
    turns = trace.of('turn')
    assert trace.status in ('done', 'rejected', 'out of turns', 'timeout') and 1 <= trace.turns <= max_turns
    assert turns[0].role == 'planner' and all(e.text.strip() for e in turns)   # the model's own words
    assert all(int(e.prompt.split()[0]) <= budget for e in turns)               # counted with its tokenizer
    assert all(e.at <= timeout for e in turns)                                    # no turn starts past the timeout
    if trace.turns > 1: assert trace.of('plan') and trace.of('route')
    if trace.status == 'out of turns': assert trace.turns == max_turns

def test_real_hf_model_plumbing(ws, tiny):
    "The tiny model through HFPredictor: real generated text is parsed, planned, routed and bounded"
    from llmforge.evaluation import HFPredictor
    policy = HFPredictor(*tiny, max_new_tokens=16)
    trace = Orchestrator(policy, ws, max_turns=4, timeout=30).run('Write add(a, b) in calc.py')
    assert trace.turns == 4 and trace.status == 'out of turns'     # gibberish is a final answer: every turn counts
    check_plumbing(trace, 2048, 30, 4)                               # the window took the predictor's tokenizer
    assert ws.snapshot() == {}

@pytest.mark.skipif(not os.environ.get('LLMFORGE_SLOW'), reason='SmolLM2 on a loaded CPU: set LLMFORGE_SLOW=1')
def test_smollm2_plumbing(ws):
    "SmolLM2-135M through llama.cpp, a 4-turn budget: it solves nothing, but its text flows through the loop"
    pytest.importorskip('llama_cpp')
    from llmforge.models import embedded_gguf, load_tokenizer
    from llmforge.quantizers.verify import GGUFPredictor
    from llmforge.core import LLMForgeError
    try: gguf, tk = embedded_gguf('smollm2-135m-instruct'), load_tokenizer('smollm2-135m-instruct')
    except LLMForgeError as e: pytest.skip(str(e))
    model = GGUFPredictor(gguf, max_new_tokens=48)
    try: trace = Orchestrator(model, ws, window=ContextWindow(tk, 1024), max_turns=4, timeout=45).run(
            'Write a function add(a, b) that returns a + b in calc.py')
    finally: model.close()
    check_plumbing(trace, 1024, 45, 4)
    if not any(e.verdict == 'approve' for e in trace.of('review')): assert ws.snapshot() == {}

def test_the_loop_switches_a_real_adapter_pool(ws, tmp_path, tiny):
    pytest.importorskip('peft')
    pool_mod = pytest.importorskip('llmforge.agents.pool')   # runs last: the pool adds LoRA layers to the tiny base
    base, tk = tiny
    pool = pool_mod.AdapterPool(base)
    for i, name in enumerate(['coder', 'reviewer']):
        pool.register(name, pool_mod.random_adapter(base, tmp_path/name, seed=i))
    spoke = []
    def policy(msgs, role):
        spoke.append((role, pool.active))
        return {'coder': 'Final Answer: done', 'reviewer': 'Final Answer: approve'}[role]
    roles = default_roles({'coder': 'coder', 'reviewer': 'reviewer'})
    trace = Orchestrator(policy, ws, roles, activate=pool, planner=None, window=ContextWindow(tk, 512)).run('x')
    assert trace.status == 'done' and spoke == [('coder', 'coder'), ('reviewer', 'reviewer')]

def test_recipe_trains_the_tools_the_loop_runs(tmp_path):
    "The coding-agent recipe's trajectories call tools that exist, in the format the loop parses, with valid arguments"
    from llmforge.agents.loop import parse_action
    from llmforge.agents.tools import workspace_tools, check_arguments
    from llmforge.generate.recipes import AGENT_TOOLS, CodingAgent
    from llmforge.generate.server import recipe_answer
    tools = workspace_tools(Workspace(tmp_path))
    assert set(AGENT_TOOLS) == set(tools)
    agent = CodingAgent({'coder': 1, 'debugger': 1})
    for it in agent.items(2, seed=3):
        answer = recipe_answer('', it.request.messages)
        msgs = agent.parse(it, answer)[0]['messages']
        calls = [parse_action(m['content']) for m in msgs[2:-1] if m['role'] == 'assistant']
        assert calls and all(a.tool in tools and not a.error for a in calls), calls
        for a in calls: check_arguments(a.arguments, tools[a.tool].parameters, a.tool)
        assert parse_action(msgs[-1]['content']).final is not None
